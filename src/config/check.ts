/** Checks of `.env` that need more than one value: keys nobody reads, subnets. Pure. */

/** Edit distance, for "did you mean". */
function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

/**
 * A key in `.env` that mailctl does not read is an error: a typo (CERT_MOD)
 * would otherwise silently leave the default in force. Names the nearest key.
 */
export function unknownKeyProblems(keys: readonly string[], known: readonly string[]): string[] {
  return keys.filter((k) => !known.includes(k)).map((key) => {
    const nearest = [...known].sort((x, y) => distance(key, x) - distance(key, y))[0];
    const close = nearest && distance(key, nearest) <= Math.max(2, Math.floor(key.length / 3));
    return `${key} is not a setting mailctl knows${close ? `: did you mean ${nearest}?` : ''} (remove it, or see the README's Configuration)`;
  });
}

/** An IPv4 subnet a Docker bridge can use: a.b.c.d/n with octets up to 255 and 8 <= n <= 29. */
export function subnetProblem(value: string): string | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(value);
  const hint = 'e.g. 172.29.53.0/24';
  if (!m) return `MAIL_SUBNET "${value}" is not an IPv4 subnet (${hint})`;
  const octets = m.slice(1, 5).map(Number);
  const bits = Number(m[5]);
  if (octets.some((o) => o > 255)) return `MAIL_SUBNET "${value}" has a number above 255 (${hint})`;
  if (/(^|[./])0\d/.test(value)) return `MAIL_SUBNET "${value}" has a number with a leading zero (${hint})`;
  if (octets[0] === 127 || octets[0] === 0 || octets[0] >= 224 || (octets[0] === 169 && octets[1] === 254)) {
    return `MAIL_SUBNET "${value}" is loopback, link-local or not unicast: use a private range (${hint})`;
  }
  if (bits < 8 || bits > 29) return `MAIL_SUBNET "${value}": the prefix must be between /8 and /29 (${hint})`;
  const address = octets.reduce((acc, o) => acc * 256 + o, 0);
  if (address % 2 ** (32 - bits) !== 0) return `MAIL_SUBNET "${value}" has host bits set: write the network address (${hint})`;
  return undefined;
}

/** The most problems listed; the rest are counted. */
export const MAX_PROBLEMS = 20;

/**
 * Lines dotenv would skip or take twice: a bare key (no value), a key set
 * twice. Line numbers are the file's.
 */
export function envLineProblems(text: string): string[] {
  const problems: string[] = [];
  const seen = new Map<string, number>();
  text.split(/\r\n|\n|\r/).forEach((line, i) => {
    const bare = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*$/.exec(line);
    if (bare) problems.push(`line ${i + 1}: ${bare[1]} has no value: write ${bare[1]}=VALUE (or remove the line)`);
    // KEY= with nothing after it would quietly mean the default (found by a break-it session).
    const empty = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*$/.exec(line);
    if (empty) problems.push(`line ${i + 1}: ${empty[1]} is empty: give it a value, or remove the line (or put # before it) for the default`);
    const set = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*[=:]/.exec(line);
    if (!set) return;
    const first = seen.get(set[1]);
    if (first !== undefined) problems.push(`${set[1]} is set twice (lines ${first} and ${i + 1}): keep one`);
    else seen.set(set[1], i + 1);
  });
  return problems;
}

/** A text .env of a sane size: not a device, a pipe, a directory or a binary. */
export function envFileProblem(kind: 'file' | 'directory' | 'other', size: number, head: Buffer): string | undefined {
  if (kind === 'directory') return 'is a directory';
  if (kind !== 'file') return 'is not a regular file (a device, a pipe or a socket)';
  if (size > 64 * 1024) return `is ${Math.round(size / 1024)} KiB: a .env is a few lines (at most 64 KiB)`;
  if (head.includes(0)) return 'is not a text file';
  return undefined;
}
