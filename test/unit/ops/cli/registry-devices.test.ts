import { describe, expect, it } from '@jest/globals';
import { generateLines } from '../../../../ops/local/synthetic-data.ts';
import { checkDeviceMix, withRegistryDevices, type DeviceMix, type MixedLine } from '../../../../ops/cli/registry-devices.ts';
import { DEFAULT_DEVICE_LOCATIONS } from '../../../../worker/records/device-registry.ts';

const REGISTRY = Object.keys(DEFAULT_DEVICE_LOCATIONS);

function mix(overrides: Partial<DeviceMix> = {}): DeviceMix {
  return { registered: REGISTRY, registry: new Set(REGISTRY), unknownDeviceRatio: 0, seed: 11, ...overrides };
}

function mixedLines(records: number, deviceMix: DeviceMix, malformedRatio = 0): MixedLine[] {
  const generated = generateLines({ records, devices: deviceMix.registered.length, seed: deviceMix.seed, malformedRatio });
  return [...withRegistryDevices(generated, deviceMix)];
}

/** The device_id of a line, if the line still parses far enough to have one. */
function deviceOf(line: string): string | undefined {
  return /^\{"device_id": "([^"]*)"/.exec(line)?.[1];
}

describe('registry devices for generated lines', () => {
  it('with no unknown share, every line that has a device has a registered one, malformed lines included', () => {
    const lines = mixedLines(5_000, mix(), 0.2);

    const devices = lines.map((line) => deviceOf(line.line));
    expect(new Set(devices.filter((device) => device !== undefined))).toEqual(new Set(REGISTRY));
    expect(lines.filter((line) => line.device === 'unregistered')).toEqual([]);
    // Only a missing_field line without its device_id has none.
    for (const line of lines.filter((each) => each.device === 'none')) {
      expect(line.kind).toBe('missing_field');
      expect(line.line).not.toContain('device_id');
    }
    expect(lines.filter((line) => line.device === 'none').length).toBeGreaterThan(0);
  });

  it('changes only the device id: values, timestamps and malformed kinds stay the generator’s', () => {
    const generated = [...generateLines({ records: 2_000, devices: 3, seed: 11, malformedRatio: 0.3 })];
    const lines = mixedLines(2_000, mix({ unknownDeviceRatio: 0.5 }), 0.3);

    const withoutDevice = (line: string) => line.replace(/^\{"device_id": "[^"]*"/, '{"device_id": ""');
    expect(lines.map((line) => withoutDevice(line.line))).toEqual(generated.map((line) => withoutDevice(line.line)));
    expect(lines.map((line) => line.kind)).toEqual(generated.map((line) => line.kind));
  });

  it('puts the asked share of lines on unregistered devices, none of which the registry knows', () => {
    for (const [seed, ratio] of [
      [1, 0.1],
      [2, 0.1],
      [3, 0.5],
      [4, 0.02],
    ] as const) {
      const lines = mixedLines(20_000, mix({ seed, unknownDeviceRatio: ratio }));

      const unregistered = lines.filter((line) => line.device === 'unregistered');
      // 20,000 draws: the standard deviation of the share is at most 0.0036.
      expect(Math.abs(unregistered.length / lines.length - ratio)).toBeLessThan(0.015);
      for (const line of unregistered) expect(REGISTRY).not.toContain(deviceOf(line.line));
      expect(new Set(unregistered.map((line) => deviceOf(line.line)))).toEqual(new Set(['sensor-unregistered-1', 'sensor-unregistered-2', 'sensor-unregistered-3']));
    }
  });

  it('is deterministic for a seed, and all devices are unregistered at a share of 1', () => {
    const first = mixedLines(1_000, mix({ unknownDeviceRatio: 0.3 }));
    const again = mixedLines(1_000, mix({ unknownDeviceRatio: 0.3 }));
    const otherSeed = mixedLines(1_000, mix({ unknownDeviceRatio: 0.3, seed: 12 }));
    const allUnknown = mixedLines(1_000, mix({ unknownDeviceRatio: 1 }));

    expect(again).toEqual(first);
    expect(otherSeed).not.toEqual(first);
    expect(allUnknown.every((line) => line.device === 'unregistered')).toBe(true);
  });

  it('uses only the registered devices it is given', () => {
    const lines = mixedLines(1_000, mix({ registered: REGISTRY.slice(0, 2) }));

    expect(new Set(lines.map((line) => deviceOf(line.line)))).toEqual(new Set(REGISTRY.slice(0, 2)));
  });

  it('refuses a mix it cannot honour', () => {
    expect(() => checkDeviceMix(mix({ registered: [] }))).toThrow('no devices');
    expect(() => checkDeviceMix(mix({ registered: ['sensor-omega'] }))).toThrow('"sensor-omega" is not in the registry');
    expect(() => checkDeviceMix(mix({ unknownDeviceRatio: 1.5 }))).toThrow('unknownDeviceRatio must be within 0..1, got 1.5');
    expect(() => checkDeviceMix(mix({ unknownDeviceRatio: Number.NaN }))).toThrow('within 0..1');
    const clashing = new Set([...REGISTRY, 'sensor-unregistered-2']);
    expect(() => checkDeviceMix(mix({ registry: clashing }))).toThrow('the registry knows "sensor-unregistered-2"');
  });
});
