/**
 * The child side of a measured child process (see ../measured-child.ts). The child loads and
 * prepares, says `ready`, does the measured work when the parent says `go`, prints its result as
 * one JSON line and then waits until the parent closes stdin, so that the parent can read the
 * child's /proc figures for exactly that work before it exits.
 */
import { createInterface } from 'node:readline';

const lines = createInterface({ input: process.stdin });
const received: string[] = [];
const waiting: Array<(line: string | undefined) => void> = [];
let ended = false;
lines.on('line', (line) => {
  const waiter = waiting.shift();
  if (waiter) waiter(line);
  else received.push(line);
});
lines.on('close', () => {
  ended = true;
  for (const waiter of waiting.splice(0)) waiter(undefined);
});

function nextLine(): Promise<string | undefined> {
  const line = received.shift();
  if (line !== undefined || ended) return Promise.resolve(line);
  return new Promise((resolveLine) => waiting.push(resolveLine));
}

/** Says `ready` and resolves when the parent says `go`; exits if the parent goes away instead. */
export async function readyThenWaitForGo(): Promise<void> {
  process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
  const line = await nextLine();
  if (line !== 'go') process.exit(line === undefined ? 0 : 2);
}

/** Prints the result, waits for stdin to close, exits 0. */
export async function reportAndWaitForRelease(result: object): Promise<void> {
  process.stdout.write(`${JSON.stringify({ result })}\n`);
  while ((await nextLine()) !== undefined) {
    // nothing else is expected
  }
  process.exit(0);
}

/** The one JSON argument a child is started with. */
export function childArgument<T>(): T {
  const text = process.argv[2];
  if (text === undefined) {
    process.stderr.write('this script is started by ops/bench/main.ts with one JSON argument\n');
    process.exit(2);
  }
  return JSON.parse(text) as T;
}
