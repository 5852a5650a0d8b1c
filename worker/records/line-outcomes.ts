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

/**
 * Collects the outcome of every line of one file: the processed and rejected JSON Lines
 * (taken out in pieces by the writer) and the counts. No I/O.
 */
export class FileTransformer implements LineSink {
  readonly tally: FileTally = emptyTally();
  private readonly rules: RecordRules;
  private readonly onProcessedRecord: ((record: Readonly<Record<string, unknown>>) => void) | undefined;
  private processedText = '';
  private rejectedText = '';

  /** With `onProcessedRecord`, processed records go there (e.g. a Parquet writer) instead of to JSON Lines text. */
  constructor(rules: RecordRules, onProcessedRecord?: (record: Readonly<Record<string, unknown>>) => void) {
    this.rules = rules;
    this.onProcessedRecord = onProcessedRecord;
  }

  /** A non-blank line: the splitter drops blank ones (see isBlankByte). */
  line(text: string, lineNumber: number): void {
    if (this.onProcessedRecord) {
      // A record writer gets no output line: building it cost 5 % of the Parquet writer's CPU (bench scenario 9).
      const result = evaluateRecord(text, this.rules);
      if (result.outcome === 'processed') this.onProcessedRecord(result.record);
      this.account(result, text, lineNumber);
    } else {
      const result = evaluateLine(text, this.rules);
      if (result.outcome === 'processed') this.processedText += result.output + '\n';
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
    this.rejectedText += rejectedLine(lineNumber, rejection, prefix) + '\n';
  }

  /** Output produced since the last call, ready to be written. */
  takeProcessed(): string {
    const text = this.processedText;
    this.processedText = '';
    return text;
  }

  takeRejected(): string {
    const text = this.rejectedText;
    this.rejectedText = '';
    return text;
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
        this.rejectedText += rejectedLine(lineNumber, result, text) + '\n';
        return;
    }
  }

  private countRejected(reason: RejectReason): void {
    this.tally.rejected += 1;
    this.tally.rejectedByReason[reason] = (this.tally.rejectedByReason[reason] ?? 0) + 1;
  }
}
