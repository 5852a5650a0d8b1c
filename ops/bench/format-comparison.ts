/** Scenario 9's Parquet output and its figures against the JSON Lines writer's (scenario 3). Pure. */
import type { JsonLinesComparison, LargeFileFigures, WorkerFileFigures } from './results.ts';
import type { ListedObject } from './s3-objects.ts';
import { ratio } from './statistics.ts';

/** Distinct partitions (`dt=YYYY-MM-DD`, `dt=unknown`) of objects listed under `prefix`; refuses a key outside one. */
export function parquetPartitions(objects: readonly ListedObject[], prefix: string): number {
  const partitions = new Set<string>();
  for (const { key } of objects) {
    const relative = key.slice(prefix.length);
    const slash = relative.indexOf('/');
    if (!key.startsWith(prefix) || !relative.startsWith('dt=') || slash === -1 || !key.endsWith('.parquet')) {
      throw new Error(`${key} is not a Parquet object in a dt= partition under "${prefix}"`);
    }
    partitions.add(relative.slice(0, slash));
  }
  return partitions.size;
}

/** The Parquet run's figures over the JSON Lines run's; null when the JSON Lines run did not happen. */
export function compareWithJsonLines(parquet: WorkerFileFigures, parquetBytes: number, jsonLines: LargeFileFigures | undefined): JsonLinesComparison | null {
  if (jsonLines === undefined) return null;
  return {
    recordsPerSecond: ratio(parquet.recordsPerSecond, jsonLines.recordsPerSecond),
    cpuSecondsPerMillionRecords: ratio(parquet.cpuSecondsPerMillionRecords, jsonLines.cpuSecondsPerMillionRecords),
    peakRss: ratio(parquet.peakRssBytes, jsonLines.peakRssBytes),
    jsonLinesProcessedBytes: jsonLines.outputs.processed.bytes,
    processedBytes: ratio(parquetBytes, jsonLines.outputs.processed.bytes),
    jsonLinesProfiled: jsonLines.cpuProfile !== undefined,
  };
}
