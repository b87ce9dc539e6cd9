/**
 * Where mail to an address ends, and which alias changes are safe. Pure:
 * the accounts, domains and aliases go in, verdicts and plans come out.
 *
 * Resolution follows chasquid's: a +tag is dropped, an alias expands to its
 * targets (recursively), an account ends the chain, and an address of a
 * served domain that is neither falls to the domain's catch-all (`*@domain`)
 * or nowhere. An address of another domain ends the chain (it is forwarded).
 */
import { UsageError } from '../core/errors.js';
import { withoutSuffix } from '../names/address.js';

/** postmaster@ (RFC 5321 4.5.1) and abuse@ (RFC 2142) exist for every domain. */
export const ROLE_NAMES = ['postmaster', 'abuse'] as const;

export interface AccountsState {
  /** Served domains (punycode). */
  domains: readonly string[];
  /** Accounts, canonical addresses. */
  users: readonly string[];
  /** Alias (canonical, or *@domain) -> its targets. */
  aliases: ReadonlyMap<string, readonly string[]>;
}

export type EndKind = 'account' | 'external' | 'nowhere';
export interface ChainEnd { address: string; kind: EndKind }

const domainOf = (address: string) => address.slice(address.lastIndexOf('@') + 1);
const localOf = (address: string) => address.slice(0, address.lastIndexOf('@'));
export const isRoleAlias = (address: string) => (ROLE_NAMES as readonly string[]).includes(localOf(address));

class Loop extends Error {
  constructor(readonly path: string[]) { super(path.join(' -> ')); }
}

/** The addresses mail to `address` finally reaches. Throws Loop on a cycle. */
function ends(state: AccountsState, address: string, path: string[]): ChainEnd[] {
  const base = withoutSuffix(address);
  if (!state.domains.includes(domainOf(base))) return [{ address, kind: 'external' }];
  let targets = state.aliases.get(base);
  let via = base;
  if (!targets) {
    if (state.users.includes(base)) return [{ address: base, kind: 'account' }];
    via = `*@${domainOf(base)}`;
    targets = state.aliases.get(via);
    if (!targets) return [{ address: base, kind: 'nowhere' }];
  }
  if (path.includes(via)) throw new Loop([...path, via]);
  return targets.flatMap((t) => ends(state, t, [...path, via]));
}

/** Where `alias` ends (each account or outside address), or the loop it is in. */
export function resolveAlias(state: AccountsState, alias: string): { ends: ChainEnd[] } | { loop: string[] } {
  try {
    const targets = state.aliases.get(alias) ?? [];
    const seen = new Map<string, ChainEnd>();
    for (const t of targets) for (const end of ends(state, t, [alias])) seen.set(end.address, end);
    return { ends: [...seen.values()] };
  } catch (err) {
    if (err instanceof Loop) return { loop: err.path };
    throw err;
  }
}

const withAlias = (state: AccountsState, alias: string, targets: readonly string[] | undefined): AccountsState => {
  const aliases = new Map(state.aliases);
  if (targets) aliases.set(alias, targets);
  else aliases.delete(alias);
  return { ...state, aliases };
};

/** Aliases that deliver (no loop, no dead end) in `before` but not in `after`, with why. */
function brokenBy(before: AccountsState, after: AccountsState): string[] {
  const problems: string[] = [];
  for (const [alias] of after.aliases) {
    const was = resolveAlias(before, alias);
    if ('loop' in was || was.ends.some((e) => e.kind === 'nowhere')) continue;
    const now = resolveAlias(after, alias);
    if ('loop' in now) problems.push(`${alias} would be caught in a loop (${now.loop.join(' -> ')})`);
    else if (now.ends.some((e) => e.kind === 'nowhere')) problems.push(`${alias} would deliver to ${now.ends.filter((e) => e.kind === 'nowhere').map((e) => e.address).join(', ')}, which is neither an account nor an alias`);
  }
  return problems;
}

/** Refuse an alias that shadows an account, points nowhere, makes a loop, or breaks another alias. */
export function checkSetAlias(state: AccountsState, alias: string, targets: readonly string[]): void {
  if (state.users.includes(alias)) throw new UsageError(`${alias} is an account: an address is either an account or an alias (remove the account first)`);
  if (targets.some((t) => withoutSuffix(t) === alias)) throw new UsageError(`${alias} cannot be its own target`);
  const next = withAlias(state, alias, targets);
  const result = resolveAlias(next, alias);
  if ('loop' in result) throw new UsageError(`${alias} would make a loop (${result.loop.join(' -> ')}): mail would go round until chasquid gives up`);
  const lost = result.ends.filter((e) => e.kind === 'nowhere');
  if (lost.length) {
    throw new UsageError(`${lost.map((e) => e.address).join(', ')} is neither an account nor an alias here: add it first (\`mailctl add-user\`), or the mail would be refused`);
  }
  const broken = brokenBy(state, next);
  if (broken.length) throw new UsageError(`changing ${alias} is refused: ${broken.join('; ')}`);
}

/** A role alias may be re-pointed but not removed; no alias may lose its way because another went. */
export function checkDelAlias(state: AccountsState, alias: string): void {
  if (!state.aliases.has(alias)) throw new UsageError(`${alias} is not an alias (see \`mailctl list-aliases\`)`);
  if (isRoleAlias(alias)) {
    throw new UsageError(`${alias} is required (RFC 5321 postmaster, RFC 2142 abuse): point it elsewhere with \`mailctl add-alias ${alias} ADDRESS\``);
  }
  const broken = brokenBy(state, withAlias(state, alias, undefined));
  if (broken.length) throw new UsageError(`removing ${alias} is refused: ${broken.join('; ')}; change those first`);
}

/** Who postmaster@ and abuse@ deliver to: MAIL_POSTMASTER, else the first account added. */
export function postmasterTarget(state: AccountsState, configured?: string): string | undefined {
  return configured ?? state.users[0];
}

/**
 * The role aliases that are missing (neither alias nor account): those that
 * can be made now, and those waiting for their target (no account yet, or
 * MAIL_POSTMASTER naming an account not added yet).
 */
export function missingRoleAliases(state: AccountsState, configured?: string): { make: { alias: string; target: string }[]; waiting: string[] } {
  const missing = state.domains.flatMap((domain) => ROLE_NAMES.map((role) => `${role}@${domain}`))
    .filter((alias) => !state.aliases.has(alias) && !state.users.includes(alias));
  const target = postmasterTarget(state, configured);
  if (!target || ends(state, target, []).some((e) => e.kind === 'nowhere')) return { make: [], waiting: missing };
  return { make: missing.map((alias) => ({ alias, target })), waiting: [] };
}

export interface AliasChange { alias: string; targets?: string[]; why: string }

/**
 * What removing accounts does to the aliases: each alias stops naming them;
 * a role alias left empty is re-pointed to the new postmaster target, any
 * other left empty is removed. Refuses when a role alias would point nowhere
 * or when a removed account is MAIL_POSTMASTER.
 */
export function planAccountRemoval(state: AccountsState, removed: readonly string[], configured?: string, goingDomains: readonly string[] = []): AliasChange[] {
  const gone = new Set(removed);
  // An address is gone when its account is removed, it is an alias removed here, or its domain goes.
  const isGone = (address: string) => gone.has(withoutSuffix(address)) || goingDomains.includes(domainOf(address));
  if (configured && isGone(configured)) {
    throw new UsageError(`${configured} is MAIL_POSTMASTER: set MAIL_POSTMASTER in .env to another address first`);
  }
  const usersAfter = state.users.filter((u) => !removed.includes(u) && !goingDomains.includes(domainOf(u)));
  const aliases = new Map([...state.aliases].filter(([alias]) => !goingDomains.includes(domainOf(alias))));
  const changes = new Map<string, AliasChange>();
  // Until nothing changes: an alias removed here may be the only target of another. Each
  // round removes an alias, shortens one, or re-points a role alias to an address that is
  // not gone (and refuses if that address goes later): it ends.
  for (let changed = true; changed;) {
    changed = false;
    for (const [alias, targets] of aliases) {
      const kept = targets.filter((t) => !isGone(t));
      if (kept.length === targets.length) continue;
      changed = true;
      if (kept.length) {
        aliases.set(alias, kept);
        changes.set(alias, { alias, targets: kept, why: `no longer delivers to ${targets.filter((t) => !kept.includes(t)).join(', ')}` });
      } else if (!isRoleAlias(alias)) {
        aliases.delete(alias);
        gone.add(alias);
        changes.set(alias, { alias, why: `it delivered only to ${targets.join(', ')}` });
      } else {
        const next = configured ?? usersAfter[0];
        if (!next) throw new UsageError(`${alias} delivers to ${targets.join(', ')}, the last account: add another account first (a domain must keep its postmaster@)`);
        if (isGone(next)) throw new UsageError(`${alias} would be re-pointed to MAIL_POSTMASTER ${next}, which goes too: set MAIL_POSTMASTER to another address first`);
        aliases.set(alias, [next]);
        changes.set(alias, { alias, targets: [next], why: `re-pointed to ${next}` });
      }
    }
  }
  return [...changes.values()];
}

