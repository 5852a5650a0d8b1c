/** An error as one line for a log or a terminal: its name and message, or whatever was thrown, as text. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}
