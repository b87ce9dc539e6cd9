import type { Command } from 'commander';
import { addUser, listUsers } from '../../accounts/users.js';
import { connectEngine } from '../../docker/engine.js';
import { createProgress } from '../../progress.js';
import { parseAddress } from '../../validate.js';
import { configFor, printJson, type CliContext } from '../context.js';
import { newPassword } from '../prompt.js';

export function register(program: Command, context: CliContext): void {
  program
    .command('add-user')
    .description('add a mail account (password from a prompt or --password-stdin)')
    .argument('<address>', 'the account, e.g. alice@example.com')
    .option('--password-stdin', 'read the password from stdin (one line)')
    .option('--json', 'print the result as JSON')
    .action(async (address: string, opts: { passwordStdin?: boolean; json?: boolean }, command: Command) => {
      const config = configFor(command, context);
      parseAddress(address); // a bad address fails before asking for a password
      const password = await newPassword(context, opts.passwordStdin ?? false);
      const docker = await connectEngine();
      const progress = createProgress(context.stderr, opts.json);
      const result = await addUser(docker, config, address, password, progress);
      progress.stop();
      if (opts.json) return printJson(context, result);
      context.stdout.write(`added ${result.address}${result.domainAdded ? ' (and its new domain)' : ''}\n`);
    });

  program
    .command('list-users')
    .description('list the mail accounts')
    .option('--json', 'print a JSON array, one object per user')
    .action(async (opts: { json?: boolean }, command: Command) => {
      const config = configFor(command, context);
      const users = await listUsers(await connectEngine(), config);
      if (opts.json) return printJson(context, users);
      for (const user of users) context.stdout.write(`${user.address}\n`);
      if (users.length === 0) context.stderr.write('no users yet: add one with `mailctl add-user ADDRESS`\n');
    });
}
