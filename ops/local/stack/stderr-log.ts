/** One JSON line on stderr: the local stack's own failures must never share stdout with the emulator's protocol line. */
export function logToStderr(msg: string, details: Readonly<Record<string, unknown>> = {}): void {
  process.stderr.write(`${JSON.stringify({ level: 'error', time: new Date().toISOString(), msg, ...details })}\n`);
}
