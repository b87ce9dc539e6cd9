/** chasquid's per-domain aliases file, read as data. Pure. */
import { parseTarget } from '../names/address.js';

export interface AliasEntry {
  alias: string;
  domain: string;
  targets: string[];
}

/** A target as mailctl stores it (canonical), or as written when it does not parse. */
function canonicalTarget(raw: string): string {
  try {
    return parseTarget(raw).address;
  } catch {
    return raw;
  }
}

export function parseAliases(text: string, domain: string): AliasEntry[] {
  const out: AliasEntry[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || !line.includes(':')) continue;
    const name = line.slice(0, line.indexOf(':')).trim();
    const targets = line.slice(line.indexOf(':') + 1).split(',').map((s) => s.trim()).filter(Boolean).map(canonicalTarget);
    out.push({ alias: `${name}@${domain}`, domain, targets });
  }
  return out;
}
