/** chasquid's per-domain aliases file, read as data. Pure. */

export interface AliasEntry {
  alias: string;
  domain: string;
  targets: string[];
}

export function parseAliases(text: string, domain: string): AliasEntry[] {
  const out: AliasEntry[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || !line.includes(':')) continue;
    const name = line.slice(0, line.indexOf(':')).trim();
    const targets = line.slice(line.indexOf(':') + 1).split(',').map((s) => s.trim()).filter(Boolean);
    out.push({ alias: `${name}@${domain}`, domain, targets });
  }
  return out;
}
