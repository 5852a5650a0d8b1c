// The latency proxy in a process of its own, so that its CPU is read from /proc like the emulator's:
// `node ops/bench/latency-proxy/main.ts '{"target":"http://127.0.0.1:PORT","delayMs":20,"bytesPerSecond":null}'`.
// It prints {"url":"http://127.0.0.1:PORT"} on stdout once it listens; each `counts` line on stdin is
// answered with {"counts":{"s3":{…},"sqs":{…}},"inFlight":N}. It stops when stdin ends (so that a parent
// that dies takes it along) or on SIGTERM / SIGINT, exit 0.
import { createInterface } from 'node:readline';
import { startLatencyProxy, type LatencyProxyOptions } from './server.ts';

const STOP_TIMEOUT_MS = 5_000;

function parseOptions(text: string | undefined): LatencyProxyOptions {
  const parsed = JSON.parse(text ?? '') as Partial<LatencyProxyOptions>;
  const { target, delayMs, bytesPerSecond = null } = parsed;
  if (typeof target !== 'string' || typeof delayMs !== 'number' || !(bytesPerSecond === null || typeof bytesPerSecond === 'number')) {
    throw new Error(`expected {"target": URL, "delayMs": number, "bytesPerSecond": number | null}, got ${text}`);
  }
  return { target, delayMs, bytesPerSecond };
}

let proxy;
try {
  proxy = await startLatencyProxy(parseOptions(process.argv[2]));
} catch (error) {
  process.stderr.write(`latency proxy: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(2);
}
const started = proxy;
process.stdout.write(`${JSON.stringify({ url: started.url })}\n`);

let stopping = false;
function stopAndExit(): void {
  if (stopping) return;
  stopping = true;
  setTimeout(() => process.exit(1), STOP_TIMEOUT_MS).unref();
  started.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
}

const commands = createInterface({ input: process.stdin });
commands.on('line', (line) => {
  if (line.trim() === 'counts') process.stdout.write(`${JSON.stringify({ counts: started.counts(), inFlight: started.inFlight() })}\n`);
  else process.stderr.write(`latency proxy: unknown command ${JSON.stringify(line)}\n`);
});
commands.once('close', stopAndExit);
process.once('SIGTERM', stopAndExit);
process.once('SIGINT', stopAndExit);
