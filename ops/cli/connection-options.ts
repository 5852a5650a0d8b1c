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

export function addJsonOption(command: Command): Command {
  return command.option('--json', 'print the result as one JSON document on stdout (no progress bar)');
}
