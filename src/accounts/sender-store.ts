/**
 * The sender rules and map on chasquid's state volume, changed by
 * `mailctl-senders` in the chasquid container (it replaces files by rename:
 * the hook never reads half of one). Callers hold the accounts lock.
 */
import type { AccountsState } from './alias-graph.js';
import type { Config } from '../config/config.js';
import type { Engine } from '../docker/engine.js';
import { OperationalError } from '../core/errors.js';
import { runningService } from '../runtime/running.js';
import { SENDERS_DIR } from '../model/layout.js';
import { parseSenderRules, renderSenderMap, renderSenderRules, type SenderRule } from './senders.js';

const SENDERS_TOOL = '/usr/local/bin/mailctl-senders';

async function sendersTool(docker: Engine, config: Config, args: string[], stdin?: string): Promise<string> {
  const chasquid = await runningService(docker, config, 'chasquid');
  const r = await chasquid.exec([SENDERS_TOOL, ...args], { user: 'chasquid', ...(stdin === undefined ? {} : { stdin }) });
  if (r.exitCode !== 0) throw new OperationalError(`mailctl-senders ${args[0]} failed: ${r.stderr.trim() || `exit ${r.exitCode}`}`);
  return r.stdout;
}

// Read straight from the volume (no process in the container); written only through the tool, by rename.
async function readSendersFile(docker: Engine, config: Config, name: string): Promise<string> {
  return ((await (await runningService(docker, config, 'chasquid')).readFile(`${SENDERS_DIR}/${name}`))?.toString()) ?? '';
}

export async function readSenderRules(docker: Engine, config: Config): Promise<SenderRule[]> {
  return parseSenderRules(await readSendersFile(docker, config, 'sender-rules'));
}

export async function writeSenderRules(docker: Engine, config: Config, rules: readonly SenderRule[]): Promise<void> {
  await sendersTool(docker, config, ['set-rules'], renderSenderRules(rules));
}

/** Rewrite the map the submission hook reads from the accounts, aliases and rules as they are now. */
export async function writeSenderMap(docker: Engine, config: Config, state: AccountsState, rules: readonly SenderRule[]): Promise<void> {
  if (await senderMapIsCurrent(docker, config, state, rules)) return;
  await sendersTool(docker, config, ['set-map'], renderSenderMap(state, rules, config.abuse.sendLimit));
}

/** Does the map the hook reads say what the accounts, aliases and rules say? */
export async function senderMapIsCurrent(docker: Engine, config: Config, state: AccountsState, rules: readonly SenderRule[]): Promise<boolean> {
  return (await readSendersFile(docker, config, 'senders')) === renderSenderMap(state, rules, config.abuse.sendLimit);
}
