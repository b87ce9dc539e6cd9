/** The DNS records a domain needs, as in the how-to's "DNS" section, plus DKIM and DMARC. Pure. */
import type { Config } from '../config/config.js';
import { clientRecords } from './client-records.js';

export type RecordType = 'A' | 'AAAA' | 'MX' | 'TXT' | 'SRV' | 'CNAME';

export interface DnsRecord {
  domain: string;
  name: string;
  type: RecordType;
  /** Expected value; undefined when the configuration does not know it (e.g. MAIL_IPV4 unset). */
  value?: string;
  comment?: string;
}

export interface DomainKeys {
  domain: string;
  dkim: { selector: string; value: string }[];
}

/** The mail host's own address records. */
export function hostRecords(config: Config): DnsRecord[] {
  const name = `${config.hostname}.`;
  const records: DnsRecord[] = [
    { domain: config.domain, name, type: 'A', value: config.ipv4, comment: config.ipv4 ? `assign ${config.hostname} to the server's addresses` : 'set MAIL_IPV4 in .env to fill this in' },
  ];
  if (config.ipv6) records.push({ domain: config.domain, name, type: 'AAAA', value: config.ipv6 });
  return records;
}

/** MX to MAIL_HOSTNAME, SPF, DKIM, DMARC, and the client and MTA-STS records, for the main or an additional domain. */
export function domainRecords(config: Config, keys: DomainKeys): DnsRecord[] {
  const { domain } = keys;
  return [
    { domain, name: `${domain}.`, type: 'MX', value: `10 ${config.hostname}.`, comment: `the mail server for ${domain} is ${config.hostname}` },
    { domain, name: `${domain}.`, type: 'TXT', value: 'v=spf1 mx -all', comment: 'SPF: only the MX hosts may send mail for this domain' },
    ...keys.dkim.map((k): DnsRecord => ({ domain, name: `${k.selector}._domainkey.${domain}.`, type: 'TXT', value: k.value, comment: `DKIM: the key chasquid signs ${domain}'s mail with` })),
    { domain, name: `_dmarc.${domain}.`, type: 'TXT', value: 'v=DMARC1; p=quarantine', comment: 'DMARC: mail failing SPF and DKIM alignment is suspect' },
    ...clientRecords(config, domain),
  ];
}

export function allRecords(config: Config, domains: readonly DomainKeys[]): DnsRecord[] {
  return [...hostRecords(config), ...domains.flatMap((d) => domainRecords(config, d))];
}

/** TXT data as zone-file strings: quoted, split into 255-byte pieces. */
export function quoteTxt(value: string): string {
  const pieces: string[] = [];
  for (let i = 0; i < value.length; i += 255) pieces.push(`"${value.slice(i, i + 255)}"`);
  return pieces.join(' ');
}

/** Zone-file lines, with comments. */
export function zoneLines(records: readonly DnsRecord[]): string {
  const out: string[] = [];
  for (const r of records) {
    if (r.comment) out.push(`; ${r.comment}`);
    const value = r.value === undefined ? '<unknown>' : r.type === 'TXT' ? quoteTxt(r.value) : r.value;
    out.push(`${r.name.padEnd(28)} IN ${r.type.padEnd(4)} ${value}`);
  }
  return `${out.join('\n')}\n`;
}

/** The reverse DNS advice: PTR records are set at the server provider, not in the zone. */
export function ptrAdvice(config: Config): string {
  const addrs = [config.ipv4, config.ipv6].filter(Boolean).join(' and ') || 'the server\'s addresses';
  return `; reverse DNS (PTR): ask your server provider to point ${addrs} to ${config.hostname}\n`;
}

/** Before the stack runs (init): the records that do not need the DKIM key. */
export function mainDomainRecords(config: Config): DnsRecord[] {
  return allRecords(config, [{ domain: config.domain, dkim: [] }]);
}
