/**
 * The production artifact check: `npm run check:artifact` (`node ops/artifact-check/main.ts [--keep]`).
 *
 * The container image cannot be built on this project's machines (no Docker engine), so this script
 * assembles what the image holds, from the Dockerfile itself, and runs it:
 *
 *  0. It parses the Dockerfile and compares the runtime stage's ENV NODE_OPTIONS, CMD, EXPOSE and
 *     HEALTHCHECK (command and timing) with worker/production-runtime.ts, where the ECS task definition
 *     takes them from: the image and the task cannot drift apart.
 *  1. It replays every stage in a temporary folder (one folder per stage, standing for the stage's `/`):
 *     WORKDIR, COPY (from the build context, honouring .dockerignore, or `--from` an earlier stage) and
 *     RUN. RUNs are matched against a short table: `npm ci --omit=dev ...` and `npm run build` run as
 *     written (the real registry, the project's tsc); the build stage's full `npm ci` is stood in for by
 *     the project's own node_modules (installed from the same lockfile); `apt-get` image setup (tini) is
 *     skipped. Any other RUN fails the check.
 *     Drift guard: the Dockerfile is the only list of what goes into the image, and this script reads
 *     it instead of keeping a second copy, so the two cannot disagree; an instruction it cannot replay
 *     stops it instead of being ignored.
 *  2. It proves the runtime stage has no devDependencies: no devDependency-only package in its
 *     node_modules (by the lockfile's `dev` flags), none resolvable from its WORKDIR (while they resolve
 *     from the project), no node_modules in any folder above it, and no bare import in its compiled code
 *     that is not a production dependency (dynamic imports included).
 *  3. It starts the emulator (ops/local/emulator.ts, loopback) as a child process, creates buckets, a
 *     queue and its DLQ with ops/local/resources.ts, starts the runtime stage's CMD in its WORKDIR with
 *     its ENV (NODE_ENV, NODE_OPTIONS = PRODUCTION_NODE_OPTIONS), runs the HEALTHCHECK command against
 *     it, puts a small JSON Lines file in the raw bucket, waits for 'file processed' and the processed
 *     output, runs the image's ops CLI as the scheduled reconciliation does (`node dist/ops/cli/main.js
 *     reconcile --since 1h --json`, one JSON line finding the file current), then sends SIGTERM and
 *     expects exit 0 with nothing on stderr.
 *
 * Not replayed: USER (the worker runs as the current user), ENTRYPOINT (tini only forwards signals),
 * the image's own Node (this script's Node, the `node` devDependency, stands in: same major).
 * Every wait is bounded, every child is killed on any exit path, everything listens on loopback.
 * The temporary folder is removed at the end unless --keep is given.
 *
 * This file is the command (arguments, signals, exit code); the check itself is in ops/artifact-check/,
 * whose check.ts runs the steps.
 */
import { checkProductionArtifact, removeUnfinishedWorkFolders } from './check.ts';
import { killTrackedChildren, killTrackedChildrenOnExit } from '../local/child-processes.ts';

if (import.meta.main) {
  const keep = process.argv.slice(2).includes('--keep');
  const unknown = process.argv.slice(2).filter((arg) => arg !== '--keep');
  if (unknown.length > 0) {
    process.stderr.write(`unknown arguments: ${unknown.join(' ')}\nusage: node ops/artifact-check/main.ts [--keep]\n`);
    process.exit(2);
  }
  killTrackedChildrenOnExit('stopping the children', removeUnfinishedWorkFolders);
  try {
    await checkProductionArtifact({ keep });
  } catch (error) {
    process.stderr.write(`production artifact check FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    killTrackedChildren();
    process.exitCode = 1;
  }
}
