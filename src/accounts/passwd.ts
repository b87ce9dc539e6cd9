/** dovecot's passwd-file, read as data. Pure. */
import { domainToUnicode } from 'node:url';

export interface UserEntry {
  /** The canonical address (punycode domain). */
  address: string;
  domain: string;
  /** The address with its domain in unicode, when that differs. */
  unicode?: string;
}

/**
 * The accounts in a passwd-file, in the order they were added (the first is
 * the default postmaster). `user@domain:{SCHEME}hash:...` lines; hashes are
 * dropped, and so are the extra lines of an account's other spellings (their
 * last field is `user=<canonical address>`).
 */
export function parsePasswd(text: string): UserEntry[] {
  return text
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('#'))
    .map((line) => line.split(':'))
    .filter((fields) => fields[0].includes('@') && !(fields[7] ?? '').startsWith('user='))
    .map(([address]) => {
      const domain = address.slice(address.lastIndexOf('@') + 1);
      const unicodeDomain = domainToUnicode(domain);
      const entry: UserEntry = { address, domain };
      if (unicodeDomain && unicodeDomain !== domain) entry.unicode = `${address.slice(0, address.lastIndexOf('@'))}@${unicodeDomain}`;
      return entry;
    });
}

/** For display: by domain, then address. */
export const byDomainThenAddress = (a: UserEntry, b: UserEntry) => a.domain.localeCompare(b.domain) || a.address.localeCompare(b.address);
