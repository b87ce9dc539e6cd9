import type { Command } from 'commander';
import { addDomain, delDomain } from '../../accounts/changes.js';
import { describeDomains } from '../../accounts/domains.js';
import type { Config } from '../../config/config.js';
import type { Engine } from '../../docker/engine.js';
import type { Progress } from '../../core/progress.js';
import { normalizeDomain } from '../../names/validate.js';
import type { CliContext } from '../context.js';
import { aliasChangeLines } from './aliases.js';
import { action } from '../runner.js';
import { refreshForDomains } from '../../plan/refresh-domains.js';

/** A changed list of domains reaches the web service and the certificate. */
const webFollows = (docker: Engine, config: Config, progress: Progress) => (domains: readonly string[]) => refreshForDomains(docker, config, domains, progress);

export function register(program: Command, context: CliContext): void {
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
}
