/**
 * `mailctl doctor`'s verdicts, as pure functions of what was observed: each
 * check is ok / warn / fail, with the fix when it is not ok.
 */
import { isIPv4 } from '../names/validate.js';

export type Verdict = 'ok' | 'warn' | 'fail';

export interface Check {
  /** What was checked, e.g. "port 25 (MAIL_PORT_SMTP)". */
  name: string;
  status: Verdict;
  detail: string;
  fix?: string;
}

export const EXPIRY_WARN_DAYS = 14;

export function certificateExpiry(daysLeft: number, notAfter: string, renewedBy: string): Check {
  const name = 'certificate expiry';
  if (daysLeft < 0) return { name, status: 'fail', detail: `expired on ${notAfter}`, fix: renewedBy };
  if (daysLeft < EXPIRY_WARN_DAYS) return { name, status: 'warn', detail: `expires in ${daysLeft} days (${notAfter})`, fix: renewedBy };
  return { name, status: 'ok', detail: `valid for ${daysLeft} more days (until ${notAfter})` };
}

/** A DNSBL lookup name: the address's octets reversed, under the zone (RFC 5782). */
export function dnsblQueryName(ipv4: string, zone: string): string {
  if (!isIPv4(ipv4)) throw new Error(`not an IPv4 address: ${ipv4}`);
  return `${ipv4.split('.').reverse().join('.')}.${zone}`;
}

/**
 * What a blocklist's answer means. NXDOMAIN: not listed. 127.0.0.x: listed.
 * 127.255.255.x: Spamhaus's "query refused" codes (public or unregistered
 * resolvers); any other answer is not a listing either.
 */
export function dnsblVerdict(ipv4: string, zone: string, answers: readonly string[] | 'nxdomain' | { error: string }): Check {
  const name = `blocklist ${zone}`;
  if (answers === 'nxdomain') return { name, status: 'ok', detail: `${ipv4} is not listed` };
  if (!Array.isArray(answers)) {
    return { name, status: 'warn', detail: `no answer (${(answers as { error: string }).error})`, fix: 'check that the resolver can reach the blocklist, or remove it from DNSBL_ZONES' };
  }
  const refused = answers.filter((a) => a.startsWith('127.255.255.'));
  const listed = answers.filter((a) => /^127\.0\.0\.\d+$/.test(a) && a !== '127.0.0.1');
  if (listed.length) {
    return { name, status: 'fail', detail: `${ipv4} is listed (${listed.join(', ')})`, fix: `look up ${ipv4} on ${zone}'s website, fix the cause (an open relay, a compromised account) and request delisting` };
  }
  if (refused.length) {
    return { name, status: 'warn', detail: `the list refused the query (${refused.join(', ')})`, fix: `${zone} does not answer public resolvers: run doctor with --resolver set to your own resolver` };
  }
  return { name, status: 'warn', detail: `unexpected answer ${answers.join(', ')}`, fix: `check what ${zone} answers mean on its website` };
}

/** Reverse DNS: the address must name MAIL_HOSTNAME, or receivers distrust the mail. */
export function ptrVerdict(key: string, ip: string, names: readonly string[] | { error: string }, hostname: string): Check {
  const name = `reverse DNS of ${ip} (${key})`;
  const fix = `ask whoever runs ${ip} (your hosting provider) to set its PTR record to ${hostname}`;
  if (!Array.isArray(names)) return { name, status: 'fail', detail: `no PTR record (${(names as { error: string }).error})`, fix };
  const clean = names.map((n) => n.toLowerCase().replace(/\.$/, ''));
  if (clean.includes(hostname)) return { name, status: 'ok', detail: `${ip} -> ${hostname}` };
  return { name, status: 'fail', detail: `${ip} -> ${clean.join(', ') || '(nothing)'}, not ${hostname}`, fix };
}

/** exit code: 1 when anything failed. */
export const anyFailed = (checks: readonly Check[]) => checks.some((c) => c.status === 'fail');
