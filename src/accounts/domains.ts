/**
 * Domains chasquid serves: directories on its state volume, each with its
 * DKIM key and aliases file. chasquid reads the list only at start, so adding
 * or removing one restarts it; nothing else does. Their DKIM keys:
 * dkim-keys.ts; the DNS records they need: records.ts.
 */
import type { Config } from '../config/config.js';
import type { Engine } from '../docker/engine.js';
import { OperationalError } from '../core/errors.js';
import { CHASQUID_DOMAINS_DIR } from '../model/layout.js';
import type { Progress } from '../core/progress.js';
import { restartService, runningService } from '../runtime/running.js';
import { selectorOf } from '../dns/dkim.js';
import { makeDkimKey } from './dkim-keys.js';

export interface DomainInfo {
  domain: string;
  main: boolean;
  dkimSelectors: string[];
}

/** The served domains, from chasquid's volume while it runs; undefined before (then only the main one is known). */
export async function currentDomains(docker: Engine, config: Config): Promise<string[] | undefined> {
  return listDomains(docker, config).catch(() => undefined);
}

export async function listDomains(docker: Engine, config: Config): Promise<string[]> {
  return (await runningService(docker, config, 'chasquid')).listDir(CHASQUID_DOMAINS_DIR);
}

export async function describeDomains(docker: Engine, config: Config): Promise<DomainInfo[]> {
  const chasquid = await runningService(docker, config, 'chasquid');
  const out: DomainInfo[] = [];
  for (const domain of await chasquid.listDir(CHASQUID_DOMAINS_DIR)) {
    const files = await chasquid.listDir(`${CHASQUID_DOMAINS_DIR}/${domain}`);
    out.push({ domain, main: domain === config.domain, dkimSelectors: files.map(selectorOf).filter((s): s is string => !!s) });
  }
  return out;
}

/**
 * What must follow the list of domains besides chasquid (the web service's
 * sites, the certificate's names): given by the caller (the command passes
 * plan/refresh-domains.ts), run before chasquid restarts on the new list.
 */
export type DomainsChanged = (domains: readonly string[]) => Promise<unknown>;
const nothingElse: DomainsChanged = async () => {};

/** Make chasquid serve `domain` (punycode), with a DKIM key. Returns false when it already did. Callers hold the accounts lock. */
export async function createDomain(docker: Engine, config: Config, domain: string, progress: Progress, domainsChanged = nothingElse): Promise<boolean> {
  if ((await listDomains(docker, config)).includes(domain)) return false;
  const chasquid = await runningService(docker, config, 'chasquid');
  const made = await chasquid.exec(['mkdir', '-p', '-m', '0750', `${CHASQUID_DOMAINS_DIR}/${domain}`], { user: 'chasquid' });
  if (made.exitCode !== 0) throw new OperationalError(`adding domain ${domain} failed: ${made.stderr.trim()}`);
  await makeDkimKey(chasquid, config, domain);
  await domainsChanged(await listDomains(docker, config));
  await restartService(docker, config, 'chasquid', `new domain ${domain} (it reads domains only at start)`, progress);
  return true;
}

/** Stop serving `domain` (its aliases and DKIM key go with it). Callers hold the accounts lock and deal with its users. */
export async function removeDomain(docker: Engine, config: Config, domain: string, progress: Progress, domainsChanged = nothingElse): Promise<void> {
  const chasquid = await runningService(docker, config, 'chasquid');
  const removed = await chasquid.exec(['rm', '-rf', '--', `${CHASQUID_DOMAINS_DIR}/${domain}`], { user: 'chasquid' });
  if (removed.exitCode !== 0) throw new OperationalError(`removing domain ${domain} failed: ${removed.stderr.trim()}`);
  await domainsChanged(await listDomains(docker, config));
  await restartService(docker, config, 'chasquid', `domain ${domain} removed (it reads domains only at start)`, progress);
}
