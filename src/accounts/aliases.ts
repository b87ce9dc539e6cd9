/**
 * Aliases are chasquid's own per-domain aliases files (domains/<d>/aliases),
 * changed by `mailctl-aliases` in the chasquid container under a lock. A
 * SIGHUP makes chasquid re-read them at once.
 */
import type { Config } from '../config.js';
import { readFile } from '../docker/archive.js';
import type { Engine } from '../docker/engine.js';
import { execIn } from '../docker/exec.js';
import { OperationalError, UsageError } from '../errors.js';
import { CHASQUID_DOMAINS_DIR } from '../layout.js';
import { runningService } from '../stack/running.js';
import { normalizeDomain, parseAddress } from '../validate.js';
import { parseAliases, type AliasEntry } from './aliases-file.js';
import { listDomains } from './domains.js';

/** ALIAS is user@domain, or *@domain for the domain's catch-all. */
export function parseAlias(input: string): { local: string; domain: string; address: string } {
  if (input.startsWith('*@')) {
    const domain = normalizeDomain(input.slice(2), `the domain of "${input}"`);
    return { local: '*', domain, address: `*@${domain}` };
  }
  return parseAddress(input);
}

async function servedDomain(docker: Engine, config: Config, domain: string): Promise<void> {
  if (!(await listDomains(docker, config)).includes(domain)) {
    throw new UsageError(`${domain} is not a domain of this server: add it with \`mailctl add-domain ${domain}\``);
  }
}

async function reload(docker: Engine, config: Config): Promise<void> {
  await (await runningService(docker, config, 'chasquid')).kill({ signal: 'SIGHUP' });
}

export async function setAlias(docker: Engine, config: Config, aliasInput: string, targetInputs: string[]): Promise<AliasEntry> {
  const alias = parseAlias(aliasInput);
  if (targetInputs.length === 0) throw new UsageError('give at least one target address');
  const targets = targetInputs.map((t) => parseAddress(t).address);
  if (targets.includes(alias.address)) throw new UsageError(`${alias.address} cannot be its own target`);
  await servedDomain(docker, config, alias.domain);
  const chasquid = await runningService(docker, config, 'chasquid');
  const r = await execIn(chasquid, ['/usr/local/bin/mailctl-aliases', 'set', alias.domain, alias.local, targets.join(',')], { user: 'chasquid' });
  if (r.exitCode !== 0) throw new OperationalError(`setting ${alias.address} failed: ${r.stderr.trim() || `exit ${r.exitCode}`}`);
  await reload(docker, config);
  return { alias: alias.address, domain: alias.domain, targets };
}

export async function delAlias(docker: Engine, config: Config, aliasInput: string): Promise<string> {
  const alias = parseAlias(aliasInput);
  await servedDomain(docker, config, alias.domain);
  const chasquid = await runningService(docker, config, 'chasquid');
  const r = await execIn(chasquid, ['/usr/local/bin/mailctl-aliases', 'del', alias.domain, alias.local], { user: 'chasquid' });
  if (r.exitCode === 4) throw new UsageError(`${alias.address} is not an alias (see \`mailctl list-aliases\`)`);
  if (r.exitCode !== 0) throw new OperationalError(`removing ${alias.address} failed: ${r.stderr.trim() || `exit ${r.exitCode}`}`);
  await reload(docker, config);
  return alias.address;
}

export async function listAliases(docker: Engine, config: Config): Promise<AliasEntry[]> {
  const chasquid = await runningService(docker, config, 'chasquid');
  const out: AliasEntry[] = [];
  for (const domain of await listDomains(docker, config)) {
    const text = (await readFile(chasquid, `${CHASQUID_DOMAINS_DIR}/${domain}/aliases`))?.toString() ?? '';
    out.push(...parseAliases(text, domain));
  }
  return out;
}
