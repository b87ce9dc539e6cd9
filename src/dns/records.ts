/** The DNS records a domain needs, as in the how-to's "DNS" section. Pure. */
import type { Config } from '../config.js';

export interface DnsRecord {
  name: string;
  type: 'A' | 'AAAA' | 'MX' | 'TXT';
  value: string;
  comment?: string;
}

/** Records for the main domain (the mail host's address records included). */
export function mainDomainRecords(config: Config): DnsRecord[] {
  const host = `${config.hostname}.`;
  const records: DnsRecord[] = [];
  if (config.ipv4) records.push({ name: host, type: 'A', value: config.ipv4, comment: `assign ${config.hostname} to the server's addresses` });
  else records.push({ name: host, type: 'A', value: '<MAIL_IPV4>', comment: 'set MAIL_IPV4 in .env to fill this in' });
  if (config.ipv6) records.push({ name: host, type: 'AAAA', value: config.ipv6 });
  records.push(...domainRecords(config, config.domain));
  return records;
}

/** MX to MAIL_HOSTNAME and SPF, for the main or an additional domain. */
export function domainRecords(config: Config, domain: string): DnsRecord[] {
  return [
    { name: `${domain}.`, type: 'MX', value: `10 ${config.hostname}.`, comment: `the mail server for ${domain} is ${config.hostname}` },
    { name: `${domain}.`, type: 'TXT', value: '"v=spf1 mx -all"', comment: 'only the MX hosts may send mail for this domain' },
  ];
}

/** Zone-file lines, with comments. */
export function zoneLines(records: readonly DnsRecord[]): string {
  const out: string[] = [];
  for (const r of records) {
    if (r.comment) out.push(`; ${r.comment}`);
    out.push(`${r.name.padEnd(28)} IN ${r.type.padEnd(4)} ${r.value}`);
  }
  return `${out.join('\n')}\n`;
}

/** The reverse DNS advice: PTR records are set at the server provider, not in the zone. */
export function ptrAdvice(config: Config): string {
  const addrs = [config.ipv4, config.ipv6].filter(Boolean).join(' and ') || 'the server\'s addresses';
  return `; reverse DNS (PTR): ask your server provider to point ${addrs} to ${config.hostname}\n`;
}
