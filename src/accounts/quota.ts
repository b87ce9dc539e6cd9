/**
 * Quotas: each account's limit (MAIL_QUOTA, or its own from `mailctl quota`,
 * kept in the passwd-file as a userdb field) and its usage, asked of dovecot
 * (`doveadm quota get`: what dovecot's Maildir++ quota has recorded as mail
 * was saved and expunged, the figure IMAP GETQUOTAROOT reports).
 */
import { parseAddress } from '../names/address.js';
import { listUsers } from './users.js';
import type { Config } from '../config/config.js';
import { formatSize, parseSize, SIZE_HINT } from '../config/mailbox.js';
import type { Engine } from '../docker/engine.js';
import { OperationalError, UsageError } from '../core/errors.js';
import { runningService } from '../runtime/running.js';

export interface QuotaUsage {
  address: string;
  /** Bytes in the mailbox, as dovecot counts them. */
  usedBytes: number;
  /** The limit in bytes; undefined: none. */
  limitBytes?: number;
  /** Percent of the limit used; undefined when there is none. */
  percent?: number;
}

/**
 * `doveadm -f tab quota get` output to usage, one entry per account (STORAGE
 * rows; dovecot gives them in KiB, "-" for no limit). Pure.
 */
export function parseQuotaTable(text: string): QuotaUsage[] {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const header = (lines.shift() ?? '').split('\t').map((h) => h.trim().toLowerCase());
  const col = (name: string) => header.indexOf(name);
  const [user, type, value, limit, percent] = ['username', 'type', 'value', 'limit', '%'].map(col);
  const usages: QuotaUsage[] = [];
  for (const line of lines) {
    const f = line.split('\t');
    if ((f[type] ?? '').toUpperCase() !== 'STORAGE') continue;
    const address = user >= 0 ? f[user] : '';
    const limitKiB = f[limit] === '-' || f[limit] === undefined ? undefined : Number(f[limit]);
    usages.push({
      address,
      usedBytes: Number(f[value]) * 1024,
      ...(limitKiB !== undefined && Number.isFinite(limitKiB) ? { limitBytes: limitKiB * 1024, percent: Number(f[percent]) } : {}),
    });
  }
  return usages;
}

/** Every account's usage, by address (the passwd-file's extra spellings are dropped by the caller's list). */
export async function quotaUsages(docker: Engine, config: Config): Promise<Map<string, QuotaUsage>> {
  const dovecot = await runningService(docker, config, 'dovecot');
  const r = await dovecot.exec(['doveadm', '-f', 'tab', 'quota', 'get', '-A']);
  if (r.exitCode !== 0) throw new OperationalError(`asking dovecot for quota usage failed: ${r.stderr.trim() || `exit ${r.exitCode}`}`);
  return new Map(parseQuotaTable(r.stdout).map((u) => [u.address, u]));
}

/** The accounts' usage, in list-users' order (other spellings of an account left out). */
export async function accountsUsage(docker: Engine, config: Config): Promise<QuotaUsage[]> {
  const users = await listUsers(docker, config);
  if (!users.length) return [];
  const usages = await quotaUsages(docker, config);
  return users.flatMap((u) => usages.get(u.address) ?? []);
}

/** One account's usage (it must exist). */
export async function quotaOf(docker: Engine, config: Config, address: string): Promise<QuotaUsage> {
  const dovecot = await runningService(docker, config, 'dovecot');
  const r = await dovecot.exec(['doveadm', '-f', 'tab', 'quota', 'get', '-u', address]);
  if (r.exitCode === 67 || /unknown user|doesn't exist/i.test(r.stderr)) throw new UsageError(`${address} does not exist (see \`mailctl list-users\`)`);
  if (r.exitCode !== 0) throw new OperationalError(`asking dovecot for the quota of ${address} failed: ${r.stderr.trim() || `exit ${r.exitCode}`}`);
  const usage = parseQuotaTable(r.stdout)[0];
  if (!usage) throw new OperationalError(`dovecot reported no storage quota for ${address}`);
  return { ...usage, address };
}

/** "5G", "0" (no limit) or "default" (MAIL_QUOTA again) to what mailctl-users stores. Pure. */
export function quotaArgument(size: string): string {
  if (size.trim().toLowerCase() === 'default') return 'default';
  const bytes = parseSize(size);
  if (bytes === undefined) throw new UsageError(`"${size}" is not ${SIZE_HINT}, or "default" for MAIL_QUOTA`);
  return bytes === 0 ? 'unlimited' : formatSize(bytes);
}

/** Give an account its own quota (or MAIL_QUOTA again); returns its usage under the new limit. */
export async function setQuota(docker: Engine, config: Config, input: string, size: string): Promise<QuotaUsage> {
  const { address } = parseAddress(input);
  const stored = quotaArgument(size);
  const dovecot = await runningService(docker, config, 'dovecot');
  const r = await dovecot.exec(['/usr/local/bin/mailctl-users', 'quota', address, stored]);
  if (r.exitCode === 4) throw new UsageError(`${address} does not exist (see \`mailctl list-users\`)`);
  if (r.exitCode !== 0) throw new OperationalError(`setting the quota of ${address} failed: ${r.stderr.trim() || `exit ${r.exitCode}`}`);
  // dovecot notices a changed passwd-file by its modification time, which may lag (seen: the old limit
  // printed once, in CI): ask again briefly until it reports the limit just written.
  const bytes = stored === 'default' ? config.mailbox.quotaBytes : stored === 'unlimited' ? 0 : parseSize(stored) ?? 0;
  let usage = await quotaOf(docker, config, address);
  for (let i = 0; i < 20 && (usage.limitBytes ?? 0) !== bytes; i++) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    usage = await quotaOf(docker, config, address);
  }
  return usage;
}
