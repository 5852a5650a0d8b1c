/** `dlq peek`: what is in the DLQ and why, without consuming anything. */
import type { Command } from 'commander';
import { withAwsClients } from '../aws-session.ts';
import type { CommandHost } from '../context.ts';
import { addConnectionOptions, addJsonOption } from '../connection-options.ts';
import { describeDeadLetter, describeLines } from '../dead-letter-description.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import { plural } from '../format.ts';
import { wholeNumber } from '../option-parsers.ts';
import { printReport } from '../output.ts';
import { peekMessages } from '../peek-messages.ts';
import { deadLetterQueueUrlOf } from '../queue-targets.ts';
import { resolveConnection, resolveDeadLetterQueue, type ConnectionFlags } from '../settings.ts';

interface PeekFlags extends ConnectionFlags {
  readonly json?: boolean;
  readonly number: number;
}

const DEFAULT_COUNT = 10;
/** A peek holds what it reads hidden only while collecting; then it releases all of it at once. */
const PEEK_VISIBILITY_SECONDS = 30;

export function registerDlqPeekCommand(dlq: Command, host: CommandHost): void {
  const command = dlq
    .command('peek')
    .description('show DLQ messages (ids, receive counts, S3 objects, why they failed) without consuming them')
    .option('-n, --number <n>', 'messages to show', wholeNumber(1), DEFAULT_COUNT);
  addConnectionOptions(command, ['dlqUrl', 'queueUrl']);
  addJsonOption(command);
  command.addHelpText(
    'after',
    `\nMessages are received with a ${PEEK_VISIBILITY_SECONDS} s visibility timeout and made visible again at once when collected,\n` +
      "so the DLQ holds what it held. The receive count shown is SQS's ApproximateReceiveCount as this peek received it:\n" +
      'every receive counts, this peek and earlier ones included, so it goes up by one with each peek. A message the\n' +
      'worker dead-lettered itself is a new message in the DLQ: its count there has only the DLQ\'s own receives.',
  );
  command.action(async (flags: PeekFlags) => {
    const { context } = host;
    const connection = resolveConnection(flags, context.env);
    const locator = resolveDeadLetterQueue(flags, context.env);
    const result = await withAwsClients(context, connection, async ({ sqs }) => {
      const dlqUrl = await deadLetterQueueUrlOf(sqs, locator);
      const messages = await peekMessages(sqs, dlqUrl, { count: flags.number, visibilityTimeoutSeconds: PEEK_VISIBILITY_SECONDS });
      return { dlqUrl, messages: messages.map((message) => describeDeadLetter(message)) };
    });
    printReport(context, flags.json === true, {
      data: result,
      human: () => [
        `${plural(result.messages.length, 'message')} from ${result.dlqUrl}${result.messages.length === 0 ? ' (empty)' : ''}`,
        ...(result.messages.length === 0 ? [] : ["(receive count: SQS's ApproximateReceiveCount, this peek's receive included)"]),
        ...result.messages.flatMap((message) => ['', ...describeLines(message)]),
      ],
    });
    host.exit(EXIT_CODES.ok);
  });
}
