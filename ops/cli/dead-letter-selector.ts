/**
 * Which DLQ messages a `dlq drop` or a `redrive --reason` acts on: by message id, by recorded failure
 * reason (`none` for messages without one), or all. Pure.
 */
import type { Message } from '@aws-sdk/client-sqs';
import { InvalidArgumentError } from 'commander';
import { NO_RECORDED_REASON, RECORDED_REASONS, recordedReasonOf } from './dead-letter-reasons.ts';

export type DeadLetterSelector =
  | { readonly by: 'id'; readonly ids: readonly string[] }
  /** `none` among the reasons selects the messages that have no recorded reason. */
  | { readonly by: 'reason'; readonly reasons: readonly string[] }
  | { readonly by: 'all' };

export interface SelectorFlags {
  readonly id?: readonly string[];
  readonly reason?: readonly string[];
  readonly all?: boolean;
}

const REASON_CHOICES: readonly string[] = [...RECORDED_REASONS, NO_RECORDED_REASON];

/** Commander parser for a variadic `--reason`: each value a reason the worker records, or `none`. */
export function reasonArgument(value: string, previous: readonly string[] | undefined): string[] {
  const reasons = value.split(',').map((part) => part.trim()).filter((part) => part !== '');
  const unknown = reasons.filter((reason) => !REASON_CHOICES.includes(reason));
  if (reasons.length === 0 || unknown.length > 0) {
    throw new InvalidArgumentError(`${JSON.stringify(unknown[0] ?? value)} is not a reason the worker records; one of ${REASON_CHOICES.join(', ')}`);
  }
  return [...(previous ?? []), ...reasons];
}

/** Commander parser for a variadic `--id`. */
export function messageIdArgument(value: string, previous: readonly string[] | undefined): string[] {
  const ids = value.split(',').map((part) => part.trim()).filter((part) => part !== '');
  if (ids.length === 0) throw new InvalidArgumentError('must be a message id (as `dlq peek` shows it)');
  return [...(previous ?? []), ...ids];
}

/** The one selector the flags name, or the line that says why there is none (no selector, or several). */
export function selectorFromFlags(flags: SelectorFlags): DeadLetterSelector | string {
  const given: DeadLetterSelector[] = [
    ...(flags.id === undefined ? [] : [{ by: 'id' as const, ids: [...new Set(flags.id)] }]),
    ...(flags.reason === undefined ? [] : [{ by: 'reason' as const, reasons: [...new Set(flags.reason)] }]),
    ...(flags.all === true ? [{ by: 'all' as const }] : []),
  ];
  const [only] = given;
  if (given.length === 1 && only !== undefined) return only;
  return given.length === 0 ? 'say which messages: --id, --reason or --all' : 'give only one of --id, --reason or --all';
}

export function selects(selector: DeadLetterSelector, message: Message): boolean {
  switch (selector.by) {
    case 'all':
      return true;
    case 'id':
      return selector.ids.includes(message.MessageId ?? '');
    case 'reason':
      return selector.reasons.includes(recordedReasonOf(message) ?? NO_RECORDED_REASON);
  }
}

/** "every message", "ids a, b", "reason corrupt_gzip or no recorded reason", "no recorded reason". */
export function selectorText(selector: DeadLetterSelector): string {
  switch (selector.by) {
    case 'all':
      return 'every message';
    case 'id':
      return `${selector.ids.length === 1 ? 'id' : 'ids'} ${selector.ids.join(', ')}`;
    case 'reason': {
      const recorded = selector.reasons.filter((reason) => reason !== NO_RECORDED_REASON);
      const parts = [
        ...(recorded.length > 0 ? [`reason ${recorded.join(' or ')}`] : []),
        ...(recorded.length < selector.reasons.length ? ['no recorded reason'] : []),
      ];
      return parts.join(' or ');
    }
  }
}
