/** The .env keys against abuse: the daily sending limit and the failed-login bans. Pure. */
import { isIPv4, isIPv6 } from '../names/validate.js';
import { toBits } from '../names/ip.js';

/** Are the bits after the prefix all zero? */
function isNetworkAddress(address: string, bits: number): boolean {
  const all = toBits(address);
  return all !== undefined && !all.slice(bits).includes('1');
}

export const ABUSE_KEYS = [
  'MAIL_SEND_LIMIT', 'MAIL_BAN', 'MAIL_BAN_FAILURES', 'MAIL_BAN_WINDOW', 'MAIL_BAN_TIME', 'MAIL_TRUSTED_NETWORKS',
] as const;
export type AbuseKey = (typeof ABUSE_KEYS)[number];

export interface BanPolicy {
  /** MAIL_BAN: on unless switched off. */
  readonly enabled: boolean;
  /** Distinct failed logins from one address... */
  readonly failures: number;
  /** ...within this many seconds... */
  readonly windowSeconds: number;
  /** ...ban it this long; each repeat within a week doubles it, up to a week. */
  readonly banSeconds: number;
  /** Never banned (CIDRs); loopback and the host's own addresses never are either. */
  readonly trustedNetworks: readonly string[];
}

export interface AbuseConfig {
  /** Messages an account may submit per day (UTC); 0: no limit. */
  readonly sendLimit: number;
  readonly bans: BanPolicy;
}

/** In the spirit of mox (1000 messages a day) and fail2ban (5 in 10 minutes, an hour). */
export const ABUSE_DEFAULTS = { sendLimit: 1000, failures: 5, windowSeconds: 600, banSeconds: 3600 } as const;

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** "90s", "10m", "1h", "2d" (or bare seconds) to seconds; undefined when it is not one. */
export function parseDuration(value: string): number | undefined {
  const m = /^(\d{1,7})([smhd]?)$/.exec(value.trim());
  if (!m) return undefined;
  const seconds = Number(m[1]) * UNITS[m[2] || 's'];
  return seconds > 0 ? seconds : undefined;
}

/** A CIDR (or a single address), canonical; undefined when it is not one. */
export function parseNetwork(value: string): string | undefined {
  const [address, bits, extra] = value.trim().split('/');
  if (extra !== undefined) return undefined;
  const max = isIPv4(address) ? 32 : isIPv6(address) ? 128 : 0;
  if (!max) return undefined;
  if (bits === undefined) return `${address}/${max}`;
  if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) return undefined;
  return `${address}/${Number(bits)}`;
}

export function abuseConfig(raw: Partial<Record<AbuseKey, string>>, problems: string[]): AbuseConfig {
  const count = (key: AbuseKey, fallback: number, min: number) => {
    const value = raw[key];
    if (value === undefined) return fallback;
    if (!/^\d{1,7}$/.test(value) || Number(value) < min) {
      problems.push(`${key} "${value}" is not a whole number${min ? ` of at least ${min}` : ''} (default ${fallback})`);
      return fallback;
    }
    return Number(value);
  };
  const duration = (key: AbuseKey, fallback: number, min: number, max: number, range: string) => {
    const value = raw[key];
    if (value === undefined) return fallback;
    const seconds = parseDuration(value);
    if (seconds === undefined) problems.push(`${key} "${value}" is not a duration: write e.g. 90s, 10m, 1h or 2d`);
    else if (seconds < min || seconds > max) problems.push(`${key} "${value}" is out of range: ${range}`);
    else return seconds;
    return fallback;
  };
  let enabled = true;
  if (raw.MAIL_BAN !== undefined) {
    if (/^(on|true|yes|1)$/i.test(raw.MAIL_BAN)) enabled = true;
    else if (/^(off|false|no|0)$/i.test(raw.MAIL_BAN)) enabled = false;
    else problems.push(`MAIL_BAN "${raw.MAIL_BAN}" is not on or off`);
  }
  const trustedNetworks: string[] = [];
  for (const item of (raw.MAIL_TRUSTED_NETWORKS ?? '').split(/[\s,]+/).filter(Boolean)) {
    const network = parseNetwork(item);
    const [address, bits] = (network ?? '/').split('/');
    const wide = network && Number(bits) < (address.includes(':') ? 16 : 8);
    if (!network) problems.push(`MAIL_TRUSTED_NETWORKS "${item}" is not an address or network: write e.g. 192.0.2.0/24,2001:db8::/48`);
    else if (wide) problems.push(`MAIL_TRUSTED_NETWORKS "${item}" trusts a large part of the internet: to switch bans off, write MAIL_BAN=off`);
    else if (!isNetworkAddress(address, Number(bits))) problems.push(`MAIL_TRUSTED_NETWORKS "${item}" has host bits set: write the network address`);
    else trustedNetworks.push(network);
  }
  return Object.freeze({
    sendLimit: count('MAIL_SEND_LIMIT', ABUSE_DEFAULTS.sendLimit, 0),
    bans: Object.freeze({
      enabled,
      failures: count('MAIL_BAN_FAILURES', ABUSE_DEFAULTS.failures, 1),
      windowSeconds: duration('MAIL_BAN_WINDOW', ABUSE_DEFAULTS.windowSeconds, 60, 7 * 86400, 'from 1m to 7d'),
      banSeconds: duration('MAIL_BAN_TIME', ABUSE_DEFAULTS.banSeconds, 60, 30 * 86400, 'from 1m to 30d'),
      trustedNetworks: Object.freeze(trustedNetworks),
    }),
  });
}
