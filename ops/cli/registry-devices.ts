/**
 * Gives generated lines device ids that a device registry knows, so that the worker's enrichment
 * (`location_id`) shows on generated data, and ids it does not know only at the share asked for.
 *
 * The seeded generator (ops/local/synthetic-data.ts) numbers its devices `sensor-0001` upwards; its
 * device n becomes the registry's n-th device, or for the chosen share of lines `sensor-unregistered-n`.
 * Which lines get an unregistered device is drawn from its own seeded stream, one draw per line, so
 * the rest of each line (values, malformed kind) is the same whatever the share.
 */
import { mulberry32, type GeneratedLine } from '../local/synthetic-data.ts';

export interface DeviceMix {
  /** The registered device ids to use, in order: the generator's device n becomes `registered[n - 1]`. */
  readonly registered: readonly string[];
  /** Every id the registry knows: an unregistered id must not be one of them. */
  readonly registry: ReadonlySet<string>;
  /** Share of lines whose device the registry does not know, 0..1. */
  readonly unknownDeviceRatio: number;
  /** The generator's seed; the unknown-device draws use a stream derived from it. */
  readonly seed: number;
}

/** Whether a line's device is one the registry knows; `none` when the line has no device id to change. */
export type DeviceKind = 'registered' | 'unregistered' | 'none';

export interface MixedLine extends GeneratedLine {
  readonly device: DeviceKind;
}

/** Keeps the unknown-device draws independent of the generator's own stream for the same seed. */
const UNKNOWN_DEVICE_STREAM = 0x5bd1e995;

/** The generator writes `device_id` first; a line without it (a missing_field line) keeps no device. */
const GENERATED_DEVICE = /^\{"device_id": "sensor-(\d+)"/;

export function unregisteredDeviceId(index: number): string {
  return `sensor-unregistered-${index}`;
}

/** Refuses a mix that could not do what it says: no devices, a bad share, or an id clash. */
export function checkDeviceMix(mix: DeviceMix): void {
  if (mix.registered.length === 0) throw new RangeError('the device registry has no devices to generate');
  const unknownInRegistry = mix.registered.find((id) => !mix.registry.has(id));
  if (unknownInRegistry !== undefined) throw new RangeError(`device ${JSON.stringify(unknownInRegistry)} is not in the registry`);
  if (!(mix.unknownDeviceRatio >= 0 && mix.unknownDeviceRatio <= 1)) {
    throw new RangeError(`unknownDeviceRatio must be within 0..1, got ${mix.unknownDeviceRatio}`);
  }
  const clash = mix.registered.map((_, index) => unregisteredDeviceId(index + 1)).find((id) => mix.registry.has(id));
  if (clash !== undefined) throw new RangeError(`the registry knows ${JSON.stringify(clash)}, the id generated for an unregistered device`);
}

/** The generator's lines, each with its device replaced as the mix says. Generate with `devices: registered.length`. */
export function* withRegistryDevices(lines: Iterable<GeneratedLine>, mix: DeviceMix): Generator<MixedLine> {
  checkDeviceMix(mix);
  const random = mulberry32(mix.seed ^ UNKNOWN_DEVICE_STREAM);
  for (const generated of lines) {
    const unregistered = random() < mix.unknownDeviceRatio;
    const match = GENERATED_DEVICE.exec(generated.line);
    if (match === null) {
      yield { ...generated, device: 'none' };
      continue;
    }
    const index = Number(match[1]);
    const registeredId = mix.registered[index - 1];
    if (registeredId === undefined) throw new Error(`generated device ${index} has no registered device; generate with devices: ${mix.registered.length}`);
    const deviceId = unregistered ? unregisteredDeviceId(index) : registeredId;
    yield {
      line: `{"device_id": ${JSON.stringify(deviceId)}${generated.line.slice(match[0].length)}`,
      kind: generated.kind,
      device: unregistered ? 'unregistered' : 'registered',
    };
  }
}
