/** Reading secrets and answers from the terminal or stdin. */
import { createInterface } from 'node:readline';
import { checkPassword, passwordFromStdin } from '../accounts/password.js';
import { UsageError } from '../core/errors.js';
import type { CliContext } from './context.js';

/** All of stdin, as text. */
export async function readStdin(stdin: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** One line from the terminal without echo. */
export function askHidden(context: CliContext, question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: context.stdin, output: context.stderr, terminal: true });
    const output = rl as unknown as { _writeToOutput: (s: string) => void };
    context.stderr.write(question);
    output._writeToOutput = () => {}; // no echo of what is typed
    rl.question('', (answer) => {
      rl.close();
      context.stderr.write('\n');
      resolve(answer);
    });
    rl.on('SIGINT', () => {
      rl.close();
      reject(new UsageError('cancelled'));
    });
  });
}

/** One visible line from the terminal, with a default. */
export function ask(context: CliContext, question: string, fallback = ''): Promise<string> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: context.stdin, output: context.stderr, terminal: true });
    rl.question(`${question}${fallback ? ` [${fallback}]` : ''}: `, (answer) => {
      rl.close();
      resolve(answer.trim() || fallback);
    });
  });
}

/** A new password: from stdin (--password-stdin), or a prompt with confirmation on a terminal. */
export async function newPassword(context: CliContext, fromStdin: boolean): Promise<string> {
  if (fromStdin) return passwordFromStdin(await readStdin(context.stdin));
  if (!context.stdin.isTTY) {
    throw new UsageError('no terminal to ask for the password: pipe it in with --password-stdin');
  }
  const first = checkPassword(await askHidden(context, 'Password: '));
  const second = await askHidden(context, 'Repeat password: ');
  if (first !== second) throw new UsageError('the passwords do not match; nothing was changed');
  return first;
}
