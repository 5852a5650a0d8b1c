/** `redrive`: DLQ messages back to the ingest queue, by SQS move task where there is one, else client-side. */
import { tmpdir } from 'node:os';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Command } from 'commander';
import { sendRetry, withAwsClients } from '../aws-session.ts';
import { addConnectionOptions, addJsonOption } from '../connection-options.ts';
import type { CliContext, CommandHost } from '../context.ts';
import { receiveBudget } from '../dead-letter-scan.ts';
import { reasonArgument, selects, type DeadLetterSelector } from '../dead-letter-selector.ts';
import { NO_RECORDED_REASON, RETRIES_EXHAUSTED } from '../dead-letter-reasons.ts';
import { EXIT_CODES, UsageError, type ExitCode } from '../exit-codes.ts';
import { oneOf, positiveNumber, wholeNumber } from '../option-parsers.ts';
import { note, printReport, PROGRESS_UNITS, startProgress } from '../output.ts';
import { deadLetterQueueUrlOf, queueUrlOf } from '../queue-targets.ts';
import { messageCountsOf, readQueueSnapshot, type QueueSnapshot } from '../queue-snapshot.ts';
import { createRateLimiter } from '../rate-limiter.ts';
import { redriveClientSide, RedriveError, STOP_REASONS } from '../redrive/client-side.ts';
import { listRedriveCandidates } from '../redrive/dry-run.ts';
import { defaultJournalPath, openJournal } from '../redrive/journal.ts';
import { chooseRedriveMethod, needsMoveTaskProbe, REDRIVE_METHODS, type MethodChoice, type RedriveRequest, type RequestedMethod } from '../redrive/method.ts';
import { MOVE_TASK_ENDINGS, probeMoveTasks, runMoveTask } from '../redrive/move-task.ts';
import { redriveLines, type RedriveReport } from '../redrive/report.ts';
import { resolveConnection, resolveDeadLetterQueue, resolveQueue, type ConnectionFlags } from '../settings.ts';

interface RedriveFlags extends ConnectionFlags {
  readonly json?: boolean;
  readonly dryRun?: boolean;
  readonly limit?: number;
  readonly rate?: number;
  readonly journal?: string;
  readonly reason?: readonly string[];
  readonly method: RequestedMethod;
}

interface Queues {
  readonly sqs: SQSClient;
  readonly dlq: QueueSnapshot;
  readonly destination: QueueSnapshot;
}

function selectorOf(flags: RedriveFlags): DeadLetterSelector {
  return flags.reason === undefined ? { by: 'all' } : { by: 'reason', reasons: [...new Set(flags.reason)] };
}

function baseReport(flags: RedriveFlags, queues: Queues, choice: MethodChoice): RedriveReport {
  return {
    dryRun: flags.dryRun === true,
    method: choice.method,
    methodReason: choice.why,
    dlqUrl: queues.dlq.url,
    destinationUrl: queues.destination.url,
    selector: selectorOf(flags),
    dlqBefore: messageCountsOf(queues.dlq),
    moved: 0,
    stoppedBy: STOP_REASONS.completed,
  };
}

async function dryRun(context: CliContext, queues: Queues, flags: RedriveFlags, report: RedriveReport): Promise<[RedriveReport, ExitCode]> {
  const listing = await listRedriveCandidates(queues.sqs, {
    dlqUrl: queues.dlq.url,
    select: (message) => selects(report.selector, message),
    limit: flags.limit,
    startedAtMs: context.clock.now(),
    signal: context.signal,
    maxReceives: receiveBudget(report.dlqBefore.messages),
  });
  const { candidates } = listing;
  const listed: RedriveReport = {
    ...report,
    wouldMove: candidates.length,
    wouldFailAgain: candidates.filter((candidate) => candidate.willFailAgain).length,
    notSelected: listing.notSelected,
    arrivedDuringRun: listing.arrivedDuringRun,
    stoppedBy: listing.stoppedBy,
    messages: candidates,
  };
  const complete = listing.stoppedBy === STOP_REASONS.completed || listing.stoppedBy === STOP_REASONS.limit;
  return [listed, complete ? EXIT_CODES.ok : EXIT_CODES.partial];
}

async function moveTask(context: CliContext, queues: Queues, flags: RedriveFlags, report: RedriveReport): Promise<[RedriveReport, ExitCode]> {
  const progress = startProgress(context, flags.json === true, report.dlqBefore.messages, PROGRESS_UNITS.messages);
  try {
    const result = await runMoveTask(queues.sqs, {
      dlqArn: queues.dlq.arn,
      destinationArn: queues.destination.arn,
      messagesPerSecond: flags.rate,
      signal: context.signal,
      clock: context.clock,
      onProgress: (moved, toMove) => progress.update(moved, toMove),
    });
    const finished = { ...report, moved: result.moved, moveTaskStatus: result.status };
    if (result.status === MOVE_TASK_ENDINGS.completed) return [finished, EXIT_CODES.ok];
    if (result.interrupted) return [{ ...finished, stoppedBy: STOP_REASONS.interrupted }, EXIT_CODES.partial];
    return [{ ...finished, stoppedBy: 'failed', error: `the move task ended ${result.status}${result.failureReason ? `: ${result.failureReason}` : ''}` }, EXIT_CODES.failed];
  } finally {
    progress.stop();
  }
}

async function clientSide(context: CliContext, queues: Queues, flags: RedriveFlags, report: RedriveReport): Promise<[RedriveReport, ExitCode]> {
  const journalPath = flags.journal ?? defaultJournalPath(queues.dlq.url, tmpdir());
  const journal = await openJournal(journalPath, queues.dlq.url);
  note(context, flags.json === true, `journal: ${journal.path}${journal.pendingCount > 0 ? ` (${journal.pendingCount} sent by an earlier run, to be deleted)` : ''}`);
  const expected = Math.min(flags.limit ?? Infinity, report.dlqBefore.messages);
  const progress = startProgress(context, flags.json === true, expected, PROGRESS_UNITS.messages);
  const withJournal = { ...report, journal: journal.path };
  try {
    const { tally, stoppedBy } = await redriveClientSide(queues.sqs, {
      dlqUrl: queues.dlq.url,
      destinationUrl: queues.destination.url,
      limit: flags.limit,
      select: (message) => selects(report.selector, message),
      maxReceives: receiveBudget(report.dlqBefore.messages),
      journal,
      rateLimiter: createRateLimiter(flags.rate, context.clock),
      retry: sendRetry(context),
      signal: context.signal,
      startedAtMs: context.clock.now(),
      onBatch: ({ moved }) => progress.update(moved),
    });
    const done = { ...withJournal, ...tally, stoppedBy };
    const early = stoppedBy === STOP_REASONS.interrupted || stoppedBy === STOP_REASONS.receiveBudget;
    return [done, early ? EXIT_CODES.partial : EXIT_CODES.ok];
  } catch (error) {
    if (!(error instanceof RedriveError)) throw error;
    return [{ ...withJournal, ...error.tally, stoppedBy: 'failed', error: error.message }, EXIT_CODES.failed];
  } finally {
    progress.stop();
    await journal.close();
  }
}

export function registerRedriveCommand(program: Command, host: CommandHost): void {
  const command = program
    .command('redrive')
    .description('move DLQ messages back to the ingest queue (SQS move task on AWS, client-side where the endpoint has none)')
    .option('--dry-run', 'count and list what would move, marking what will fail again unless something changed; move nothing')
    .option('--reason <reason...>', `move only messages whose recorded ingest-failure-reason is one of these (${NO_RECORDED_REASON}: those without one; client-side)`, reasonArgument)
    .option('--limit <n>', 'move at most n messages (client-side)', wholeNumber(1))
    .option('--rate <n>', 'messages per second at most (MaxNumberOfMessagesPerSecond for a move task)', positiveNumber)
    .option('--journal <file>', 'client-side journal of sent message ids (default: one per DLQ in the temp directory)')
    .option('--method <method>', 'auto, move-task or client-side', oneOf(Object.values(REDRIVE_METHODS)), REDRIVE_METHODS.auto);
  addConnectionOptions(command, ['dlqUrl', 'queueUrl']);
  addJsonOption(command);
  command.addHelpText(
    'after',
    '\nClient-side, each batch is received from the DLQ, sent to the ingest queue (same body and attributes, minus the\n' +
      "worker's ingest-failure-* ones), its ids journaled and fsynced, then deleted from the DLQ. A rerun after an\n" +
      'interruption deletes journaled messages without sending them again. Ctrl-C stops after the batch in hand (exit 3).\n' +
      'One window remains: a crash between a send and its journal write sends that batch twice on the rerun; the worker\n' +
      'is idempotent, so a duplicate costs only work. A move task is cancelled on Ctrl-C; what it moved stays moved.\n' +
      'A move task moves every message: --reason and --limit use the client-side move. Messages whose recorded reason is\n' +
      `permanent (all but ${RETRIES_EXHAUSTED}) fail again unless their cause is fixed: --dry-run marks them; \`dlq drop\` removes them.`,
  );
  command.action(async (flags: RedriveFlags) => {
    const { context } = host;
    const connection = resolveConnection(flags, context.env);
    const destinationLocator = resolveQueue(flags, context.env);
    const dlqLocator = resolveDeadLetterQueue(flags, context.env);
    const [report, exitCode] = await withAwsClients(context, connection, async ({ sqs }) => {
      const [dlq, destination] = await Promise.all([
        deadLetterQueueUrlOf(sqs, dlqLocator).then((url) => readQueueSnapshot(sqs, url)),
        queueUrlOf(sqs, destinationLocator).then((url) => readQueueSnapshot(sqs, url)),
      ]);
      if (dlq.arn === destination.arn) throw new UsageError(`the dead-letter queue and the ingest queue are the same queue (${dlq.url})`);
      const queues = { sqs, dlq, destination };
      const request: RedriveRequest = { method: flags.method, limit: flags.limit, rate: flags.rate, filtered: flags.reason !== undefined };
      const support = needsMoveTaskProbe(request) ? await probeMoveTasks(sqs, dlq.arn) : undefined;
      const choice = chooseRedriveMethod(request, support);
      note(context, flags.json === true, `method: ${choice.method} (${choice.why})`);
      const report = baseReport(flags, queues, choice);
      if (flags.dryRun === true) return dryRun(context, queues, flags, report);
      const [done, exitCode] = choice.method === REDRIVE_METHODS.moveTask ? await moveTask(context, queues, flags, report) : await clientSide(context, queues, flags, report);
      const dlqAfter = messageCountsOf(await readQueueSnapshot(sqs, dlq.url));
      return [{ ...done, dlqAfter }, exitCode] as const;
    });
    printReport(context, flags.json === true, { data: report, human: () => redriveLines(report) });
    if (report.error !== undefined) context.stderr.write(`error: ${report.error}\n`);
    host.exit(exitCode);
  });
}
