/**
 * Accounts live in dovecot's passwd-file (the stack's one user database),
 * changed only by `mailctl-users` inside the dovecot container, which locks,
 * hashes with `doveadm pw` and renames atomically. Passwords travel on the
 * exec's stdin, never in a command line. Callers hold the accounts lock
 * (accounts/changes.ts) for changes.
 */
import type { Config } from '../config/config.js';
import type { Engine } from '../docker/engine.js';
import { OperationalError, UsageError } from '../core/errors.js';
import { USERS_FILE } from '../model/layout.js';
import { runningService } from '../runtime/running.js';
import { alternateForms, parseAddress, type Address } from '../names/address.js';
import { checkPassword } from './password.js';
import { parsePasswd, type UserEntry } from './passwd.js';

const USERS_TOOL = '/usr/local/bin/mailctl-users';

async function usersTool(docker: Engine, config: Config, args: string[], stdin?: string) {
  return (await runningService(docker, config, 'dovecot')).exec([USERS_TOOL, ...args], stdin === undefined ? {} : { stdin });
}

function failed(what: string, result: { exitCode: number; stderr: string }): never {
  throw new OperationalError(`${what} failed: ${result.stderr.trim() || `exit ${result.exitCode}`}`);
}

/** Write the account (every spelling of it). Returns where an earlier owner's mail was set aside, if any. */
export async function writeUser(docker: Engine, config: Config, a: Address, password: string): Promise<string | undefined> {
  checkPassword(password);
  const result = await usersTool(docker, config, ['add', a.address, ...alternateForms(a)], `${password}\n`);
  if (result.exitCode === 3) throw new UsageError(`${a.address} already exists: use \`mailctl passwd ${a.address}\` to change its password`);
  if (result.exitCode !== 0) failed(`adding ${a.address}`, result);
  return result.stdout.trim() || undefined;
}

export async function changePassword(docker: Engine, config: Config, input: string, password: string): Promise<string> {
  const { address } = parseAddress(input);
  checkPassword(password);
  const result = await usersTool(docker, config, ['passwd', address], `${password}\n`);
  if (result.exitCode === 4) throw new UsageError(`${address} does not exist (see \`mailctl list-users\`)`);
  if (result.exitCode !== 0) failed(`changing the password of ${address}`, result);
  return address;
}

/** Remove the account; its mail is purged or set aside (returned: where it went). */
export async function removeUser(docker: Engine, config: Config, address: string, purge: boolean): Promise<string | undefined> {
  const result = await usersTool(docker, config, ['del', address, purge ? 'purge' : 'keep']);
  if (result.exitCode === 4) throw new UsageError(`${address} does not exist (see \`mailctl list-users\`)`);
  if (result.exitCode !== 0) failed(`removing ${address}`, result);
  return result.stdout.trim() || undefined;
}

/** The accounts, in the order they were added. */
export async function listUsers(docker: Engine, config: Config): Promise<UserEntry[]> {
  const dovecot = await runningService(docker, config, 'dovecot');
  return parsePasswd((await dovecot.readFile(USERS_FILE))?.toString() ?? '');
}
