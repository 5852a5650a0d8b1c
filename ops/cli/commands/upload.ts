/** `upload`: local files into the raw bucket. */
import type { Command } from 'commander';
import { withAwsClients } from '../aws-session.ts';
import type { CommandHost } from '../context.ts';
import { addConnectionOptions, addJsonOption } from '../connection-options.ts';
import { EXIT_CODES } from '../exit-codes.ts';
import { formatBytes } from '../format.ts';
import { printReport, PROGRESS_UNITS, startProgress } from '../output.ts';
import { resolveBucket, resolveConnection, type ConnectionFlags } from '../settings.ts';
import { planUploads, uploadFiles } from '../upload-files.ts';

interface UploadFlags extends ConnectionFlags {
  readonly json?: boolean;
  readonly prefix: string;
}

export function registerUploadCommand(program: Command, host: CommandHost): void {
  const command = program
    .command('upload')
    .description('put local files into the raw bucket (multipart, so big files work); key = prefix + file name')
    .argument('<files...>', 'files to upload')
    .option('--prefix <prefix>', 'key prefix, e.g. "site-1/2026-11-25/"', '');
  addConnectionOptions(command, ['rawBucket']);
  addJsonOption(command);
  command.action(async (paths: string[], flags: UploadFlags) => {
    const { context } = host;
    const json = flags.json === true;
    const connection = resolveConnection(flags, context.env);
    const bucket = resolveBucket(flags, context.env, 'rawBucket');
    const files = await planUploads(paths, flags.prefix);
    const totalBytes = files.reduce((sum, file) => sum + file.bytes, 0);
    const progress = startProgress(context, json, totalBytes, PROGRESS_UNITS.bytes);
    const result = await withAwsClients(context, connection, ({ s3 }) =>
      uploadFiles(s3, files, { bucket, signal: context.signal, onBytes: (bytes) => progress.update(bytes) }),
    ).finally(() => progress.stop());
    const data = { bucket, ...result };
    printReport(context, json, {
      data,
      human: () => [
        ...result.uploaded.map((file) => `${file.path} -> s3://${bucket}/${file.key} (${formatBytes(file.bytes)})`),
        ...(result.interrupted ? [`interrupted: ${files.length - result.uploaded.length} file(s) not uploaded`] : []),
      ],
    });
    host.exit(result.interrupted ? EXIT_CODES.partial : EXIT_CODES.ok);
  });
}
