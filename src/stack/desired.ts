/** What the stack should be, from the config: images built, specs made. For `mailctl compose`, which writes a file instead of running containers. */
import { buildImages, type BuiltImage } from '../images/build.js';
import type { Config } from '../config/config.js';
import { ensureNetwork, ensureVolume } from '../docker/containers.js';
import type { Engine } from '../docker/engine.js';
import { networkName } from '../model/layout.js';
import type { Progress } from '../core/progress.js';
import type { Desired } from '../plan/containers.js';
import { neededImages } from '../plan/services.js';
import { desiredServices } from '../plan/stack-plan.js';
import { volumeName } from '../model/layout.js';
import { currentDomains } from '../accounts/domains.js';

export interface DesiredStack {
  images: Record<string, BuiltImage>;
  desired: Desired[];
  /** The domains chasquid serves (undefined before it runs: the main one). */
  domains?: string[];
}

export async function desiredStack(docker: Engine, config: Config, progress: Progress, options: { noCache?: boolean } = {}): Promise<DesiredStack> {
  const built = await buildImages(docker, config, { names: neededImages(config), noCache: options.noCache }, progress);
  const images = Object.fromEntries(built.map((i) => [i.name, i]));
  const domains = await currentDomains(docker, config);
  return { images, domains, desired: desiredServices(config, built, Object.fromEntries(built.map((i) => [i.ref, i.id])), domains) };
}

/** The network and the volumes the specs use: made once, never removed by a plan. */
export async function ensureStackObjects(docker: Engine, config: Config, stack: DesiredStack, progress: Progress): Promise<string> {
  const network = networkName(config.project);
  await ensureNetwork(docker, network, config.project, config.subnet);
  await ensureStackVolumes(docker, config, stack, progress);
  return network;
}

/** The volumes alone (a Swarm stack has a network of its own, made by `docker stack deploy`). */
export async function ensureStackVolumes(docker: Engine, config: Config, stack: DesiredStack, progress: Progress): Promise<void> {
  const volumes = new Set(stack.desired.flatMap((d) => d.spec.mounts.flatMap((m) => (m.volume ? [m.volume] : []))));
  // The guard's (planned after the mail containers, see up.ts).
  if (config.abuse.bans.enabled) volumes.add(volumeName(config.project, 'guard-state'));
  for (const volume of volumes) {
    if (await ensureVolume(docker, volume, config.project, volume.slice(config.project.length + 1))) progress.step(`created volume ${volume}`);
  }
}
