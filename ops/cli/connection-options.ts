/** The flags every AWS-facing command shares, declared once so their help reads the same everywhere. */
import type { Command } from 'commander';
import { LOCAL_DEFAULTS, SETTINGS, type SettingName } from './settings.ts';

const ARGUMENT_NAMES: Record<SettingName, string> = {
  endpoint: 'url',
  region: 'region',
  queueUrl: 'url',
  dlqUrl: 'url',
  rawBucket: 'bucket',
  processedBucket: 'bucket',
  processedPrefix: 'prefix',
  sources: 'json',
};

/** Adds --local, --endpoint, --region and the given settings' flags, each naming its environment variable. */
export function addConnectionOptions(command: Command, settings: readonly SettingName[]): Command {
  command.option(
    '--local',
    `the npm start stack: http://127.0.0.1:${LOCAL_DEFAULTS.port} (or ${LOCAL_DEFAULTS.portVariable}), ${LOCAL_DEFAULTS.region}, its default names`,
  );
  for (const name of ['endpoint', 'region', ...settings] as const) {
    const { flag, variable, what } = SETTINGS[name];
    command.option(`${flag} <${ARGUMENT_NAMES[name]}>`, `${what} (env ${variable})`);
  }
  return command;
}

/** --expected-bucket-owner: the owner of the bucket `reconcile` or `backfill` is given with --raw-bucket. */
export function addExpectedOwnerOption(command: Command): Command {
  return command.option(
    '--expected-bucket-owner <account>',
    'the 12-digit account that must own the --raw-bucket (ExpectedBucketOwner on every call to it; a source in SOURCES names its own)',
  );
}

export function addJsonOption(command: Command): Command {
  return command.option('--json', 'print the result as one JSON document on stdout (no progress bar)');
}
