/** The registry used when DEVICE_REGISTRY is `builtin`: the devices of the sample data. */
export const DEFAULT_DEVICE_LOCATIONS: Readonly<Record<string, string>> = {
  'sensor-alpha': 'loc-warehouse-a',
  'sensor-beta': 'loc-warehouse-b',
  'sensor-gamma': 'loc-server-room-1',
};
