/** `mailctl bans` and `unban`: asked of the guard sidecar, which keeps the bans (src/sidecar/guard.ts). */
import type { Config } from '../config/config.js';
import type { Engine } from '../docker/engine.js';
import { OperationalError, UsageError } from '../core/errors.js';
import { runningService } from '../runtime/running.js';
import { healthOf } from '../docker/containers.js';
import { containerName } from '../model/layout.js';
import type { Ban } from './ban-book.js';
import { parseBanTarget } from '../names/ip.js';

const GUARD = ['node', '/usr/local/lib/mailctl/mailctl-guard.cjs'];

export interface BanView { address: string; reason: string; since: string; until: string; secondsLeft: number; count: number }

const view = (b: Ban, now: number): BanView => ({
  address: b.address, reason: b.reason, since: new Date(b.since).toISOString(), until: new Date(b.until).toISOString(),
  secondsLeft: Math.max(0, Math.round((b.until - now) / 1000)), count: b.count,
});

async function guard(docker: Engine, config: Config, args: string[]) {
  if (!config.abuse.bans.enabled) throw new UsageError('bans are off (MAIL_BAN=off in .env): nothing is banned');
  return (await runningService(docker, config, 'guard')).exec([...GUARD, ...args]);
}

/** Before `down` removes the guard: its table leaves the host's firewall (the bans stay on its volume). */
export async function teardownFirewall(docker: Engine, config: Config): Promise<boolean> {
  const name = containerName(config.project, 'guard');
  if ((await healthOf(docker, name))?.state !== 'running') return false;
  const r = await docker.container(name).exec([...GUARD, 'teardown']);
  return r.exitCode === 0;
}

export async function listBans(docker: Engine, config: Config): Promise<BanView[]> {
  const r = await guard(docker, config, ['bans']);
  if (r.exitCode !== 0) throw new OperationalError(`the guard did not answer: ${r.stderr.trim() || r.stdout.trim() || `exit ${r.exitCode}`}`);
  const now = Date.now();
  return (JSON.parse(r.stdout) as Ban[]).map((b) => view(b, now));
}

/** Lift the ban of ADDRESS (an IPv4 or IPv6 address). */
export async function unban(docker: Engine, config: Config, input: string): Promise<BanView> {
  const address = parseBanTarget(input);
  if (!address) throw new UsageError(`"${input}" is not an IP address: give the address \`mailctl bans\` lists, e.g. 198.51.100.7 or 2001:db8::7`);
  const r = await guard(docker, config, ['unban', address]);
  if (r.exitCode === 4) throw new UsageError(`${address} is not banned (see \`mailctl bans\`)`);
  if (r.exitCode !== 0) throw new OperationalError(`the guard did not unban ${address}: ${r.stderr.trim() || r.stdout.trim() || `exit ${r.exitCode}`}`);
  return view(JSON.parse(r.stdout) as Ban, Date.now());
}
