#!/usr/bin/env node
/**
 * `npm run simulate -- --profile burst|all|<name> [--profile-file my.json|my.csv] [--out DIR] [-c key=value ...]`:
 * synthesizes the stack's scaling policy once (cdk.json's context with the -c values over it), simulates each
 * profile under it, prints the report, and writes `<out>/<profile>.svg` and `<out>/report.json`.
 * Exit codes: 0 done; 1 a run failed; 2 bad arguments or settings (one line naming the flag).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { SettingsError } from '../../infra/settings.ts';
import { chartSvg } from './chart-svg.ts';
import { simulate } from './engine.ts';
import { BENCH_WORKER_MODEL } from './models/worker.ts';
import { oracleTasks } from './oracle.ts';
import { BUILT_IN_PROFILE_NAMES, BUILT_IN_PROFILES, isBuiltInProfile, loadProfile, ProfileError } from './profiles.ts';
import { formatReport, profileReport, type ProfileReport } from './report.ts';
import { synthesizedPolicy } from './template-policy.ts';
import type { TrafficProfile } from './types.ts';

const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

class UsageError extends Error {
  override name = 'UsageError';
}

interface Options {
  readonly profile: string[];
  readonly profileFile: string[];
  readonly out: string;
  readonly context: Record<string, string>;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function contextEntry(value: string, previous: Record<string, string>): Record<string, string> {
  const equals = value.indexOf('=');
  if (equals <= 0) throw new InvalidArgumentError('expected key=value, as cdk -c takes it.');
  return { ...previous, [value.slice(0, equals)]: value.slice(equals + 1) };
}

function parseArguments(argv: readonly string[], stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream): Options | undefined {
  const program = new Command('simulate')
    .description('simulate the synthesized scaling policy under traffic profiles: age of the oldest message, backlog, tasks, cost, alarms')
    .option('--profile <name>', `a built-in profile (${BUILT_IN_PROFILE_NAMES.join(', ')}), all of them (all), or a --profile-file's name; repeatable`, collect, [])
    .option('--profile-file <path>', 'a profile of your own: JSON {name?, arrivalsPerMinute, fileBytes?, poisonShare?, drainMinutes?} or a CSV of arrivals per minute; repeatable', collect, [])
    .option('--out <dir>', 'where the charts and report.json go', 'simulate-out')
    .option('-c, --context <key=value>', 'a CDK context value, as `cdk synth -c` takes it; repeatable', contextEntry, {})
    .exitOverride()
    .configureOutput({ writeOut: (text) => stdout.write(text), writeErr: (text) => stderr.write(text) });
  try {
    program.parse([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError && (error.code === 'commander.helpDisplayed' || error.code === 'commander.version')) return undefined;
    throw error;
  }
  return program.opts<Options>();
}

function selectedProfiles(options: Options): TrafficProfile[] {
  const fromFiles = options.profileFile.map((path) => {
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      throw new UsageError(`--profile-file: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
    try {
      return loadProfile(path, text);
    } catch (error) {
      if (error instanceof ProfileError) throw new UsageError(`--profile-file: ${error.message}`);
      throw error;
    }
  });
  const names = options.profile.length === 0 && fromFiles.length === 0 ? ['all'] : options.profile;
  const chosen = names.flatMap((name): TrafficProfile[] => {
    if (name === 'all') return BUILT_IN_PROFILE_NAMES.map((builtIn) => BUILT_IN_PROFILES[builtIn]);
    if (isBuiltInProfile(name)) return [BUILT_IN_PROFILES[name]];
    const file = fromFiles.find((profile) => profile.name === name);
    if (file === undefined) throw new UsageError(`--profile: no profile ${JSON.stringify(name)} (built-in: ${BUILT_IN_PROFILE_NAMES.join(', ')}, all, or the name of a --profile-file)`);
    return [file];
  });
  // A file's profile runs whether or not --profile names it; each profile runs once.
  const all = [...chosen, ...fromFiles];
  const byName = new Map<string, TrafficProfile>();
  for (const profile of all) {
    const existing = byName.get(profile.name);
    if (existing !== undefined && existing !== profile) throw new UsageError(`--profile-file: two profiles are named ${JSON.stringify(profile.name)}`);
    byName.set(profile.name, profile);
  }
  return [...byName.values()];
}

/** A file name from a profile's name: letters, digits, dot, dash and underscore. */
function fileName(profileName: string): string {
  return profileName.replace(/[^\w.-]+/g, '_');
}

export function runSimulate(argv: readonly string[], io: { stdout: NodeJS.WritableStream; stderr: NodeJS.WritableStream }): number {
  const { stdout, stderr } = io;
  let options: Options | undefined;
  let profiles: TrafficProfile[];
  try {
    options = parseArguments(argv, stdout, stderr);
    if (options === undefined) return EXIT.ok;
    profiles = selectedProfiles(options);
  } catch (error) {
    // Commander has printed its own one-line message.
    if (error instanceof CommanderError) return EXIT.usage;
    if (error instanceof UsageError) {
      stderr.write(`error: ${error.message}\n`);
      return EXIT.usage;
    }
    throw error;
  }

  const contextText = Object.entries(options.context).map(([key, value]) => ` -c ${key}=${value}`).join('');
  stderr.write(`synthesizing the stack's scaling policy${contextText}\n`);
  let policy;
  try {
    policy = synthesizedPolicy(options.context);
  } catch (error) {
    if (error instanceof SettingsError) {
      stderr.write(`error: -c: ${error.message}\n`);
      return EXIT.usage;
    }
    throw error;
  }

  const outDir = resolve(options.out);
  mkdirSync(outDir, { recursive: true });
  const reports: ProfileReport[] = [];
  for (const profile of profiles) {
    stderr.write(`simulating ${profile.name} (${profile.arrivalsPerMinute.length + profile.drainMinutes} minutes)\n`);
    const result = simulate(policy, profile, BENCH_WORKER_MODEL);
    const oracle = oracleTasks(profile, policy, BENCH_WORKER_MODEL, policy.oldestMessageAlarm.thresholdSeconds);
    reports.push(profileReport(result, policy, oracle));
    writeFileSync(join(outDir, `${fileName(profile.name)}.svg`), chartSvg(result, oracle, policy.oldestMessageAlarm.thresholdSeconds));
  }
  stdout.write(`${formatReport(reports)}\n`);
  const json = { context: options.context, policy, workerModel: BENCH_WORKER_MODEL, profiles: reports };
  writeFileSync(join(outDir, 'report.json'), `${JSON.stringify(json, (_key, value: unknown) => (value === Infinity ? 'Infinity' : value), 2)}\n`);
  stderr.write(`wrote ${profiles.map((profile) => `${fileName(profile.name)}.svg`).join(', ')} and report.json to ${outDir}\n`);
  return EXIT.ok;
}

// `npm run simulate` starts this in the project's folder; --out and --profile-file mean the folder the command was typed in.
if (process.env['npm_lifecycle_event'] === 'simulate' && process.env['INIT_CWD']) process.chdir(process.env['INIT_CWD']);
try {
  process.exitCode = runSimulate(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr });
} catch (error) {
  process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = EXIT.failed;
}
