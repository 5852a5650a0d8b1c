/**
 * The Dockerfile's runtime stage against worker/production-runtime.ts, which the ECS task definition and
 * the bench take their NODE_OPTIONS, entry point, port and health check from: where the two disagree,
 * the image would not be what the task declares or what the bench measured.
 */
import {
  COMPILED_WORKER_ENTRY,
  HEALTH_CHECK,
  PRODUCTION_HTTP_PORT,
  PRODUCTION_NODE_OPTIONS,
  type ContainerHealthCheck,
} from '../../worker/production-runtime.ts';
import { execForm, parseHealthCheck, stageEnv, type Stage } from './dockerfile.ts';

/** Docker's HEALTHCHECK options for `check`, durations in seconds. */
export function healthCheckOptions(check: ContainerHealthCheck): Record<string, string> {
  return {
    interval: `${check.intervalSeconds}s`,
    timeout: `${check.timeoutSeconds}s`,
    'start-period': `${check.startPeriodSeconds}s`,
    retries: String(check.retries),
  };
}

/** The HEALTHCHECK instruction's arguments that say what `check` says. */
export function healthCheckArgs(check: ContainerHealthCheck): string {
  const options = Object.entries(healthCheckOptions(check)).map(([name, value]) => `--${name}=${value}`);
  return `${options.join(' ')} CMD ${JSON.stringify(check.command)}`;
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function sortedEntries(record: Readonly<Record<string, string>>): [string, string][] {
  return Object.entries(record).sort(([a], [b]) => a.localeCompare(b));
}

/** Where the runtime stage differs from worker/production-runtime.ts, one line each; empty when they agree. */
export function productionRuntimeDrift(stage: Stage): string[] {
  const drift: string[] = [];
  const last = (keyword: string) => stage.instructions.findLast((instruction) => instruction.keyword === keyword)?.args;

  const nodeOptions = stageEnv(stage)['NODE_OPTIONS'];
  if (nodeOptions !== PRODUCTION_NODE_OPTIONS) {
    drift.push(`ENV NODE_OPTIONS is ${JSON.stringify(nodeOptions)}; PRODUCTION_NODE_OPTIONS is "${PRODUCTION_NODE_OPTIONS}"`);
  }

  const cmd = last('CMD');
  const expectedCmd = ['node', COMPILED_WORKER_ENTRY];
  if (cmd === undefined || !sameJson(execForm(cmd), expectedCmd)) drift.push(`CMD is ${cmd ?? 'missing'}; expected CMD ${JSON.stringify(expectedCmd)}`);

  const exposed = stage.instructions.filter((instruction) => instruction.keyword === 'EXPOSE').flatMap((instruction) => instruction.args.split(/\s+/));
  if (!sameJson(exposed, [String(PRODUCTION_HTTP_PORT)])) drift.push(`EXPOSE is ${exposed.join(' ') || 'missing'}; expected EXPOSE ${PRODUCTION_HTTP_PORT}`);

  const health = last('HEALTHCHECK');
  const parsed = health === undefined ? undefined : parseHealthCheck(health);
  const commandDiffers = !sameJson(parsed?.command, HEALTH_CHECK.command);
  const timingDiffers = !sameJson(sortedEntries(parsed?.options ?? {}), sortedEntries(healthCheckOptions(HEALTH_CHECK)));
  if (commandDiffers || timingDiffers) {
    const what = [commandDiffers ? 'command' : '', timingDiffers ? 'timing' : ''].filter(Boolean).join(' and ');
    drift.push(`HEALTHCHECK ${health === undefined ? 'is missing' : `differs in its ${what}`}; expected HEALTHCHECK ${healthCheckArgs(HEALTH_CHECK)}`);
  }
  return drift;
}
