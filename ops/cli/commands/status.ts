/** `status`: the ingest queue and its DLQ at a glance. */
import type { Command } from 'commander';
import { withAwsClients } from '../aws-session.ts';
import type { CommandHost } from '../context.ts';
import { addConnectionOptions, addJsonOption } from '../connection-options.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import type { AgeMethod } from '../oldest-message-age.ts';
import { printReport } from '../output.ts';
import { deadLetterQueueUrlOf, queueUrlOf } from '../queue-targets.ts';
import { readIngestStatus, statusLines } from '../queue-status.ts';
import { resolveConnection, resolveDeadLetterQueue, resolveQueue, type ConnectionFlags } from '../settings.ts';

interface StatusFlags extends ConnectionFlags {
  readonly json?: boolean;
  readonly sampleAge?: boolean;
}

export function registerStatusCommand(program: Command, host: CommandHost): void {
  const command = program
    .command('status')
    .description('counts (visible, in flight, delayed) and oldest message of the ingest queue and its DLQ, and their redrive link')
    .option('--sample-age', 'without CloudWatch, sample the ingest queue too for its oldest message (each sample counts as a receive)');
  addConnectionOptions(command, ['queueUrl', 'dlqUrl']);
  addJsonOption(command);
  command.addHelpText(
    'after',
    '\nThe age is CloudWatch ApproximateAgeOfOldestMessage on AWS. With --endpoint (no CloudWatch) it is estimated from the\n' +
      'SentTimestamp of up to 10 visible messages received with VisibilityTimeout 0; a queue with a redrive policy is\n' +
      'sampled only with --sample-age, since every receive counts toward its maxReceiveCount.',
  );
  command.action(async (flags: StatusFlags) => {
    const { context } = host;
    const connection = resolveConnection(flags, context.env);
    const queue = resolveQueue(flags, context.env);
    const dlq = resolveDeadLetterQueue(flags, context.env);
    // An endpoint of one's own (an emulator) has no CloudWatch.
    const metric =
      connection.aws.endpoint === undefined
        ? (await import('../cloudwatch-age-metric.ts')).createCloudWatchAgeMetric(connection.aws.region)
        : undefined;
    const ageMethod: AgeMethod = metric ? { kind: 'cloudwatch', metric } : { kind: 'sample', allowOnRedrivenQueue: flags.sampleAge === true };
    try {
      const status = await withAwsClients(context, connection, async ({ sqs }) => {
        const urls = { queueUrl: await queueUrlOf(sqs, queue), dlqUrl: await deadLetterQueueUrlOf(sqs, dlq) };
        return readIngestStatus(sqs, urls, ageMethod, context.clock.now());
      });
      printReport(context, flags.json === true, { data: status, human: () => statusLines(status) });
      host.exit(EXIT_CODES.ok);
    } finally {
      metric?.destroy();
    }
  });
}
