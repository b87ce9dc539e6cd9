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
  if (bits < 8 || bits > 29) return `MAIL_SUBNET "${value}": the prefix must be between /8 and /29 (${hint})`;
  const address = octets.reduce((acc, o) => acc * 256 + o, 0);
  if (address % 2 ** (32 - bits) !== 0) return `MAIL_SUBNET "${value}" has host bits set: write the network address (${hint})`;
  return undefined;
}
