/**
 * What each container may do and use: the capabilities it keeps (all others
 * dropped), whether it may gain privileges, and its memory and process
 * limits (MAIL_MEMORY and MAIL_PIDS override these, per service). Pure.
 */
import { SERVICE_NAMES, type ServiceName } from './service-table.js';

export interface Privileges { capabilities: string[]; noNewPrivileges: boolean }
export interface Limits { memoryBytes: number; pids: number }

/**
 * Why each needs what it keeps:
 * - chasquid runs as its own user; its binary's file capability binds ports
 *   below 1024, which no-new-privileges would ignore.
 * - dovecot's master runs as root: it binds its ports, makes sockets for other
 *   users, chroots its login processes and drops to each user.
 * - certbot gives the certificate files to group chasquid (http-01 goes
 *   through the web service: certbot writes the challenges to a shared volume).
 * - the Docker API proxy is root and owns the engine's socket it opens: nothing.
 * - spamd and clamd start as root, give their sockets to group chasquid, drop
 *   to their own users and signal their children; spamd also binds 783 on loopback.
 * - the guard changes the host's firewall.
 * - the web service (nginx) runs as its own user on ports above 1024: nothing.
 */
export const PRIVILEGES: Record<ServiceName, Privileges> = {
  chasquid: { capabilities: ['NET_BIND_SERVICE'], noNewPrivileges: false },
  dovecot: { capabilities: ['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'SETUID', 'SETGID', 'KILL', 'SYS_CHROOT', 'NET_BIND_SERVICE'], noNewPrivileges: true },
  certbot: { capabilities: ['CHOWN', 'DAC_OVERRIDE', 'FOWNER'], noNewPrivileges: true },
  dockerproxy: { capabilities: [], noNewPrivileges: true },
  spamassassin: { capabilities: ['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'SETUID', 'SETGID', 'KILL', 'NET_BIND_SERVICE'], noNewPrivileges: true },
  clamav: { capabilities: ['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'SETUID', 'SETGID', 'KILL'], noNewPrivileges: true },
  guard: { capabilities: ['NET_ADMIN'], noNewPrivileges: true },
  web: { capabilities: [], noNewPrivileges: true },
};

const MiB = 2 ** 20;
/**
 * Containment, not a budget: a fork bomb or a leak stops here, normal peaks
 * never do. chasquid forks mda-lmtp per local delivery and holds messages (up
 * to 50 MB each) in memory while it takes them; at 256 processes, 16 sessions
 * of the bench's load made its forks fail, and chasquid bounced those
 * messages as permanent failures: the limit must be far above any real peak.
 */
export const DEFAULT_LIMITS: Record<ServiceName, Limits> = {
  chasquid: { memoryBytes: 1024 * MiB, pids: 4096 },
  dovecot: { memoryBytes: 1024 * MiB, pids: 2048 },
  certbot: { memoryBytes: 256 * MiB, pids: 128 },
  dockerproxy: { memoryBytes: 128 * MiB, pids: 128 },
  spamassassin: { memoryBytes: 1024 * MiB, pids: 256 },
  clamav: { memoryBytes: 2048 * MiB, pids: 256 },
  guard: { memoryBytes: 128 * MiB, pids: 128 },
  web: { memoryBytes: 64 * MiB, pids: 64 },
};

const UNITS: Record<string, number> = { k: 1024, m: MiB, g: 1024 * MiB };

/** "512m", "2g" to bytes (at least 32 MiB); undefined when it is not one. */
export function parseMemory(value: string): number | undefined {
  const m = /^(\d{1,6})([kmg])$/i.exec(value.trim());
  if (!m) return undefined;
  const bytes = Number(m[1]) * UNITS[m[2].toLowerCase()];
  return bytes >= 32 * MiB ? bytes : undefined;
}

/** MAIL_MEMORY=clamav=3g,dovecot=1g and MAIL_PIDS=dovecot=1024 on top of the defaults. */
export function parseLimits(raw: { MAIL_MEMORY?: string; MAIL_PIDS?: string }, problems: string[]): Readonly<Record<ServiceName, Limits>> {
  const limits = Object.fromEntries(SERVICE_NAMES.map((s) => [s, { ...DEFAULT_LIMITS[s] }])) as Record<ServiceName, Limits>;
  const each = (key: 'MAIL_MEMORY' | 'MAIL_PIDS', example: string, apply: (service: ServiceName, value: string) => boolean) => {
    const seen = new Set<string>();
    for (const item of (raw[key] ?? '').split(/[\s,]+/).filter(Boolean)) {
      const [service, value, extra] = item.split('=');
      if (seen.has(service)) {
        problems.push(`${key} names ${service} twice: keep one`);
        continue;
      }
      seen.add(service);
      if (!(SERVICE_NAMES as readonly string[]).includes(service) || value === undefined || extra !== undefined) {
        problems.push(`${key} "${item}" is not SERVICE=VALUE with SERVICE one of ${SERVICE_NAMES.join(', ')} (e.g. ${key}=${example})`);
      } else if (!apply(service as ServiceName, value)) {
        problems.push(`${key} "${item}": ${key === 'MAIL_MEMORY' ? 'a size of at least 32m, e.g. 512m or 2g' : 'a whole number of processes, at least 16'}`);
      }
    }
  };
  each('MAIL_MEMORY', 'clamav=3g', (service, value) => {
    const bytes = parseMemory(value);
    if (bytes !== undefined) limits[service].memoryBytes = bytes;
    return bytes !== undefined;
  });
  each('MAIL_PIDS', 'dovecot=1024', (service, value) => {
    const ok = /^\d{2,6}$/.test(value) && Number(value) >= 16;
    if (ok) limits[service].pids = Number(value);
    return ok;
  });
  return Object.freeze(limits);
}
