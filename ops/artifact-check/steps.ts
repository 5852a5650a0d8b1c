/** The check's report: each step announced, then timed with its outcome, one line each. */

export type Log = (line: string) => void;

export interface StepRecord {
  readonly name: string;
  readonly seconds: number;
}

export type StepRunner = <T>(name: string, action: () => Promise<T>) => Promise<T>;

export const logToStdout: Log = (line) => process.stdout.write(`${line}\n`);

/** A step runner that logs `... name`, then `ok  SECONDS s  outcome` (the action's string result, or the name), and records the step. */
export function createStepRunner(log: Log, steps: StepRecord[]): StepRunner {
  return async (name, action) => {
    const stepStart = performance.now();
    log(`... ${name}`);
    const result = await action();
    const seconds = (performance.now() - stepStart) / 1000;
    steps.push({ name, seconds });
    log(`ok  ${seconds.toFixed(2).padStart(6)} s  ${typeof result === 'string' ? result : name}`);
    return result;
  };
}

/** Step names are single lines of at most 100 characters. */
export function stepLabel(text: string): string {
  const label = text.replace(/\s+/g, ' ');
  return label.length > 100 ? `${label.slice(0, 97)}...` : label;
}
