/** `dlq`: the dead-letter queue's subcommands. */
import type { Command } from 'commander';
import type { CommandHost } from '../context.ts';
import { registerDlqDropCommand } from './dlq-drop.ts';
import { registerDlqPeekCommand } from './dlq-peek.ts';

export function registerDlqCommands(program: Command, host: CommandHost): void {
  const dlq = program.command('dlq').description('look into the dead-letter queue, and drop what must not be redriven');
  registerDlqPeekCommand(dlq, host);
  registerDlqDropCommand(dlq, host);
}
