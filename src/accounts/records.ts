/** What a site publishes in DNS, from the domains it serves and their DKIM keys. */
import type { Config } from '../config/config.js';
import type { Engine } from '../docker/engine.js';
import { UsageError } from '../core/errors.js';
import { allRecords, type DnsRecord } from '../dns/records.js';
import { dkimRecords } from './dkim-keys.js';
import { describeDomains } from './domains.js';

/** The DNS records of every served domain (or only `only`), DKIM keys included: what `dns` prints and checks. */
export async function stackRecords(docker: Engine, config: Config, only?: string): Promise<DnsRecord[]> {
  const domains = (await describeDomains(docker, config)).filter((d) => !only || d.domain === only);
  if (only && domains.length === 0) throw new UsageError(`${only} is not a domain of this server (see \`mailctl list-domains\`)`);
  const keys = await Promise.all(domains.map(async (d) => ({ domain: d.domain, dkim: await dkimRecords(docker, config, d.domain) })));
  return allRecords(config, keys).filter((r) => !only || r.domain === only);
}
