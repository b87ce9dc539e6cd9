import type { Command } from 'commander';
import { delAlias, listAliases, setAlias } from '../../accounts/aliases.js';
import { addDomain, delDomain, describeDomains } from '../../accounts/domains.js';
import { addUser, changePassword, delUser, listUsers } from '../../accounts/users.js';
import type { Config } from '../../config.js';
import { connectEngine, type Engine } from '../../docker/engine.js';
import { createProgress, type Progress } from '../../progress.js';
import { parseAddress } from '../../validate.js';
import { parseAlias } from '../../accounts/aliases.js';
import { configFor, printJson, type CliContext } from '../context.js';
import { newPassword } from '../prompt.js';

interface JsonOpt { json?: boolean }

/** Commands share one shape: config, engine, progress, one library call, text or --json. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function action<A extends any[]>(
  context: CliContext,
  run: (docker: Engine, config: Config, progress: Progress, ...args: A) => Promise<{ json: unknown; text: string }>,
  // Checks the arguments before connecting (a bad address never reaches the engine).
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  prepare?: (...args: any[]) => void | Promise<void>,
) {
  return async (...args: unknown[]) => {
    const command = args[args.length - 1] as Command;
    const opts = args[args.length - 2] as JsonOpt;
    const config = configFor(command, context);
    await prepare?.(...(args as string[]));
    const progress = createProgress(context.stderr, opts.json);
    const result = await run(await connectEngine(), config, progress, ...(args as A));
    progress.stop();
    if (opts.json) printJson(context, result.json);
    else if (result.text) context.stdout.write(result.text.endsWith('\n') ? result.text : `${result.text}\n`);
  };
}

/**
 * An action that needs a new password: the address is checked first, then the
 * password is read (prompt or --password-stdin), before the engine is touched.
 */
function passwordAction(
  context: CliContext,
  run: (docker: Engine, config: Config, progress: Progress, address: string, password: string) => Promise<{ json: unknown; text: string }>,
) {
  let password = '';
  return action(
    context,
    (docker, config, progress, address: string) => run(docker, config, progress, address, password),
    async (address: string, opts: { passwordStdin?: boolean }) => {
      parseAddress(address);
      password = await newPassword(context, opts.passwordStdin ?? false);
    },
  );
}

export function register(program: Command, context: CliContext): void {
  program
    .command('add-user')
    .description('add a mail account (password from a prompt or --password-stdin)')
    .argument('<address>', 'the account, e.g. alice@example.com')
    .option('--password-stdin', 'read the password from stdin (one line)')
    .option('--json', 'print the result as JSON')
    .action(passwordAction(context, async (docker, config, progress, address, password) => {
      const r = await addUser(docker, config, address, password, progress);
      return { json: r, text: `added ${r.address}${r.domainAdded ? ' (and its new domain)' : ''}` };
    }));

  program
    .command('passwd')
    .description("change an account's password (prompt or --password-stdin)")
    .argument('<address>', 'the account')
    .option('--password-stdin', 'read the new password from stdin (one line)')
    .option('--json', 'print the result as JSON')
    .action(passwordAction(context, async (docker, config, _p, address, password) => {
      const a = await changePassword(docker, config, address, password);
      return { json: { address: a }, text: `changed the password of ${a}` };
    }));

  program
    .command('del-user')
    .description('remove a mail account (its mail is kept unless --purge)')
    .argument('<address>', 'the account')
    .option('--purge', 'also delete its mail')
    .option('--json', 'print the result as JSON')
    .action(action(context, async (docker, config, _p, address: string, opts: { purge?: boolean }) => {
      const r = await delUser(docker, config, address, opts);
      return { json: r, text: `removed ${r.address}${r.purged ? ' and its mail' : ' (its mail is kept)'}` };
    }, (address: string) => { parseAddress(address); }));

  program
    .command('list-users')
    .description('list the mail accounts')
    .option('--json', 'print a JSON array, one object per user')
    .action(action(context, async (docker, config) => {
      const users = await listUsers(docker, config);
      if (!users.length) context.stderr.write('no users yet: add one with `mailctl add-user ADDRESS`\n');
      return { json: users, text: users.map((u) => u.address).join('\n') };
    }));

  program
    .command('add-domain')
    .description('serve another domain (with its own DKIM key); restarts chasquid')
    .argument('<domain>', 'e.g. example.org')
    .option('--json', 'print the result as JSON')
    .action(action(context, async (docker, config, progress, domain: string) => {
      const r = await addDomain(docker, config, domain, progress);
      return { json: r, text: r.added ? `added ${r.domain}: publish its records (\`mailctl dns --domain ${r.domain}\`)` : `${r.domain} is already served` };
    }));

  program
    .command('del-domain')
    .description('stop serving a domain (refuses while it has users, unless --force)')
    .argument('<domain>', 'the domain')
    .option('--force', 'remove it even with users (their accounts go, their mail is kept)')
    .option('--json', 'print the result as JSON')
    .action(action(context, async (docker, config, progress, domain: string, opts: { force?: boolean }) => {
      const usersOf = async (d: string) => (await listUsers(docker, config)).filter((u) => u.domain === d).map((u) => u.address);
      const r = await delDomain(docker, config, domain, usersOf, opts, progress);
      for (const user of r.removedUsers) await delUser(docker, config, user, {});
      return { json: r, text: `removed ${r.domain}${r.removedUsers.length ? ` and ${r.removedUsers.length} account(s)` : ''}` };
    }));

  program
    .command('list-domains')
    .description('list the domains this server receives mail for')
    .option('--json', 'print a JSON array, one object per domain')
    .action(action(context, async (docker, config) => {
      const domains = await describeDomains(docker, config);
      return { json: domains, text: domains.map((d) => `${d.domain}${d.main ? ' (main)' : ''}${d.dkimSelectors.length ? ` dkim: ${d.dkimSelectors.join(', ')}` : ''}`).join('\n') };
    }));

  program
    .command('add-alias')
    .description('make ALIAS deliver to TARGETs (*@domain: catch-all); replaces an existing alias')
    .argument('<alias>', 'e.g. postmaster@example.com or *@example.com')
    .argument('<target...>', 'addresses to deliver to')
    .option('--json', 'print the result as JSON')
    .action(action(context, async (docker, config, _p, alias: string, targets: string[]) => {
      const r = await setAlias(docker, config, alias, targets);
      return { json: r, text: `${r.alias} -> ${r.targets.join(', ')}` };
    }, (alias: string, targets: string[]) => { parseAlias(alias); targets.forEach((t) => parseAddress(t)); }));

  program
    .command('del-alias')
    .description('remove an alias')
    .argument('<alias>', 'the alias')
    .option('--json', 'print the result as JSON')
    .action(action(context, async (docker, config, _p, alias: string) => {
      const a = await delAlias(docker, config, alias);
      return { json: { alias: a }, text: `removed ${a}` };
    }, (alias: string) => { parseAlias(alias); }));

  program
    .command('list-aliases')
    .description('list the aliases')
    .option('--json', 'print a JSON array, one object per alias')
    .action(action(context, async (docker, config) => {
      const aliases = await listAliases(docker, config);
      return { json: aliases, text: aliases.map((a) => `${a.alias} -> ${a.targets.join(', ')}`).join('\n') };
    }));
}
