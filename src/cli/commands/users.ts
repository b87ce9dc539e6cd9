import type { Command } from 'commander';
import { addUser, delUser, sendersByUser } from '../../accounts/changes.js';
import type { SenderAddress } from '../../accounts/senders.js';
import { byDomainThenAddress } from '../../accounts/passwd.js';
import { changePassword, listUsers } from '../../accounts/users.js';
import { quotaUsages } from '../../accounts/quota.js';
import { usageText } from './quota.js';
import type { Config } from '../../config/config.js';
import type { Engine } from '../../docker/engine.js';
import type { Progress } from '../../core/progress.js';
import { parseAddress } from '../../names/address.js';
import type { CliContext } from '../context.js';
import { aliasChangeLines } from './aliases.js';
import { action, type Output } from '../runner.js';
import { newPassword } from '../prompt.js';
import { refreshForDomains } from '../../plan/refresh-domains.js';

/**
 * An action that needs a new password: the address is checked first, then the
 * password is read (prompt or --password-stdin), before the engine is touched.
 */
function passwordAction(
  context: CliContext,
  run: (docker: Engine, config: Config, progress: Progress, address: string, password: string) => Promise<Output>,
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

/** A changed list of domains reaches the web service and the certificate. */
const webFollows = (docker: Engine, config: Config, progress: Progress) => (domains: readonly string[]) => refreshForDomains(docker, config, domains, progress);

export function register(program: Command, context: CliContext): void {
  program
    .command('add-user')
    .description('add a mail account (password from a prompt or --password-stdin)')
    .argument('<address>', 'the account, e.g. alice@example.com')
    .option('--password-stdin', 'read the password from stdin (one line)')
    .option('--json', 'print the result as JSON')
    .action(passwordAction(context, async (docker, config, progress, address, password) => {
      const r = await addUser(docker, config, address, password, progress, webFollows(docker, config, progress));
      const lines = [`added ${r.address}${r.unicode ? ` (${r.unicode})` : ''}${r.domainAdded ? ' (and its new domain)' : ''}`];
      if (r.setAside) lines.push(`mail an earlier ${r.address} left was set aside in the dovecot container: ${r.setAside}`);
      for (const role of r.roleAliases) lines.push(`${role.alias} -> ${role.target}`);
      for (const warning of r.warnings) context.stderr.write(`mailctl: warning: ${warning}\n`);
      return { json: r, text: lines.join('\n') };
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
      const kept = r.purged ? ' and its mail' : r.setAside ? ` (its mail is kept in the dovecot container: ${r.setAside})` : '';
      const remade = r.roleAliases.map((a) => `${a.alias} -> ${a.target} (made again: the address must keep working)`);
      return { json: r, text: [`removed ${r.address}${kept}`, ...aliasChangeLines(r.aliasChanges), ...remade].join('\n') };
    }, (address: string) => { parseAddress(address); }));

  program
    .command('list-users')
    .description('list the mail accounts')
    .option('--json', 'print a JSON array, one object per user')
    .action(action(context, async (docker, config) => {
      const users = (await listUsers(docker, config)).sort(byDomainThenAddress);
      if (!users.length) context.stderr.write('no users yet: add one with `mailctl add-user ADDRESS`\n');
      const senders = users.length ? await sendersByUser(docker, config) : new Map();
      const quotas = users.length ? await quotaUsages(docker, config) : new Map();
      const json = users.map((u) => ({ ...u, senders: senders.get(u.address) ?? [], quota: quotas.get(u.address) }));
      const line = (u: (typeof json)[number]) => {
        const also = u.senders.filter((s: SenderAddress) => s.via !== 'own').map((s: SenderAddress) => s.address);
        return `${u.address}${u.unicode ? ` (${u.unicode})` : ''}${u.quota ? `   ${usageText(u.quota)}` : ''}${also.length ? `   sends also as: ${also.join(', ')}` : ''}`;
      };
      return { json, text: json.map(line).join('\n') };
    }));
}
