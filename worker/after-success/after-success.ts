/**
 * What follows a file's success, before its message is deleted: the raw object's action
 * (SOURCE_AFTER_SUCCESS) and the completion event (FILE_EVENTS_TOPIC_ARN), in this order:
 *
 *   outputs stored → tag, or copy to the archive → publish the event → delete the raw version → delete the message
 *
 * The delete comes after the publish because a failure anywhere sends the message back, and processing it
 * again needs the raw object: a publish that failed after the delete could never be repeated. Each step
 * may run again (a redelivery, a retry): tagging again, copying again, deleting a version that is gone and
 * publishing an event with the same id are all harmless.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { StoredOutputs } from '../output/file-outputs.ts';
import type { FileTally } from '../records/line-outcomes.ts';
import { buildFileEvent } from './file-event.ts';
import type { FileEventPublisher } from './file-event-publisher.ts';
import { planSourceAction, prefixesOverlap, type OutputPrefix, type SourceAction, type SourceActionSettings } from './source-action.ts';
import { runSourceSteps, type SourceActionResult } from './source-action-runner.ts';
import type { SourceVersion } from './source-version.ts';

/** Told what each step came to; telemetry logs and counts it. */
export interface AfterSuccessEvents {
  sourceActionEnded(source: SourceVersion, action: SourceAction, outcome: SourceActionResult): void;
  sourceActionFailed(source: SourceVersion, action: SourceAction, error: unknown): void;
  fileEventPublished(source: SourceVersion, eventId: string, messageId: string | undefined): void;
  fileEventFailed(source: SourceVersion, eventId: string, error: unknown): void;
}

export interface AfterSuccessDeps {
  readonly s3: S3Client;
  readonly settings: SourceActionSettings;
  /** Where outputs are written: an archive there is refused. */
  readonly outputPrefixes: readonly OutputPrefix[];
  /** Undefined when FILE_EVENTS_TOPIC_ARN is unset. */
  readonly publisher: FileEventPublisher | undefined;
  readonly workerVersion: string;
  /** Unix ms, for the event's completedAt. */
  readonly wallClockMs: () => number;
  readonly events: AfterSuccessEvents;
}

/** A file whose outputs are stored. */
export interface SucceededFile {
  /** The raw object version read. */
  readonly source: SourceVersion;
  /** Its source's expectedBucketOwner (SOURCES): every S3 call on the raw object names it. */
  readonly expectedBucketOwner?: string;
  readonly outputs: StoredOutputs;
  readonly tally: FileTally;
  /** Stored bytes of the raw object. */
  readonly bytesRead: number;
  /** From the file's start to its outputs stored. */
  readonly durationMs: number;
}

/** Runs the steps after a file's success; throws (transient or permanent, as classified) when one fails. */
export type AfterSuccess = (file: SucceededFile, signal: AbortSignal) => Promise<void>;

export function createAfterSuccess(deps: AfterSuccessDeps): AfterSuccess {
  const { settings, events } = deps;

  /** An archive among the outputs would overwrite or be taken for them; with the default (the raw bucket) this is known per object. */
  function checkArchiveApart(source: SourceVersion): void {
    const archive = { bucket: settings.archive.bucket ?? source.bucket, prefix: settings.archive.prefix };
    const output = deps.outputPrefixes.find((candidate) => prefixesOverlap(archive, candidate));
    if (output !== undefined) {
      throw new Error(
        `SOURCE_ARCHIVE_PREFIX "${archive.prefix}" in s3://${archive.bucket} overlaps the outputs under "${output.prefix}": set SOURCE_ARCHIVE_BUCKET or SOURCE_ARCHIVE_PREFIX apart from them`,
      );
    }
  }

  async function runSteps(file: SucceededFile, action: SourceAction, steps: Parameters<typeof runSourceSteps>[0], signal: AbortSignal) {
    try {
      const owner = file.expectedBucketOwner === undefined ? {} : { expectedBucketOwner: file.expectedBucketOwner };
      return await runSourceSteps(steps, { s3: deps.s3, signal, sourceBytes: file.bytesRead, ...owner });
    } catch (error) {
      events.sourceActionFailed(file.source, action, error);
      throw error;
    }
  }

  async function publish(file: SucceededFile, signal: AbortSignal): Promise<void> {
    if (deps.publisher === undefined) return;
    const event = buildFileEvent({ ...file, workerVersion: deps.workerVersion, completedAtMs: deps.wallClockMs() });
    try {
      events.fileEventPublished(file.source, event.eventId, await deps.publisher.publish(event, signal));
    } catch (error) {
      events.fileEventFailed(file.source, event.eventId, error);
      throw error;
    }
  }

  return async (file, signal) => {
    const plan = planSourceAction(settings, file.source, file.tally);
    const { action } = plan;
    if (action === undefined) return publish(file, signal);
    if (action === 'move') checkArchiveApart(file.source);
    const before = await runSteps(file, action, plan.beforeEvent, signal);
    // A copy that found the version gone or replaced leaves nothing to delete.
    const deleteFollows = before.result === 'done' && plan.afterEvent.length > 0;
    if (!deleteFollows) events.sourceActionEnded(file.source, action, before);
    await publish(file, signal);
    if (deleteFollows) events.sourceActionEnded(file.source, action, await runSteps(file, action, plan.afterEvent, signal));
  };
}
