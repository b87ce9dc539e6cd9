/**
 * Who is banned and why: failed logins counted per client address within a
 * window, the same wrong password (same user, same hash) once; a ban when
 * they reach the limit, twice as long for each ban of that address in the
 * past week, up to a week. Pure (time is passed in); the guard sidecar
 * applies the bans to the firewall and keeps this book on its volume.
 */
import type { BanPolicy } from '../config/abuse.js';
import type { Failure } from './auth-log.js';
import { canonicalIp, toBits } from '../names/ip.js';

export interface Ban {
  address: string;
  since: number;
  until: number;
  reason: string;
  /** The how-manieth ban of this address this week. */
  count: number;
}

interface Recent { key: string; at: number; user: string; service: string }
export interface BanBookData { bans: Ban[]; history: Record<string, number[]>; recent?: Record<string, Recent[]> }

/**
 * What a ban covers: an IPv4 address, or the /64 an IPv6 address is in (one
 * subscriber's network: its addresses are the guesser's for the asking).
 */
export function banSubject(ip: string): string {
  if (!ip.includes(':')) return ip;
  const bits = toBits(ip);
  if (!bits) return ip;
  const groups = Array.from({ length: 4 }, (_, i) => parseInt(bits.slice(i * 16, i * 16 + 16), 2).toString(16));
  return `${canonicalIp(`${groups.join(':')}::`)}/64`;
}

const WEEK = 7 * 86400_000;

export class BanBook {
  private readonly recent = new Map<string, Recent[]>();
  private readonly bans = new Map<string, Ban>();
  private readonly history = new Map<string, number[]>();
  private counter = 0;

  constructor(
    private readonly policy: Pick<BanPolicy, 'failures' | 'windowSeconds' | 'banSeconds'>,
    /** Addresses never banned (trusted networks, loopback, the host's own). */
    private readonly trusted: (ip: string) => boolean,
    data?: BanBookData,
  ) {
    for (const ban of data?.bans ?? []) this.bans.set(ban.address, ban);
    for (const [ip, times] of Object.entries(data?.history ?? {})) this.history.set(ip, times);
    for (const [ip, list] of Object.entries(data?.recent ?? {})) this.recent.set(ip, list);
  }

  /** Count one failure; returns the ban it causes, if any. */
  failure(f: Failure, now: number): Ban | undefined {
    const subject = banSubject(f.ip);
    if (this.trusted(f.ip) || this.banned(subject, now)) return undefined;
    const window = this.policy.windowSeconds * 1000;
    const list = (this.recent.get(subject) ?? []).filter((e) => now - e.at < window);
    // Without a hash (an SMTP failure dovecot's line was not found for) every failure counts.
    const key = f.fingerprint ? `${f.user}\0${f.fingerprint}` : `#${++this.counter}`;
    if (!list.some((e) => e.key === key)) list.push({ key, at: f.at, user: f.user, service: f.service });
    this.recent.set(subject, list);
    if (list.length < this.policy.failures) return undefined;

    this.recent.delete(subject);
    const past = (this.history.get(subject) ?? []).filter((t) => now - t < WEEK);
    const seconds = Math.min(this.policy.banSeconds * 2 ** past.length, WEEK / 1000);
    const users = [...new Set(list.map((e) => e.user))];
    const services = [...new Set(list.map((e) => e.service))];
    const ban: Ban = {
      address: subject,
      since: now,
      until: now + seconds * 1000,
      reason: `${list.length} failed logins in ${this.policy.windowSeconds}s (${services.join(', ')}) for ${users.slice(0, 3).join(', ')}${users.length > 3 ? ', ...' : ''}`,
      count: past.length + 1,
    };
    this.bans.set(subject, ban);
    this.history.set(subject, [...past, now]);
    return ban;
  }

  banned(ip: string, now: number): boolean {
    const ban = this.bans.get(banSubject(ip));
    return ban !== undefined && ban.until > now;
  }

  /** Lift a ban: the address starts again from no failures (its history of bans stays). */
  /** `ip`: any address the ban covers (abuse/ip.ts parseBanTarget). */
  unban(ip: string): Ban | undefined {
    const subject = banSubject(ip);
    const ban = this.bans.get(subject);
    this.bans.delete(subject);
    this.recent.delete(subject);
    return ban;
  }

  /** Bans in force, soonest to end first; expired ones are forgotten. */
  list(now: number): Ban[] {
    for (const [ip, ban] of this.bans) if (ban.until <= now) this.bans.delete(ip);
    return [...this.bans.values()].sort((a, b) => a.until - b.until);
  }

  toJSON(now: number): BanBookData {
    const history: Record<string, number[]> = {};
    for (const [ip, times] of this.history) {
      const recent = times.filter((t) => now - t < WEEK);
      if (recent.length) history[ip] = recent;
    }
    const window = this.policy.windowSeconds * 1000;
    const recent: Record<string, Recent[]> = {};
    for (const [subject, list] of this.recent) {
      const fresh = list.filter((e) => now - e.at < window);
      if (fresh.length) recent[subject] = fresh;
    }
    return { bans: this.list(now), history, recent };
  }
}
