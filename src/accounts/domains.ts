/**
 * Domains chasquid serves: directories on its state volume, each with its
 * DKIM key and aliases file. chasquid reads the list only at start, so adding
 * or removing one restarts it; nothing else does.
 */
import type { Config } from '../config.js';
import { listDir, readFile } from '../docker/archive.js';
import { restartContainer } from '../docker/containers.js';
import type { Container, Engine } from '../docker/engine.js';
import { execIn } from '../docker/exec.js';
import { OperationalError, UsageError } from '../errors.js';
import { CHASQUID_DOMAINS_DIR, containerName } from '../layout.js';
import type { Progress } from '../progress.js';
import { waitHealthy } from '../stack/health.js';
import { runningService } from '../stack/running.js';
import { dkimKeyFile, dkimTxtValue, selectorOf } from '../dns/dkim.js';
import { allRecords, type DnsRecord } from '../dns/records.js';
import { refreshForDomains } from '../web/refresh.js';

export interface DomainInfo {
  domain: string;
  main: boolean;
  dkimSelectors: string[];
}

export async function listDomains(docker: Engine, config: Config): Promise<string[]> {
  return listDir(await runningService(docker, config, 'chasquid'), CHASQUID_DOMAINS_DIR);
}

export async function describeDomains(docker: Engine, config: Config): Promise<DomainInfo[]> {
  const chasquid = await runningService(docker, config, 'chasquid');
  const out: DomainInfo[] = [];
  for (const domain of await listDir(chasquid, CHASQUID_DOMAINS_DIR)) {
    const files = await listDir(chasquid, `${CHASQUID_DOMAINS_DIR}/${domain}`);
    out.push({ domain, main: domain === config.domain, dkimSelectors: files.map(selectorOf).filter((s): s is string => !!s) });
  }
  return out;
}

/** The DKIM TXT values of a domain, by selector, from its private keys. */
export async function dkimRecords(docker: Engine, config: Config, domain: string): Promise<{ selector: string; value: string }[]> {
  const chasquid = await runningService(docker, config, 'chasquid');
  const files = await listDir(chasquid, `${CHASQUID_DOMAINS_DIR}/${domain}`);
  const out: { selector: string; value: string }[] = [];
  for (const selector of files.map(selectorOf).filter((s): s is string => !!s)) {
    const pem = await readFile(chasquid, `${CHASQUID_DOMAINS_DIR}/${domain}/${dkimKeyFile(selector)}`);
    if (pem) out.push({ selector, value: dkimTxtValue(pem.toString()) });
  }
  return out;
}

async function restartChasquid(docker: Engine, config: Config, why: string, progress: Progress): Promise<void> {
  const name = containerName(config.project, 'chasquid');
  progress.step(`restarting chasquid: ${why} (it reads domains only at start)`);
  await restartContainer(docker, name);
  await waitHealthy(docker, [name], progress);
}

/** Generate the domain's DKIM key with chasquid's own tool, unless it has one. Returns true when made. */
async function ensureDkimKey(docker: Engine, config: Config, domain: string): Promise<boolean> {
  return makeDkimKey(await runningService(docker, config, 'chasquid'), config, domain);
}

/**
 * The same, in any started container of the chasquid image with the state
 * volume mounted: the running service, or a helper before the first start.
 */
export async function makeDkimKey(chasquid: Container, config: Config, domain: string): Promise<boolean> {
  const files = await listDir(chasquid, `${CHASQUID_DOMAINS_DIR}/${domain}`);
  if (files.some((f) => selectorOf(f))) return false;
  const made = await execIn(chasquid, ['chasquid-util', '-C=/etc/chasquid', 'dkim-keygen', domain, config.dkimSelector], { user: 'chasquid' });
  if (made.exitCode !== 0) throw new OperationalError(`making the DKIM key for ${domain} failed: ${(made.stderr || made.stdout).trim()}`);
  return true;
}

/** Make chasquid serve `domain` (punycode), with a DKIM key. Returns false when it already did. Callers hold the accounts lock. */
export async function createDomain(docker: Engine, config: Config, domain: string, progress: Progress): Promise<boolean> {
  if ((await listDomains(docker, config)).includes(domain)) return false;
  const chasquid = await runningService(docker, config, 'chasquid');
  const made = await execIn(chasquid, ['mkdir', '-p', '-m', '0750', `${CHASQUID_DOMAINS_DIR}/${domain}`], { user: 'chasquid' });
  if (made.exitCode !== 0) throw new OperationalError(`adding domain ${domain} failed: ${made.stderr.trim()}`);
  await ensureDkimKey(docker, config, domain);
  await refreshForDomains(docker, config, await listDomains(docker, config), progress);
  await restartChasquid(docker, config, `new domain ${domain}`, progress);
  return true;
}

/** The DNS records of every served domain (or only `only`), DKIM keys included: what `dns` prints and checks. */
export async function stackRecords(docker: Engine, config: Config, only?: string): Promise<DnsRecord[]> {
  const domains = (await describeDomains(docker, config)).filter((d) => !only || d.domain === only);
  if (only && domains.length === 0) throw new UsageError(`${only} is not a domain of this server (see \`mailctl list-domains\`)`);
  const keys = await Promise.all(domains.map(async (d) => ({ domain: d.domain, dkim: await dkimRecords(docker, config, d.domain) })));
  return allRecords(config, keys).filter((r) => !only || r.domain === only);
}

/** Every served domain gets a DKIM key; chasquid restarts once if any was made (it loads keys at start). */
export async function ensureDkimKeys(docker: Engine, config: Config, progress: Progress): Promise<string[]> {
  const made: string[] = [];
  for (const domain of await listDomains(docker, config)) {
    if (await ensureDkimKey(docker, config, domain)) made.push(domain);
  }
  if (made.length) await restartChasquid(docker, config, `new DKIM key for ${made.join(', ')}`, progress);
  return made;
}

/** Stop serving `domain` (its aliases and DKIM key go with it). Callers hold the accounts lock and deal with its users. */
export async function removeDomain(docker: Engine, config: Config, domain: string, progress: Progress): Promise<void> {
  const chasquid = await runningService(docker, config, 'chasquid');
  const removed = await execIn(chasquid, ['rm', '-rf', '--', `${CHASQUID_DOMAINS_DIR}/${domain}`], { user: 'chasquid' });
  if (removed.exitCode !== 0) throw new OperationalError(`removing domain ${domain} failed: ${removed.stderr.trim()}`);
  await refreshForDomains(docker, config, await listDomains(docker, config), progress);
  await restartChasquid(docker, config, `domain ${domain} removed`, progress);
}
