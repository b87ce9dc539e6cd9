/**
 * Accounts live in dovecot's passwd-file (the stack's one user database),
 * changed only by `mailctl-users` inside the dovecot container, which locks,
 * hashes with `doveadm pw` and renames atomically. Passwords travel on the
 * exec's stdin, never in a command line.
 */
import type { Config } from '../config.js';
import { listDir, readFile } from '../docker/archive.js';
import { healthOf, restartContainer } from '../docker/containers.js';
import type { Engine } from '../docker/engine.js';
import { execIn } from '../docker/exec.js';
import { OperationalError, UsageError } from '../errors.js';
import { CHASQUID_DOMAINS_DIR, containerName, USERS_FILE } from '../layout.js';
import type { Progress } from '../progress.js';
import { waitHealthy } from '../stack/health.js';
import { parseAddress } from '../validate.js';
import { checkPassword } from './password.js';
import { parsePasswd, type UserEntry } from './passwd.js';

async function running(docker: Engine, config: Config, service: 'dovecot' | 'chasquid') {
  const name = containerName(config.project, service);
  const health = await healthOf(docker, name);
  if (health?.state !== 'running') {
    throw new OperationalError(`${name} is not running: start the stack with \`mailctl up\``);
  }
  return docker.getContainer(name);
}

export interface AddUserResult {
  address: string;
  domainAdded: boolean;
}

export async function addUser(docker: Engine, config: Config, input: string, password: string, progress: Progress): Promise<AddUserResult> {
  const { address, domain } = parseAddress(input);
  checkPassword(password);
  const dovecot = await running(docker, config, 'dovecot');
  const result = await execIn(dovecot, ['/usr/local/bin/mailctl-users', 'add', address], { stdin: `${password}\n` });
  if (result.exitCode === 3) throw new UsageError(`${address} already exists: use \`mailctl passwd ${address}\` to change its password`);
  if (result.exitCode !== 0) throw new OperationalError(`adding ${address} failed: ${result.stderr.trim() || `exit ${result.exitCode}`}`);
  const domainAdded = await ensureDomain(docker, config, domain, progress);
  return { address, domainAdded };
}

export async function listUsers(docker: Engine, config: Config): Promise<UserEntry[]> {
  const dovecot = await running(docker, config, 'dovecot');
  return parsePasswd((await readFile(dovecot, USERS_FILE))?.toString() ?? '');
}

export async function listDomains(docker: Engine, config: Config): Promise<string[]> {
  const chasquid = await running(docker, config, 'chasquid');
  return listDir(chasquid, CHASQUID_DOMAINS_DIR);
}

/**
 * Make chasquid serve `domain`. chasquid reads its domains only at start, so
 * a new one means a restart; an existing one touches nothing.
 */
export async function ensureDomain(docker: Engine, config: Config, domain: string, progress: Progress): Promise<boolean> {
  if ((await listDomains(docker, config)).includes(domain)) return false;
  const chasquid = await running(docker, config, 'chasquid');
  const made = await execIn(chasquid, ['mkdir', '-m', '0750', `${CHASQUID_DOMAINS_DIR}/${domain}`], { user: 'chasquid' });
  if (made.exitCode !== 0) throw new OperationalError(`adding domain ${domain} failed: ${made.stderr.trim()}`);
  progress.step(`new domain ${domain}: restarting chasquid (it reads domains only at start)`);
  const name = containerName(config.project, 'chasquid');
  await restartContainer(docker, name);
  await waitHealthy(docker, [name], progress);
  return true;
}
