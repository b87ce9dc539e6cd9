/** The .env keys of mailboxes: the default quota and SpamAssassin's two thresholds. Pure. */

export const MAILBOX_KEYS = ['MAIL_QUOTA', 'SPAM_TAG_SCORE', 'SPAM_REJECT_SCORE'] as const;
export type MailboxKey = (typeof MAILBOX_KEYS)[number];

export interface MailboxConfig {
  /** Each mailbox's storage limit in bytes (MAIL_QUOTA); 0: none. `mailctl quota` overrides it per account. */
  readonly quotaBytes: number;
  /** Mail scoring at least this is delivered marked as spam and filed into Junk... */
  readonly spamTagScore: number;
  /** ...and at least this is refused at DATA (5xx). */
  readonly spamRejectScore: number;
}

/** 5G per mailbox (as docker-mailserver's and Mailu's defaults are a few GB); SpamAssassin's own 5.0 to tag, twice that to refuse. */
export const MAILBOX_DEFAULTS = { quotaBytes: 5 * 1024 ** 3, spamTagScore: 5, spamRejectScore: 10 } as const;

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };
/** The most a quota may be: dovecot's sizes are 64-bit, this is far beyond a disk. */
const MAX_BYTES = 1024 ** 5;
const MIN_BYTES = 1024;

/**
 * "5G", "500M", "100k", "1T", "2048" (bytes) or "0" (no limit) to bytes, as
 * dovecot reads sizes (units of 1024); undefined when it is not one.
 */
export function parseSize(value: string): number | undefined {
  const m = /^(\d{1,13})\s*([bkmgt]?)(?:i?b)?$/i.exec(value.trim());
  if (!m) return undefined;
  const bytes = Number(m[1]) * UNITS[m[2].toLowerCase()];
  if (bytes === 0) return 0;
  if (bytes < MIN_BYTES || bytes > MAX_BYTES) return undefined;
  return bytes;
}

export const SIZE_HINT = 'a size such as 5G, 500M or 100k (units of 1024), or 0 for no limit, at least 1k';

/** Bytes in the largest unit that divides them exactly: 5368709120 -> "5G" (dovecot's syntax). */
export function formatSize(bytes: number): string {
  for (const [unit, size] of [['T', 1024 ** 4], ['G', 1024 ** 3], ['M', 1024 ** 2], ['k', 1024]] as const) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size}${unit}`;
  }
  return String(bytes);
}

/** For people: 1.5 GiB, 312 KiB. */
export function humanSize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let i = 0;
  while (value >= 1024 && i < units.length - 1) { value /= 1024; i++; }
  return `${i === 0 ? value : value.toFixed(value < 10 ? 1 : 0)} ${units[i]}`;
}

export function mailboxConfig(raw: Partial<Record<MailboxKey, string>>, problems: string[]): MailboxConfig {
  let quotaBytes: number = MAILBOX_DEFAULTS.quotaBytes;
  if (raw.MAIL_QUOTA !== undefined) {
    const parsed = parseSize(raw.MAIL_QUOTA);
    if (parsed === undefined) problems.push(`MAIL_QUOTA "${raw.MAIL_QUOTA}" is not ${SIZE_HINT}`);
    else quotaBytes = parsed;
  }
  const score = (key: MailboxKey, fallback: number) => {
    const value = raw[key];
    if (value === undefined) return fallback;
    if (!/^-?\d{1,4}(\.\d{1,3})?$/.test(value)) {
      problems.push(`${key} "${value}" is not a SpamAssassin score (a number such as 5 or 6.5; default ${fallback})`);
      return fallback;
    }
    return Number(value);
  };
  const spamTagScore = score('SPAM_TAG_SCORE', MAILBOX_DEFAULTS.spamTagScore);
  const spamRejectScore = score('SPAM_REJECT_SCORE', MAILBOX_DEFAULTS.spamRejectScore);
  if (spamRejectScore <= spamTagScore) {
    problems.push(`SPAM_REJECT_SCORE (${spamRejectScore}) must be above SPAM_TAG_SCORE (${spamTagScore}): mail between the two is filed into Junk`);
  }
  return Object.freeze({ quotaBytes, spamTagScore, spamRejectScore });
}
