/** Each served domain's DKIM key, made by chasquid's own tool in its state volume. */
import type { Config } from '../config/config.js';
import type { ContainerHandle, Engine } from '../docker/engine.js';
import { OperationalError } from '../core/errors.js';
import { CHASQUID_DOMAINS_DIR } from '../model/layout.js';
import type { Progress } from '../core/progress.js';
import { restartService, runningService } from '../runtime/running.js';
import { dkimKeyFile, dkimTxtValue, selectorOf } from '../dns/dkim.js';

/** The DKIM TXT values of a domain, by selector, from its private keys. */
export async function dkimRecords(docker: Engine, config: Config, domain: string): Promise<{ selector: string; value: string }[]> {
  const chasquid = await runningService(docker, config, 'chasquid');
  const files = await chasquid.listDir(`${CHASQUID_DOMAINS_DIR}/${domain}`);
  const out: { selector: string; value: string }[] = [];
  for (const selector of files.map(selectorOf).filter((s): s is string => !!s)) {
    const pem = await chasquid.readFile(`${CHASQUID_DOMAINS_DIR}/${domain}/${dkimKeyFile(selector)}`);
    if (pem) out.push({ selector, value: dkimTxtValue(pem.toString()) });
  }
  return out;
}

/**
 * The same, in any started container of the chasquid image with the state
 * volume mounted: the running service, or a helper before the first start.
 */
export async function makeDkimKey(chasquid: ContainerHandle, config: Config, domain: string): Promise<boolean> {
  const files = await chasquid.listDir(`${CHASQUID_DOMAINS_DIR}/${domain}`);
  if (files.some((f) => selectorOf(f))) return false;
  const made = await chasquid.exec(['chasquid-util', '-C=/etc/chasquid', 'dkim-keygen', domain, config.dkimSelector], { user: 'chasquid' });
  if (made.exitCode !== 0) throw new OperationalError(`making the DKIM key for ${domain} failed: ${(made.stderr || made.stdout).trim()}`);
  return true;
}

/** Every served domain gets a DKIM key; chasquid restarts once if any was made (it loads keys at start). */
export async function ensureDkimKeys(docker: Engine, config: Config, progress: Progress): Promise<string[]> {
  const chasquid = await runningService(docker, config, 'chasquid');
  const made: string[] = [];
  for (const domain of await chasquid.listDir(CHASQUID_DOMAINS_DIR)) {
    if (await makeDkimKey(chasquid, config, domain)) made.push(domain);
  }
  if (made.length) await restartService(docker, config, 'chasquid', `new DKIM key for ${made.join(', ')} (it loads keys only at start)`, progress);
  return made;
}
