/**
 * Aliases are chasquid's own per-domain aliases files (domains/<d>/aliases),
 * changed by `mailctl-aliases` in the chasquid container under a lock. A
 * SIGHUP makes chasquid re-read them at once. Callers hold the accounts lock
 * (accounts/changes.ts) and have checked the change against the alias graph.
 */
import type { Config } from '../config/config.js';
import type { Engine } from '../docker/engine.js';
import { OperationalError, UsageError } from '../core/errors.js';
import { CHASQUID_DOMAINS_DIR } from '../model/layout.js';
import { runningService } from '../runtime/running.js';
import { normalizeDomain } from '../names/validate.js';
import { parseAddress, parseTarget } from '../names/address.js';
import { parseAliases, type AliasEntry } from './aliases-file.js';

const ALIASES_TOOL = '/usr/local/bin/mailctl-aliases';

/** ALIAS is user@domain, or *@domain for the domain's catch-all. */
export function parseAlias(input: string): { local: string; domain: string; address: string } {
  if (input.startsWith('*@')) {
    const domain = normalizeDomain(input.slice(2), `the domain of "${input}"`);
    return { local: '*', domain, address: `*@${domain}` };
  }
  return parseAddress(input);
}

/** Targets as stored: canonical addresses (a +tag kept). */
export function parseTargets(inputs: string[]): string[] {
  if (inputs.length === 0) throw new UsageError('give at least one target address');
  return [...new Set(inputs.map((t) => parseTarget(t).address))];
}

async function reload(docker: Engine, config: Config): Promise<void> {
  await (await runningService(docker, config, 'chasquid')).signal('SIGHUP');
}

/** Write ALIAS -> TARGETS (replacing it). No checks: see accounts/changes.ts. */
export async function writeAlias(docker: Engine, config: Config, alias: string, targets: string[]): Promise<void> {
  const { local, domain } = parseAlias(alias);
  const chasquid = await runningService(docker, config, 'chasquid');
  const r = await chasquid.exec([ALIASES_TOOL, 'set', domain, local, targets.join(',')], { user: 'chasquid' });
  if (r.exitCode !== 0) throw new OperationalError(`setting ${alias} failed: ${r.stderr.trim() || `exit ${r.exitCode}`}`);
  await reload(docker, config);
}

export async function removeAlias(docker: Engine, config: Config, alias: string): Promise<void> {
  const { local, domain } = parseAlias(alias);
  const chasquid = await runningService(docker, config, 'chasquid');
  const r = await chasquid.exec([ALIASES_TOOL, 'del', domain, local], { user: 'chasquid' });
  if (r.exitCode === 4) throw new UsageError(`${alias} is not an alias (see \`mailctl list-aliases\`)`);
  if (r.exitCode !== 0) throw new OperationalError(`removing ${alias} failed: ${r.stderr.trim() || `exit ${r.exitCode}`}`);
  await reload(docker, config);
}

/** Every alias of the given domains, targets normalised where they parse. */
export async function readAliases(docker: Engine, config: Config, domains: string[]): Promise<AliasEntry[]> {
  const chasquid = await runningService(docker, config, 'chasquid');
  const texts = await Promise.all(domains.map(async (domain) => (await chasquid.readFile(`${CHASQUID_DOMAINS_DIR}/${domain}/aliases`))?.toString() ?? ''));
  return domains.flatMap((domain, i) => parseAliases(texts[i], domain));
}
