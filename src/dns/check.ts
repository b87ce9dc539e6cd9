/** `mailctl dns --check`: resolve every record and compare with what it should be. */
import { Resolver } from 'node:dns/promises';
import { OperationalError, UsageError } from '../core/errors.js';
import { isIPv4, isIPv6 } from '../names/validate.js';
import type { DnsRecord } from './records.js';

export type CheckStatus = 'ok' | 'missing' | 'wrong' | 'error';

export interface CheckResult extends DnsRecord {
  status: CheckStatus;
  found: string[];
}

/** HOST[:PORT] or [IPv6]:PORT, as node's resolver wants it. */
export function parseResolver(input: string): string {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(input) ?? /^([^:]+)(?::(\d+))?$/.exec(input);
  const host = m?.[1] ?? input;
  const port = m?.[2];
  if (!(isIPv4(host) || isIPv6(host)) || (port !== undefined && (Number(port) < 1 || Number(port) > 65535))) {
    throw new UsageError(`--resolver "${input}" is not an address: use HOST[:PORT], e.g. 192.0.2.53 or 192.0.2.53:5353`);
  }
  return port ? (isIPv6(host) ? `[${host}]:${port}` : `${host}:${port}`) : host;
}

const norm = (s: string) => s.toLowerCase().replace(/\.$/, '').replace(/\s*;\s*/g, '; ').trim();

/** Pure: the status of one record given what DNS answered. */
export function judge(record: DnsRecord, found: string[]): CheckStatus {
  const relevant = record.type === 'TXT' ? found.filter((f) => sameKind(record.value ?? '', f)) : found;
  if (relevant.length === 0) return 'missing';
  // Two records of one kind (SPF, DMARC, MTA-STS, TLS-RPT, one DKIM selector) make receivers
  // ignore both: RFC 7208 4.5, RFC 7489 6.6.3, RFC 8461 3.1 (found by a break-it session).
  if (record.type === 'TXT' && relevant.length > 1) return 'wrong';
  if (record.value === undefined) return 'ok';
  return relevant.some((f) => norm(f) === norm(record.value!)) ? 'ok' : 'wrong';
}

/** TXT records of one kind: SPF with SPF, DKIM with DKIM, DMARC with DMARC, MTA-STS, TLS-RPT. */
function sameKind(expected: string, found: string): boolean {
  const tag = /^v=(spf1|DKIM1|DMARC1|STSv1|TLSRPTv1)/i.exec(expected)?.[1]?.toLowerCase();
  return tag ? found.toLowerCase().startsWith(`v=${tag}`) : true;
}

class LookupFailed {
  constructor(readonly code: string) {}
}

async function lookup(resolver: Resolver, record: DnsRecord): Promise<string[] | LookupFailed> {
  const name = record.name.replace(/\.$/, '');
  try {
    switch (record.type) {
      case 'A': return await resolver.resolve4(name);
      case 'AAAA': return await resolver.resolve6(name);
      case 'MX': return (await resolver.resolveMx(name)).map((mx) => `${mx.priority} ${mx.exchange}.`);
      case 'TXT': return (await resolver.resolveTxt(name)).map((chunks) => chunks.join(''));
      case 'SRV': return (await resolver.resolveSrv(name)).map((s) => `${s.priority} ${s.weight} ${s.port} ${s.name}.`);
      case 'CNAME': return (await resolver.resolveCname(name)).map((target) => `${target}.`);
    }
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ENOTFOUND' || code === 'ENODATA') return [];
    // The resolver answered, with a refusal or a failure for this name: that record's check fails, not all.
    if (code === 'EREFUSED' || code === 'ESERVFAIL' || code === 'EFORMERR' || code === 'ENOTIMP') return new LookupFailed(code);
    throw new OperationalError(`DNS lookup of ${name} ${record.type} failed (${code ?? (err as Error).message}): is the resolver reachable?`);
  }
}

export async function checkRecords(records: readonly DnsRecord[], resolverAddress?: string): Promise<CheckResult[]> {
  const resolver = new Resolver({ timeout: 3000, tries: 2 });
  if (resolverAddress) resolver.setServers([parseResolver(resolverAddress)]);
  const out: CheckResult[] = [];
  for (const record of records) {
    const found = await lookup(resolver, record);
    out.push(found instanceof LookupFailed
      ? { ...record, found: [`the resolver answered ${found.code}`], status: 'error' }
      : { ...record, found, status: judge(record, found) });
  }
  return out;
}
