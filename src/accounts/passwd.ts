/** dovecot's passwd-file, read as data. Pure. */

export interface UserEntry {
  address: string;
  domain: string;
}

/** Parse passwd-file text: one `user@domain:{SCHEME}hash:...` line per user; hashes are dropped. */
export function parsePasswd(text: string): UserEntry[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => line.slice(0, line.indexOf(':') < 0 ? line.length : line.indexOf(':')))
    .filter((address) => address.includes('@'))
    .map((address) => ({ address, domain: address.slice(address.lastIndexOf('@') + 1) }))
    .sort((a, b) => a.domain.localeCompare(b.domain) || a.address.localeCompare(b.address));
}
