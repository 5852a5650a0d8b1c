/** `dlq drop`: deletes DLQ messages that must not be redriven, each one journaled first. */
import type { Command } from 'commander';
import { withAwsClients } from '../aws-session.ts';
import { addConnectionOptions, addJsonOption } from '../connection-options.ts';
import type { CommandHost } from '../context.ts';
import { receiveBudget } from '../dead-letter-scan.ts';
import { messageIdArgument, reasonArgument, selectorFromFlags, type SelectorFlags } from '../dead-letter-selector.ts';
import { NO_RECORDED_REASON, RECORDED_REASONS, RETRIES_EXHAUSTED } from '../dead-letter-reasons.ts';
import { dropMessages } from '../drop/drop-messages.ts';
import { defaultDropJournalPath, openDropJournal } from '../drop/journal.ts';
import { dropExitCode, dropLines, dropReport } from '../drop/report.ts';
import { note, printReport } from '../output.ts';
import { deadLetterQueueUrlOf } from '../queue-targets.ts';
import { messageCountsOf, readQueueSnapshot } from '../queue-snapshot.ts';
import { resolveConnection, resolveDeadLetterQueue, type ConnectionFlags } from '../settings.ts';

interface DropFlags extends ConnectionFlags, SelectorFlags {
  readonly json?: boolean;
  readonly dryRun?: boolean;
  readonly journal?: string;
}

export function registerDlqDropCommand(dlq: Command, host: CommandHost): void {
  const command = dlq
    .command('drop')
    .description('delete DLQ messages that must not be redriven (by id, by recorded reason, or all), journaling each one first')
    .option('--id <messageId...>', 'the messages with these ids (as `dlq peek` shows them; several: a b or a,b)', messageIdArgument)
    .option('--reason <reason...>', `the messages whose recorded ingest-failure-reason is one of these; ${NO_RECORDED_REASON}: those without one`, reasonArgument)
    .option('--all', 'every message the DLQ holds')
    .option('--dry-run', 'list what would be dropped (id, object, reason, receive count); delete nothing')
    .option('--journal <file>', 'append the dropped messages here (default: dlq-dropped-<UTC time>.jsonl in the current directory)');
  addConnectionOptions(command, ['dlqUrl', 'queueUrl']);
  addJsonOption(command);
  command.addHelpText(
    'after',
    '\nGive exactly one of --id, --reason, --all. Before each DeleteMessageBatch the messages it deletes are appended to\n' +
      'the journal (JSON Lines: messageId, body, message attributes, SQS attributes, reason, droppedAt) and fsynced, so a\n' +
      'dropped message can be sent again from its line. Only messages in the DLQ when the command starts are considered;\n' +
      'the others are hidden while it runs and made visible again at once when it ends. Ctrl-C stops after the batch in\n' +
      'hand (exit 3).\n\n' +
      "Reasons the worker records (`dlq peek` shows each message's):\n" +
      `  ${RECORDED_REASONS.join(', ')}\n` +
      `  ${NO_RECORDED_REASON}: no recorded reason (SQS moved it after maxReceiveCount receives)\n` +
      `${RETRIES_EXHAUSTED} and ${NO_RECORDED_REASON} are transient failures: redrive those rather than drop them.`,
  );
  command.action(async (flags: DropFlags) => {
    const { context } = host;
    const selector = selectorFromFlags(flags);
    if (typeof selector === 'string') {
      command.error(`error: ${selector}`);
      return;
    }
    const connection = resolveConnection(flags, context.env);
    const locator = resolveDeadLetterQueue(flags, context.env);
    const dryRun = flags.dryRun === true;
    const report = await withAwsClients(context, connection, async ({ sqs }) => {
      const dlqUrl = await deadLetterQueueUrlOf(sqs, locator);
      const before = messageCountsOf(await readQueueSnapshot(sqs, dlqUrl));
      const startedAtMs = context.clock.now();
      const journalPath = flags.journal ?? defaultDropJournalPath(context.cwd ?? process.cwd(), startedAtMs);
      const outcome = await dropMessages(sqs, {
        dlqUrl,
        selector,
        dryRun,
        startedAtMs,
        signal: context.signal,
        maxReceives: receiveBudget(before.messages),
        clock: context.clock,
        openJournal: async () => {
          const journal = await openDropJournal(journalPath);
          note(context, flags.json === true, `journal: ${journal.path}`);
          return journal;
        },
      });
      const after = messageCountsOf(await readQueueSnapshot(sqs, dlqUrl));
      return dropReport(outcome, { dryRun, dlqUrl, selector, dlqBefore: before, dlqAfter: after });
    });
    printReport(context, flags.json === true, { data: report, human: () => dropLines(report) });
    if (report.error !== undefined) context.stderr.write(`error: ${report.error}\n`);
    host.exit(dropExitCode(report));
  });
}
