/**
 * The command-line entry point: builds the commander program, runs it, and
 * owns exit codes (0 ok, 1 operational failure, 2 usage or configuration
 * error). User errors print one line; stacks only with MAILCTL_DEBUG=1.
 */
import { Command, CommanderError } from 'commander';
import { OperationalError, UsageError } from '../core/errors.js';
import { version } from '../core/version.js';
import { registerCommands } from './commands/index.js';
import { connectDocker, type CliContext } from './context.js';

export function buildProgram(context: CliContext): Command {
  const program = new Command('mailctl')
    .description('Build and run a complete chasquid + dovecot mail server in Docker')
    .version(version(), '-V, --version', 'print the version')
    .option('--env-file <file>', 'read settings from FILE instead of ./.env')
    .showHelpAfterError('(run `mailctl --help` for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => context.stdout.write(s),
      writeErr: (s) => context.stderr.write(s),
    });
  registerCommands(program, context);
  return program;
}

export async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const context: CliContext = { env, stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, cwd: process.cwd(), connect: connectDocker };
  const debug = env.MAILCTL_DEBUG === '1';
  try {
    await buildProgram(context).parseAsync(argv);
    return 0;
  } catch (err) {
    return reportError(err, context, debug);
  }
}

function reportError(err: unknown, context: CliContext, debug: boolean): number {
  if (err instanceof CommanderError) {
    // commander has already printed its message (or the help / version text).
    return err.exitCode === 0 ? 0 : 2;
  }
  if (err instanceof UsageError || err instanceof OperationalError) {
    context.stderr.write(`mailctl: ${err.message}\n`);
    if (err instanceof OperationalError && err.details) {
      context.stderr.write(`${err.details.replace(/^/gm, '  | ')}\n`);
    }
    if (debug) context.stderr.write(`${err.stack}\n`);
    return err.exitCode;
  }
  const message = err instanceof Error ? err.message : String(err);
  context.stderr.write(`mailctl: unexpected error: ${message}${debug ? '' : ' (MAILCTL_DEBUG=1 shows details)'}\n`);
  if (debug && err instanceof Error) context.stderr.write(`${err.stack}\n`);
  return 1;
}
