/**
 * Accounts live in dovecot's passwd-file (the stack's one user database),
 * changed only by `mailctl-users` inside the dovecot container, which locks,
 * hashes with `doveadm pw` and renames atomically. Passwords travel on the
 * exec's stdin, never in a command line.
 */
import type { Config } from '../config.js';
import { readFile } from '../docker/archive.js';
import type { Engine } from '../docker/engine.js';
import { execIn } from '../docker/exec.js';
import { OperationalError, UsageError } from '../errors.js';
import { MAIL_ROOT, USERS_FILE } from '../layout.js';
import type { Progress } from '../progress.js';
import { runningService } from '../stack/running.js';
import { parseAddress } from '../validate.js';
import { addDomain } from './domains.js';
import { checkPassword } from './password.js';
import { parsePasswd, type UserEntry } from './passwd.js';

const USERS_TOOL = '/usr/local/bin/mailctl-users';

async function usersTool(docker: Engine, config: Config, args: string[], stdin?: string) {
  return execIn(await runningService(docker, config, 'dovecot'), [USERS_TOOL, ...args], stdin === undefined ? {} : { stdin });
}

function failed(what: string, result: { exitCode: number; stderr: string }): never {
  throw new OperationalError(`${what} failed: ${result.stderr.trim() || `exit ${result.exitCode}`}`);
}

export interface AddUserResult {
  address: string;
  domainAdded: boolean;
}

export async function addUser(docker: Engine, config: Config, input: string, password: string, progress: Progress): Promise<AddUserResult> {
  const { address, domain } = parseAddress(input);
  checkPassword(password);
  const result = await usersTool(docker, config, ['add', address], `${password}\n`);
  if (result.exitCode === 3) throw new UsageError(`${address} already exists: use \`mailctl passwd ${address}\` to change its password`);
  if (result.exitCode !== 0) failed(`adding ${address}`, result);
  // The first user of a new domain also adds the domain.
  const { added } = await addDomain(docker, config, domain, progress);
  return { address, domainAdded: added };
}

export async function changePassword(docker: Engine, config: Config, input: string, password: string): Promise<string> {
  const { address } = parseAddress(input);
  checkPassword(password);
  const result = await usersTool(docker, config, ['passwd', address], `${password}\n`);
  if (result.exitCode === 4) throw new UsageError(`${address} does not exist (see \`mailctl list-users\`)`);
  if (result.exitCode !== 0) failed(`changing the password of ${address}`, result);
  return address;
}

/** Remove an account; its mail stays on the volume unless `purge`. */
export async function delUser(docker: Engine, config: Config, input: string, options: { purge?: boolean }): Promise<{ address: string; purged: boolean }> {
  const { address, local, domain } = parseAddress(input);
  const result = await usersTool(docker, config, ['del', address]);
  if (result.exitCode === 4) throw new UsageError(`${address} does not exist (see \`mailctl list-users\`)`);
  if (result.exitCode !== 0) failed(`removing ${address}`, result);
  if (options.purge) {
    const dovecot = await runningService(docker, config, 'dovecot');
    const purged = await execIn(dovecot, ['rm', '-rf', '--', `${MAIL_ROOT}/${domain}/${local}`]);
    if (purged.exitCode !== 0) failed(`removing the mail of ${address}`, purged);
  }
  return { address, purged: options.purge ?? false };
}

export async function listUsers(docker: Engine, config: Config): Promise<UserEntry[]> {
  const dovecot = await runningService(docker, config, 'dovecot');
  return parsePasswd((await readFile(dovecot, USERS_FILE))?.toString() ?? '');
}
