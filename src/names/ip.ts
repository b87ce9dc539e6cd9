/** Client addresses: one spelling, and network membership. Pure. */

/** IPv6 in one spelling (the logs' and the user's may differ); undefined for what is not an address. */
export function canonicalIp(text: string): string | undefined {
  const t = text.trim();
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(t)) return t.split('.').every((p) => Number(p) <= 255) ? t.split('.').map(Number).join('.') : undefined;
  if (!t.includes(':') || !/^[0-9a-fA-F:.]+$/.test(t)) return undefined;
  try {
    return new URL(`http://[${t}]/`).hostname.slice(1, -1);
  } catch {
    return undefined;
  }
}

/**
 * What `unban` takes: an address, or an IPv6 /64 as `bans` lists it (any
 * address in it will do); its one spelling, or undefined.
 */
export function parseBanTarget(input: string): string | undefined {
  const text = input.trim();
  const prefix = text.endsWith('/64');
  const ip = canonicalIp(prefix ? text.slice(0, -3) : text);
  return ip && (!prefix || ip.includes(':')) ? ip : undefined;
}

/** Is `ip` inside `cidr`? Both IPv4 or both IPv6; anything else is not. */
export function inNetwork(ip: string, cidr: string): boolean {
  const [net, bitsText] = cidr.split('/');
  const a = toBits(ip);
  const b = toBits(net);
  if (!a || !b || a.length !== b.length) return false;
  const bits = bitsText === undefined ? a.length : Number(bitsText);
  return a.slice(0, bits) === b.slice(0, bits);
}

/** The address as a string of 32 or 128 bits. */
export function toBits(ip: string): string | undefined {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(ip)) {
    const parts = ip.split('.').map(Number);
    if (parts.some((p) => p > 255)) return undefined;
    return parts.map((p) => p.toString(2).padStart(8, '0')).join('');
  }
  if (!ip.includes(':')) return undefined;
  let text = ip.toLowerCase();
  const v4 = /(\d{1,3}(?:\.\d{1,3}){3})$/.exec(text);
  if (v4) {
    const bits = toBits(v4[1]);
    if (!bits) return undefined;
    text = text.slice(0, -v4[1].length) + `${parseInt(bits.slice(0, 16), 2).toString(16)}:${parseInt(bits.slice(16), 2).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - head.length - tail.length;
  if (missing < 0 || (halves.length === 1 && missing !== 0)) return undefined;
  const groups = [...head, ...Array(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  if (groups.some((g) => !/^[0-9a-f]{1,4}$/.test(g))) return undefined;
  return groups.map((g) => parseInt(g, 16).toString(2).padStart(16, '0')).join('');
}
