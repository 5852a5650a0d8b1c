/**
 * The worker's production settings, taken from worker/config.ts itself (so a changed default
 * changes the bench too): the record rules, the line limit and the upload part size and queue.
 */
import { parseConfig, type WorkerConfig } from '../../worker/config.ts';
import { DEFAULT_DEVICE_LOCATIONS } from '../../worker/records/device-registry.ts';
import type { RecordRules } from '../../worker/records/pipeline.ts';

/** Only the required variables set: everything else is the default. */
export const PRODUCTION_CONFIG: WorkerConfig = parseConfig({
  AWS_REGION: 'us-east-1',
  QUEUE_URL: 'http://127.0.0.1/000000000000/bench',
  PROCESSED_BUCKET: 'bench',
});

/** The rules the worker applies with DEVICE_REGISTRY=builtin. */
export function productionRecordRules(): RecordRules {
  return {
    temperatureThresholdCelsius: PRODUCTION_CONFIG.recordRules.temperatureThresholdCelsius,
    unknownLocationId: PRODUCTION_CONFIG.recordRules.unknownLocationId,
    locations: new Map(Object.entries(DEFAULT_DEVICE_LOCATIONS)),
  };
}
