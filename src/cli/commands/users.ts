import type { Command } from 'commander';
import { parseAlias, parseTargets } from '../../accounts/aliases.js';
import { addDomain, addUser, changeSender, delAlias, delDomain, delUser, listAliases, sendersByUser, setAlias, type AliasView } from '../../accounts/changes.js';
import type { SenderAddress } from '../../accounts/senders.js';
import { describeDomains } from '../../accounts/domains.js';
import { byDomainThenAddress } from '../../accounts/passwd.js';
import { changePassword, listUsers } from '../../accounts/users.js';
import { quotaUsages } from '../../accounts/quota.js';
import { usageText } from './quota.js';
import type { Config } from '../../config/config.js';
import type { Engine } from '../../docker/engine.js';
import type { Progress } from '../../core/progress.js';
import { parseAddress, parseTarget } from '../../names/address.js';
import { normalizeDomain } from '../../names/validate.js';
import type { CliContext } from '../context.js';
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

/** `a@d -> b@d` and, when the chain goes further, where it ends. */
function aliasLine(a: AliasView): string {
  const line = `${a.alias} -> ${a.targets.join(', ')}`;
  if (a.loop) return `${line}   LOOP: ${a.loop.join(' -> ')}`;
  const ends = (a.delivers ?? []).filter((e) => !a.targets.includes(e.address) || e.kind !== 'account');
  return ends.length ? `${line}   (ends at ${(a.delivers ?? []).map((e) => `${e.address}${e.kind === 'account' ? '' : ` [${e.kind}]`}`).join(', ')})` : line;
}

function aliasChangeLines(changes: { alias: string; targets?: string[]; why: string }[]): string[] {
  return changes.map((c) => (c.targets ? `${c.alias} -> ${c.targets.join(', ')} (${c.why})` : `removed alias ${c.alias} (${c.why})`));
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

  for (const kind of ['allow', 'deny'] as const) {
    program
      .command(`${kind}-sender`)
      .description(kind === 'allow'
        ? 'let an account send as another address (on 587/465 each account sends only as itself and its aliases)'
        : 'take back an address an account may send as (an allowance, or an alias that delivers to it)')
      .argument('<user>', 'the account, e.g. alice@example.com')
      .argument('<address>', 'the address, e.g. team@example.com')
      .option('--json', 'print the result as JSON')
      .action(action(context, async (docker, config, _p, user: string, address: string) => {
        const r = await changeSender(docker, config, kind, user, address);
        const text = `${r.user} ${kind === 'allow' ? 'may now' : 'may no longer'} send as ${r.address}\n${r.user} sends as: ${r.senders.map((s) => s.address).join(', ')}`;
        return { json: r, text };
      }, (user: string, address: string) => { parseAddress(user); parseTarget(address); }));
  }

  program
    .command('add-domain')
    .description('serve another domain (with its own DKIM key); restarts chasquid')
    .argument('<domain>', 'e.g. example.org')
    .option('--json', 'print the result as JSON')
    .action(action(context, async (docker, config, progress, domain: string) => {
      const r = await addDomain(docker, config, domain, progress, webFollows(docker, config, progress));
      const text = r.added ? `added ${r.domain}: publish its records (\`mailctl dns --domain ${r.domain}\`)` : `${r.domain} is already served`;
      for (const warning of r.warnings) context.stderr.write(`mailctl: warning: ${warning}\n`);
      return { json: r, text: [text, ...r.roleAliases.map((a) => `${a.alias} -> ${a.target}`)].join('\n') };
    }, (domain: string) => { normalizeDomain(domain); }));

  program
    .command('del-domain')
    .description('stop serving a domain (refuses while it has users, unless --force)')
    .argument('<domain>', 'the domain')
    .option('--force', 'remove it even with users (their accounts go, their mail is kept)')
    .option('--json', 'print the result as JSON')
    .action(action(context, async (docker, config, progress, domain: string, opts: { force?: boolean }) => {
      const r = await delDomain(docker, config, domain, { ...opts, domainsChanged: webFollows(docker, config, progress) }, progress);
      const lines = [`removed ${r.domain}${r.removedUsers.length ? ` and ${r.removedUsers.length} account(s)` : ''}`];
      for (const kept of r.setAside) lines.push(`mail kept in the dovecot container: ${kept}`);
      return { json: r, text: [...lines, ...aliasChangeLines(r.aliasChanges)].join('\n') };
    }, (domain: string) => { normalizeDomain(domain); }));

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
      return { json: r, text: aliasLine(r) };
    }, (alias: string, targets: string[]) => { parseAlias(alias); parseTargets(targets); }));

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
      return { json: aliases, text: aliases.map(aliasLine).join('\n') };
    }));
}
