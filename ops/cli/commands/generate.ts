/** `generate`: synthetic sensor JSON Lines, reproducible for a seed. */
import { open, rm } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import type { Command } from 'commander';
import { DEFAULT_START_TIME } from '../../local/synthetic-data.ts';
import { DEFAULT_DEVICE_LOCATIONS } from '../../../worker/records/device-registry.ts';
import type { CommandHost } from '../context.ts';
import { addJsonOption } from '../connection-options.ts';
import { EXIT_CODES, UsageError } from '../exit-codes.ts';
import { formatBytes } from '../format.ts';
import { checkReadingsOptions, writeReadings } from '../generate-readings.ts';
import { anyInteger, ratio, wholeNumber } from '../option-parsers.ts';
import { note, printReport, PROGRESS_UNITS, startProgress, writeLines } from '../output.ts';

interface GenerateFlags {
  readonly records: number;
  readonly devices: number;
  readonly seed: number;
  readonly malformedRatio: number;
  readonly unknownDeviceRatio: number;
  readonly startTime: string;
  readonly gzip?: boolean;
  readonly output?: string;
  readonly json?: boolean;
}

/** The worker's built-in registry (DEVICE_REGISTRY=builtin, its default): generated devices are its devices. */
const REGISTERED_DEVICES = Object.keys(DEFAULT_DEVICE_LOCATIONS);

export function registerGenerateCommand(program: Command, host: CommandHost): void {
  const command = program
    .command('generate')
    .description('write synthetic sensor readings as JSON Lines (same seed and options, same bytes)')
    .option('--records <n>', 'lines to write', wholeNumber(0), 1000)
    .option(
      '--devices <n>',
      `distinct devices, the first n of the worker's built-in registry (${REGISTERED_DEVICES.join(', ')})`,
      wholeNumber(1, REGISTERED_DEVICES.length),
      REGISTERED_DEVICES.length,
    )
    .option('--seed <n>', 'random seed', anyInteger, 1)
    .option('--malformed-ratio <r>', 'share of lines the worker will reject (0 to 1)', ratio, 0)
    .option('--unknown-device-ratio <r>', 'share of lines from devices the registry does not know, sensor-unregistered-<n> (0 to 1)', ratio, 0)
    .option('--start-time <iso>', 'timestamp of the first record; one second more per record', DEFAULT_START_TIME)
    .option('--gzip', 'gzip the output (implied by an --output ending in .gz)')
    .option('-o, --output <file>', 'write to this file instead of stdout');
  addJsonOption(command);
  command.action(async (flags: GenerateFlags) => {
    const { context } = host;
    const json = flags.json === true;
    if (json && flags.output === undefined) throw new UsageError('generate: --json needs --output (stdout carries the data)');
    const readings = { records: flags.records, seed: flags.seed, malformedRatio: flags.malformedRatio, startTime: flags.startTime };
    const mix = {
      registered: REGISTERED_DEVICES.slice(0, flags.devices),
      registry: new Set(REGISTERED_DEVICES),
      unknownDeviceRatio: flags.unknownDeviceRatio,
      seed: flags.seed,
    };
    checkReadingsOptions(readings, mix);
    const gzip = flags.gzip === true || (flags.output?.endsWith('.gz') ?? false);
    // Opened before writing, so that a bad path is one error line rather than a stream error later.
    const file = flags.output === undefined ? undefined : (await open(flags.output, 'w')).createWriteStream();
    let writeError: Error | undefined;
    file?.on('error', (error) => (writeError ??= error));
    const progress = startProgress(context, json, flags.records, PROGRESS_UNITS.records);
    let result;
    try {
      result = await writeReadings(file ?? context.stdout, { readings, mix, gzip, signal: context.signal, onRecords: (records) => progress.update(records) });
      if (file !== undefined) {
        file.end();
        await finished(file);
      }
      if (writeError !== undefined) throw writeError;
    } catch (error) {
      file?.destroy();
      throw error;
    } finally {
      progress.stop();
    }
    if (result.interrupted && flags.output !== undefined) await rm(flags.output, { force: true });
    const data = { output: flags.output ?? '-', gzip, seed: flags.seed, ...result.tally };
    const malformed = Object.values(result.tally.malformed).reduce((sum, count) => sum + count, 0);
    const summary = `${result.interrupted ? 'interrupted after' : 'wrote'} ${result.tally.records} records (${malformed} malformed, ${result.tally.unregisteredDevices} from unregistered devices, seed ${flags.seed}), ${formatBytes(result.tally.bytes)}${gzip ? ' gzip' : ''} to ${flags.output ?? 'stdout'}${result.interrupted && flags.output !== undefined ? '; the partial file was removed' : ''}`;
    if (flags.output === undefined) note(context, false, summary);
    else if (json) printReport(context, true, { data, human: () => [] });
    else writeLines(context.stdout, [summary]);
    host.exit(result.interrupted ? EXIT_CODES.partial : EXIT_CODES.ok);
  });
}
