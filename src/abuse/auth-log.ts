/**
 * Failed logins, read from the daemons' own log lines. Pure: lines in,
 * failures out, so the parsing is tested against the exact text.
 *
 * dovecot (IMAP, POP3) logs each failure with the client's address and a short
 * SHA-1 of the password tried (auth_verbose_passwords):
 *   auth(alice@example.test,198.18.1.2,sasl:plain)<SESSION>: Info: passwd-file: Password mismatch (SHA1 of given password: d0d81a)
 * chasquid's logins (587, 465) reach dovecot without the client's address:
 *   auth(alice@example.test,sasl:plain): Info: passwd-file: Password mismatch (SHA1 of given password: ff92b8)
 * and chasquid logs the address itself, on two lines of its two streams:
 *   2026-11-27 17:57:22.175173 198.18.1.2:59836 auth failed for alice@example.test
 *   _ conn.go:320        SMTP.Conn 198.18.1.2:59836: error: AUTH failed: 535  5.7.8 Incorrect user or password
 * Only 535 is a wrong password (454 is port 25, which takes no logins, or
 * dovecot down). The SMTP failure borrows the password hash of dovecot's line
 * for the same user, first come first served: dovecot answers chasquid's
 * requests after the same fixed delay, so they come back in order.
 *
 * The user name is the client's text: every pattern is anchored so that no
 * name can make a line look like another kind (a name cannot add the
 * `<session>` that only lines with an address have, nor move the address).
 */
import { isIPv4, isIPv6 } from '../names/validate.js';

export interface Failure {
  ip: string;
  user: string;
  /** Short hash of the password tried: the same wrong password counts once. */
  fingerprint?: string;
  service: 'imap/pop3' | 'smtp';
  at: number;
}

const SYSLOG_TIME = String.raw`\w{3} [ \d]\d \d\d:\d\d:\d\d`;
const HASH = String.raw`\(SHA1 of given password: ([0-9a-f]{4,40})\)`;
const WHAT = '(Password mismatch|unknown user)';
const DOVECOT_WITH_IP = new RegExp(String.raw`^${SYSLOG_TIME} auth\((.*),([0-9a-fA-F:.]+),sasl:[a-z0-9-]+\)<[A-Za-z0-9+/=]+>: Info: passwd-file: ${WHAT} ${HASH}$`);
const DOVECOT_NO_IP = new RegExp(String.raw`^${SYSLOG_TIME} auth\((.*),sasl:[a-z0-9-]+\): Info: passwd-file: ${WHAT} ${HASH}$`);
const CHASQUID_USER = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ (\[[0-9a-fA-F:.]+\]|[0-9.]+):(\d{1,5}) auth failed for (.+)$/;
const CHASQUID_CODE = /^_ conn\.go:\d+\s+SMTP\.Conn (\[[0-9a-fA-F:.]+\]|[0-9.]+):(\d{1,5}): error: AUTH failed: (\d{3}) /;

const isIP = (ip: string) => isIPv4(ip) || isIPv6(ip);
const unbracket = (host: string) => host.replace(/^\[(.*)\]$/, '$1');
/** Entries older than this are dropped unmatched (a line of the other stream that never came). */
const PENDING_MS = 30_000;

export class FailureReader {
  /** dovecot's hashes of chasquid's failed logins, per user, oldest first. */
  private readonly smtpHashes = new Map<string, { hash: string; at: number }[]>();
  /** chasquid's two lines of one failed AUTH, joined on the client's address and port. */
  private readonly smtpPending = new Map<string, { user?: string; code?: string; ip: string; at: number }>();

  /** One line of dovecot's log. */
  dovecot(line: string, at: number): Failure[] {
    const withIp = DOVECOT_WITH_IP.exec(line);
    if (withIp) {
      const [, user, ip, , hash] = withIp;
      return isIP(ip) ? [{ ip, user, fingerprint: hash, service: 'imap/pop3', at }] : [];
    }
    const noIp = DOVECOT_NO_IP.exec(line);
    if (noIp) {
      const [, user, , hash] = noIp;
      const list = this.smtpHashes.get(user) ?? [];
      list.push({ hash, at });
      this.smtpHashes.set(user, list);
    }
    return [];
  }

  /** One line of chasquid's log (either instance, either stream). */
  chasquid(line: string, at: number): Failure[] {
    this.expire(at);
    const user = CHASQUID_USER.exec(line);
    const code = user ? undefined : CHASQUID_CODE.exec(line);
    const m = user ?? code;
    if (!m) return [];
    const ip = unbracket(m[1]);
    if (!isIP(ip)) return [];
    const key = `${ip}|${m[2]}`;
    const entry = this.smtpPending.get(key) ?? { ip, at };
    if (user) entry.user = user[3];
    else entry.code = code![3];
    if (entry.user === undefined || entry.code === undefined) {
      this.smtpPending.set(key, entry);
      return [];
    }
    this.smtpPending.delete(key);
    if (entry.code !== '535') return [];
    const hashKey = this.hashKeyFor(entry.user);
    const hashes = hashKey === undefined ? undefined : this.smtpHashes.get(hashKey);
    const hash = hashes?.shift()?.hash;
    if (hashKey !== undefined && hashes && !hashes.length) this.smtpHashes.delete(hashKey);
    return [{ ip, user: entry.user, ...(hash ? { fingerprint: hash } : {}), service: 'smtp', at }];
  }

  /** dovecot shortens a long name in its log prefix ("aaaa...ffff@b..."): match it by what it kept. */
  private hashKeyFor(user: string): string | undefined {
    if (this.smtpHashes.has(user)) return user;
    for (const key of this.smtpHashes.keys()) {
      if (key.endsWith('...') && key.length > 3 && user.startsWith(key.slice(0, -3))) return key;
    }
    return undefined;
  }

  private expire(now: number): void {
    for (const [key, entry] of this.smtpPending) if (now - entry.at > PENDING_MS) this.smtpPending.delete(key);
    for (const [user, list] of this.smtpHashes) {
      const fresh = list.filter((h) => now - h.at <= PENDING_MS);
      if (fresh.length) this.smtpHashes.set(user, fresh);
      else this.smtpHashes.delete(user);
    }
  }
}

/** One entry of a json-file log: its text (one line) and time; undefined for anything else. */
export function parseJsonLogEntry(raw: string): { text: string; at: number } | undefined {
  try {
    const entry = JSON.parse(raw) as { log?: unknown; time?: unknown };
    if (typeof entry.log !== 'string' || typeof entry.time !== 'string') return undefined;
    const text = entry.log.replace(/\r?\n$/, '');
    const at = Date.parse(entry.time);
    if (text.includes('\n') || Number.isNaN(at)) return undefined;
    return { text, at };
  } catch {
    return undefined;
  }
}
