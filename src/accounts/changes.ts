/**
 * Account changes as users see them: each runs whole under the accounts lock,
 * checks the change against the current users, domains and aliases first, and
 * keeps postmaster@ and abuse@ of every domain delivering somewhere.
 */
import type { Config } from '../config/config.js';
import type { Engine } from '../docker/engine.js';
import { UsageError } from '../core/errors.js';
import type { Progress } from '../core/progress.js';
import { normalizeDomain } from '../names/validate.js';
import { mailDomain, parseAddress, parseTarget } from '../names/address.js';
import {
  checkDelAlias, checkSetAlias, isRoleAlias, missingRoleAliases, planAccountRemoval, resolveAlias,
  type AccountsState, type AliasChange, type ChainEnd,
} from './alias-graph.js';
import { parseAlias, parseTargets, readAliases, removeAlias, writeAlias } from './aliases.js';
import type { AliasEntry } from './aliases-file.js';
import { createDomain, listDomains, removeDomain, type DomainsChanged } from './domains.js';
import { withAccountsLock } from './lock.js';
import { listUsers, removeUser, writeUser } from './users.js';
import { allowSender as allowRule, denySender as denyRule, forgetAccounts, sendersOf, type SenderAddress } from './senders.js';
import { readSenderRules, senderMapIsCurrent, writeSenderMap, writeSenderRules } from './sender-store.js';

interface Snapshot { state: AccountsState; aliases: AliasEntry[] }

async function snapshot(docker: Engine, config: Config): Promise<Snapshot> {
  const [domains, users] = await Promise.all([listDomains(docker, config), listUsers(docker, config)]);
  const aliases = await readAliases(docker, config, domains);
  return { aliases, state: { domains, users: users.map((u) => u.address), aliases: new Map(aliases.map((a) => [a.alias, a.targets])) } };
}

/** Make the missing postmaster@/abuse@ aliases. Returns the ones made, and what could not be made. */
async function ensureRoleAliases(docker: Engine, config: Config): Promise<{ made: { alias: string; target: string }[]; warnings: string[] }> {
  const { make, waiting } = missingRoleAliases((await snapshot(docker, config)).state, config.postmaster);
  for (const { alias, target } of make) await writeAlias(docker, config, alias, [target]);
  const warnings = waiting.length && config.postmaster
    ? [`${waiting.join(', ')} not made yet: MAIL_POSTMASTER ${config.postmaster} is not an account or alias of this server; add it (\`mailctl add-user ${config.postmaster}\`)`]
    : [];
  return { made: make, warnings };
}

/**
 * After every change: the map the submission hook reads is rewritten from the
 * accounts and aliases as they now are (an alias made or removed changes who
 * may send as it). `forget`: accounts just removed lose their rules, and
 * nobody may send as them any more.
 */
export async function refreshSenders(docker: Engine, config: Config, forget: readonly string[] = []): Promise<void> {
  const { state } = await snapshot(docker, config);
  let rules = await readSenderRules(docker, config);
  if (forget.length) {
    const kept = forgetAccounts(rules, forget);
    if (kept.length !== rules.length) await writeSenderRules(docker, config, kept);
    rules = kept;
  }
  await writeSenderMap(docker, config, state, rules);
}

/**
 * For `up`: rewrite the sender map only when it is stale. Checked first
 * without the accounts lock (a no-op `up` takes no lock): a map that matches
 * is either current, or about to be rewritten by the change in progress.
 */
export async function refreshSendersIfStale(docker: Engine, config: Config): Promise<void> {
  if (await senderMapCurrent(docker, config)) return;
  await withAccountsLock(docker, config, () => refreshSenders(docker, config));
}

/** Does the map the submission hook reads say what the accounts, aliases and rules say? Reads only. */
export async function senderMapCurrent(docker: Engine, config: Config): Promise<boolean> {
  const [{ state }, rules] = await Promise.all([snapshot(docker, config), readSenderRules(docker, config)]);
  return senderMapIsCurrent(docker, config, state, rules);
}

async function applyAliasChanges(docker: Engine, config: Config, changes: AliasChange[]): Promise<void> {
  for (const change of changes) {
    if (change.targets) await writeAlias(docker, config, change.alias, change.targets);
    else await removeAlias(docker, config, change.alias);
  }
}

export interface AddUserResult {
  address: string;
  unicode?: string;
  domainAdded: boolean;
  /** Mail an earlier account of this address left behind, set aside rather than handed over. */
  setAside?: string;
  /** postmaster@/abuse@ aliases made now (the first account of a domain). */
  roleAliases: { alias: string; target: string }[];
  warnings: string[];
}

export async function addUser(docker: Engine, config: Config, input: string, password: string, progress: Progress, domainsChanged?: DomainsChanged): Promise<AddUserResult> {
  const a = parseAddress(input);
  return withAccountsLock(docker, config, async () => {
    const { state } = await snapshot(docker, config);
    const alias = state.aliases.get(a.address);
    // A role alias gives way to an account of that name; any other alias must be removed on purpose.
    if (alias && !isRoleAlias(a.address)) {
      throw new UsageError(`${a.address} is an alias (-> ${alias.join(', ')}): remove it with \`mailctl del-alias ${a.address}\` first`);
    }
    // The domain first: an account must never exist for a domain chasquid does not serve.
    const domainAdded = await createDomain(docker, config, a.domain, progress, domainsChanged);
    const setAside = await writeUser(docker, config, a, password);
    if (alias) await removeAlias(docker, config, a.address);
    const roles = await ensureRoleAliases(docker, config);
    await refreshSenders(docker, config);
    return {
      address: a.address, ...(a.unicodeDomain !== a.domain ? { unicode: `${a.local}@${a.unicodeDomain}` } : {}),
      domainAdded, setAside, roleAliases: roles.made, warnings: roles.warnings,
    };
  });
}

export interface DelUserResult { address: string; purged: boolean; setAside?: string; aliasChanges: AliasChange[]; roleAliases: { alias: string; target: string }[] }

export async function delUser(docker: Engine, config: Config, input: string, options: { purge?: boolean }): Promise<DelUserResult> {
  const { address } = parseAddress(input);
  return withAccountsLock(docker, config, async () => {
    const { state } = await snapshot(docker, config);
    if (!state.users.includes(address)) throw new UsageError(`${address} does not exist (see \`mailctl list-users\`)`);
    const aliasChanges = planAccountRemoval(state, [address], config.postmaster);
    const setAside = await removeUser(docker, config, address, options.purge ?? false);
    await applyAliasChanges(docker, config, aliasChanges);
    // The account may have been postmaster@ or abuse@ itself: the alias comes back at once.
    const roles = await ensureRoleAliases(docker, config);
    await refreshSenders(docker, config, [address]);
    return { address, purged: options.purge ?? false, setAside, aliasChanges, roleAliases: roles.made };
  });
}

export async function addDomain(docker: Engine, config: Config, input: string, progress: Progress, domainsChanged?: DomainsChanged) {
  const domain = mailDomain(input);
  return withAccountsLock(docker, config, async () => {
    const added = await createDomain(docker, config, domain, progress, domainsChanged);
    const roles = await ensureRoleAliases(docker, config);
    await refreshSenders(docker, config);
    return { domain, added, roleAliases: roles.made, warnings: roles.warnings };
  });
}

export async function delDomain(docker: Engine, config: Config, input: string, options: { force?: boolean; domainsChanged?: DomainsChanged }, progress: Progress) {
  const domain = normalizeDomain(input);
  if (domain === config.domain) throw new UsageError(`${domain} is MAIL_DOMAIN, the main domain: change MAIL_DOMAIN in .env instead`);
  return withAccountsLock(docker, config, async () => {
    const { state } = await snapshot(docker, config);
    if (!state.domains.includes(domain)) throw new UsageError(`${domain} is not a domain of this server (see \`mailctl list-domains\`)`);
    const users = state.users.filter((u) => u.endsWith(`@${domain}`));
    if (users.length && !options.force) {
      throw new UsageError(`${domain} still has ${users.length} user(s) (${users.slice(0, 3).join(', ')}${users.length > 3 ? ', ...' : ''}): remove them first, or add --force`);
    }
    // Checked before anything changes: another domain's postmaster@ may need one of these users.
    const aliasChanges = planAccountRemoval(state, users, config.postmaster, [domain]);
    await removeDomain(docker, config, domain, progress, options.domainsChanged);
    const setAside: string[] = [];
    for (const user of users) {
      const kept = await removeUser(docker, config, user, false);
      if (kept) setAside.push(kept);
    }
    await applyAliasChanges(docker, config, aliasChanges);
    await ensureRoleAliases(docker, config);
    await refreshSenders(docker, config, users);
    return { domain, removedUsers: users, setAside, aliasChanges };
  });
}

export interface AliasView extends AliasEntry {
  /** Where mail to the alias ends: accounts and outside addresses. */
  delivers?: ChainEnd[];
  /** The loop it is caught in (only for files edited by hand). */
  loop?: string[];
}

function view(state: AccountsState, entry: AliasEntry): AliasView {
  const r = resolveAlias(state, entry.alias);
  return 'loop' in r ? { ...entry, loop: r.loop } : { ...entry, delivers: r.ends };
}

export async function setAlias(docker: Engine, config: Config, aliasInput: string, targetInputs: string[]): Promise<AliasView> {
  const alias = parseAlias(aliasInput);
  const targets = parseTargets(targetInputs);
  return withAccountsLock(docker, config, async () => {
    const { state } = await snapshot(docker, config);
    if (!state.domains.includes(alias.domain)) throw new UsageError(`${alias.domain} is not a domain of this server: add it with \`mailctl add-domain ${alias.domain}\``);
    checkSetAlias(state, alias.address, targets);
    await writeAlias(docker, config, alias.address, targets);
    await refreshSenders(docker, config);
    const aliases = new Map(state.aliases).set(alias.address, targets);
    return view({ ...state, aliases }, { alias: alias.address, domain: alias.domain, targets });
  });
}

export async function delAlias(docker: Engine, config: Config, aliasInput: string): Promise<string> {
  const alias = parseAlias(aliasInput);
  return withAccountsLock(docker, config, async () => {
    const { state } = await snapshot(docker, config);
    if (!state.domains.includes(alias.domain)) throw new UsageError(`${alias.domain} is not a domain of this server (see \`mailctl list-domains\`)`);
    checkDelAlias(state, alias.address);
    await removeAlias(docker, config, alias.address);
    await refreshSenders(docker, config);
    return alias.address;
  });
}

export async function listAliases(docker: Engine, config: Config): Promise<AliasView[]> {
  const { state, aliases } = await snapshot(docker, config);
  return aliases.map((entry) => view(state, entry));
}

export interface SenderChange { user: string; address: string; senders: SenderAddress[] }

/** `allow-sender` / `deny-sender`: USER may (no longer) send as ADDRESS. */
export async function changeSender(docker: Engine, config: Config, kind: 'allow' | 'deny', userInput: string, addressInput: string): Promise<SenderChange> {
  const user = parseAddress(userInput).address;
  const address = parseTarget(addressInput).address;
  return withAccountsLock(docker, config, async () => {
    const { state } = await snapshot(docker, config);
    const current = await readSenderRules(docker, config);
    const rules = (kind === 'allow' ? allowRule : denyRule)(state, current, user, address);
    await writeSenderRules(docker, config, rules);
    await writeSenderMap(docker, config, state, rules);
    return { user, address, senders: sendersOf(state, rules, user) };
  });
}

/** Each account's addresses to send as, for list-users. */
export async function sendersByUser(docker: Engine, config: Config): Promise<Map<string, SenderAddress[]>> {
  const { state } = await snapshot(docker, config);
  const rules = await readSenderRules(docker, config);
  return new Map(state.users.map((u) => [u, sendersOf(state, rules, u)]));
}
