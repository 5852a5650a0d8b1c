/**
 * The real AWS CLI for the tests: IOT_TEST_AWS_CLI, else Debian's /usr/bin/aws (the `awscli` package,
 * v2.9 on Debian 12, which speaks SQS's query protocol). Without one the tests that need it skip, and
 * say so, on a developer's machine; in CI (CI set, as GitHub Actions and .ci/run have it) they fail,
 * so that CI cannot skip them. Each call runs with throwaway credentials and no user configuration.
 */
import { execFile, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe } from '@jest/globals';

const DEBIAN_AWS_CLI = '/usr/bin/aws';
export const AWS_CLI_MISSING =
  `no AWS CLI: set IOT_TEST_AWS_CLI to one, or install Debian's (apt-get install -y --no-install-recommends awscli, for ${DEBIAN_AWS_CLI})`;

const configuredPath = process.env['IOT_TEST_AWS_CLI'];
const awsCliPath = configuredPath !== undefined && configuredPath !== '' ? configuredPath : existsSync(DEBIAN_AWS_CLI) ? DEBIAN_AWS_CLI : undefined;

/** `aws-cli/2.9.19 Python/3.11.2 ...`, or undefined when there is no CLI that runs. */
export const awsCliVersion = (() => {
  if (awsCliPath === undefined) return undefined;
  const probe = spawnSync(awsCliPath, ['--version'], { encoding: 'utf8', timeout: 30_000, env: cliEnvironment() });
  return probe.status === 0 ? (probe.stdout + probe.stderr).trim().split(/\s+/)[0] : undefined;
})();

const inCi = Boolean(process.env['CI']);

/** `describe` when the CLI is there or CI is set (then a missing CLI fails the tests), else `describe.skip`. */
export const describeAwsCli = awsCliVersion === undefined && !inCi ? describe.skip : describe;

/** A title that says which CLI ran, or why the tests skip or fail. */
export const awsCliTitle =
  awsCliVersion !== undefined
    ? `${awsCliVersion} (${awsCliPath})`
    : inCi
      ? `AWS CLI: MISSING, ${AWS_CLI_MISSING}, and CI is set`
      : `AWS CLI: SKIPPED, ${AWS_CLI_MISSING}`;

/** Throws in CI when the CLI is missing: call it first in a hook that `describeAwsCli` runs. */
export function requireAwsCli(): string {
  if (awsCliPath === undefined || awsCliVersion === undefined) {
    throw new Error(`${AWS_CLI_MISSING}; in CI these tests must run, not skip (.ci/run installs it)`);
  }
  return awsCliPath;
}

export interface AwsCliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface AwsCliTarget {
  readonly endpoint: string;
  readonly region: string;
}

const CALL_TIMEOUT_MS = 60_000;

/** Runs `aws --endpoint-url … --region … --output json <args>`; its exit code and output. */
export function runAwsCli(target: AwsCliTarget, args: readonly string[]): Promise<AwsCliResult> {
  const cli = requireAwsCli();
  const fullArgs = ['--endpoint-url', target.endpoint, '--region', target.region, '--output', 'json', ...args];
  return new Promise((resolve) => {
    execFile(cli, fullArgs, { env: cliEnvironment(), timeout: CALL_TIMEOUT_MS, encoding: 'utf8' }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs a call that must succeed and returns its JSON output (undefined when it printed nothing). */
export async function awsCliJson(target: AwsCliTarget, args: readonly string[]): Promise<unknown> {
  const result = await runAwsCli(target, args);
  if (result.code !== 0) throw new Error(`aws ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
  return result.stdout.trim() === '' ? undefined : (JSON.parse(result.stdout) as unknown);
}

/** Throwaway credentials, no config or credentials files, no pager, UTF-8 output; the CLI's own retry defaults, so its messages read as a user sees them. */
function cliEnvironment(): NodeJS.ProcessEnv {
  const nowhere = `${tmpdir()}/iot-ingest-no-aws-config`;
  return {
    PATH: process.env['PATH'] ?? '/usr/bin:/bin',
    HOME: tmpdir(),
    LC_ALL: 'C.UTF-8',
    PYTHONIOENCODING: 'utf-8',
    AWS_ACCESS_KEY_ID: 'local-stack-test',
    AWS_SECRET_ACCESS_KEY: 'local-stack-test',
    AWS_CONFIG_FILE: nowhere,
    AWS_SHARED_CREDENTIALS_FILE: nowhere,
    AWS_PAGER: '',
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}

/** The local stack the jest run started (IOT_TEST_ENDPOINT, IOT_TEST_REGION, set by its global setup). */
export function testTarget(): AwsCliTarget {
  const endpoint = process.env['IOT_TEST_ENDPOINT'];
  const region = process.env['IOT_TEST_REGION'];
  if (!endpoint || !region) throw new Error('IOT_TEST_ENDPOINT/IOT_TEST_REGION are not set: run through jest');
  return { endpoint, region };
}
