import type { LineSink } from './line-splitter.ts';
import { evaluateLine, evaluateRecord, rejectedLine, REJECT_REASONS, type RecordResult, type RecordRules, type RejectReason } from './pipeline.ts';

export interface FileTally {
  processed: number;
  filtered: number;
  rejected: number;
  readonly rejectedByReason: Partial<Record<RejectReason, number>>;
  /** Processed records whose device is not in the registry. */
  unknownDevices: number;
}

export function emptyTally(): FileTally {
  return { processed: 0, filtered: 0, rejected: 0, rejectedByReason: {}, unknownDevices: 0 };
}

/** Takes each processed record as its output JSON line, without the line end (JSON Lines). */
export interface ProcessedLineSink {
  readonly takes: 'line';
  add(line: string): void;
}

/** Takes each processed record as an object (Parquet), so that no output line is built for it. */
export interface ProcessedRecordSink {
  readonly takes: 'record';
  add(record: Readonly<Record<string, unknown>>): void;
}

export type ProcessedSink = ProcessedLineSink | ProcessedRecordSink;

/** Takes each rejected line as the JSON line that describes it, without the line end. */
export interface RejectedSink {
  add(line: string): void;
}

export interface LineOutcomeSinks {
  readonly processed: ProcessedSink;
  readonly rejected: RejectedSink;
}

/**
 * Decides the outcome of every line of one file with the record rules, hands processed records and
 * rejected lines to their sinks, and counts every outcome. No I/O: the sinks buffer, their owner writes.
 */
export class LineOutcomeRouter implements LineSink {
  readonly tally: FileTally = emptyTally();
  private readonly rules: RecordRules;
  private readonly processed: ProcessedSink;
  private readonly rejected: RejectedSink;

  constructor(rules: RecordRules, sinks: LineOutcomeSinks) {
    this.rules = rules;
    this.processed = sinks.processed;
    this.rejected = sinks.rejected;
  }

  /** A non-blank line: the splitter drops blank ones (see isBlankByte). */
  line(text: string, lineNumber: number): void {
    const processed = this.processed;
    if (processed.takes === 'record') {
      // A record sink gets no output line: building one is a real share of the Parquet writer's CPU.
      const result = evaluateRecord(text, this.rules);
      if (result.outcome === 'processed') processed.add(result.record);
      this.account(result, text, lineNumber);
    } else {
      const result = evaluateLine(text, this.rules);
      if (result.outcome === 'processed') processed.add(result.output);
      this.account(result, text, lineNumber);
    }
  }

  overlongLine(prefix: string, byteLength: number, lineNumber: number): void {
    this.countRejected(REJECT_REASONS.lineTooLong);
    const rejection = {
      outcome: 'rejected',
      reason: REJECT_REASONS.lineTooLong,
      message: `the line is ${byteLength} bytes; text holds its first ${Buffer.byteLength(prefix)}`,
    } as const;
    this.rejected.add(rejectedLine(lineNumber, rejection, prefix));
  }

  private account(result: RecordResult, text: string, lineNumber: number): void {
    switch (result.outcome) {
      case 'processed':
        this.tally.processed += 1;
        if (result.unknownDevice) this.tally.unknownDevices += 1;
        return;
      case 'filtered':
        this.tally.filtered += 1;
        return;
      case 'rejected':
        this.countRejected(result.reason);
        this.rejected.add(rejectedLine(lineNumber, result, text));
        return;
    }
  }

  private countRejected(reason: RejectReason): void {
    this.tally.rejected += 1;
    this.tally.rejectedByReason[reason] = (this.tally.rejectedByReason[reason] ?? 0) + 1;
  }
}

/** A sink that keeps its lines as JSON Lines text until taken: the outputs held in memory (measurements, tests). */
export class TextLines implements ProcessedLineSink, RejectedSink {
  readonly takes = 'line';
  private text = '';

  add(line: string): void {
    this.text += line + '\n';
  }

  /** The lines added since the last call, each ending in a newline. */
  take(): string {
    const text = this.text;
    this.text = '';
    return text;
  }
}
