/** What the stack should be, from the config: images built, specs made. Shared by `up`, `upgrade` and `compose`. */
import { buildImages, type BuiltImage } from '../build.js';
import { acmeCaBundle } from '../certs/source.js';
import type { Config } from '../config.js';
import { ensureNetwork, ensureVolume } from '../docker/containers.js';
import type { Engine } from '../docker/engine.js';
import { networkName } from '../layout.js';
import type { Progress } from '../progress.js';
import type { Desired } from '../reconcile/plan.js';
import { specAspects } from '../spec/hash.js';
import { guardSpec, neededImages, stackSpecs, type MailLogs } from '../spec/services.js';
import { containerName, volumeName } from '../layout.js';
import { orAbsent } from '../docker/engine.js';
import { listDomains } from '../accounts/domains.js';

export interface DesiredStack {
  images: Record<string, BuiltImage>;
  desired: Desired[];
  /** The domains chasquid serves (undefined before it runs: the main one). */
  domains?: string[];
}

/** The served domains, from chasquid's volume while it runs; undefined before. */
export async function currentDomains(docker: Engine, config: Config): Promise<string[] | undefined> {
  return listDomains(docker, config).catch(() => undefined);
}

export async function desiredStack(docker: Engine, config: Config, progress: Progress, options: { noCache?: boolean } = {}): Promise<DesiredStack> {
  const built = await buildImages(docker, config, { names: neededImages(config), noCache: options.noCache }, progress);
  const images = Object.fromEntries(built.map((i) => [i.name, i]));
  const domains = await currentDomains(docker, config);
  const specs = stackSpecs(config, {
    domains,
    images: Object.fromEntries(built.map((i) => [i.name, i.ref])),
    acmeCaBundle: acmeCaBundle(config),
    dockerSocket: config.dockerSocket,
  });
  return { images, domains, desired: specs.map((spec) => ({ spec, aspects: specAspects(spec, images[spec.service].id) })) };
}

/** The network and the volumes the specs use: made once, never removed by a plan. */
export async function ensureStackObjects(docker: Engine, config: Config, stack: DesiredStack, progress: Progress): Promise<string> {
  const network = networkName(config.project);
  await ensureNetwork(docker, network, config.project, config.subnet);
  const volumes = new Set(stack.desired.flatMap((d) => d.spec.mounts.flatMap((m) => (m.volume ? [m.volume] : []))));
  // The guard's (planned after the mail containers, see up.ts).
  if (config.abuse.bans.enabled) volumes.add(volumeName(config.project, 'guard-state'));
  for (const volume of volumes) {
    if (await ensureVolume(docker, volume, config.project, volume.slice(config.project.length + 1))) progress.step(`created volume ${volume}`);
  }
  return network;
}

/** The mail containers' json-file logs on the engine's host, when both exist. */
export async function mailLogPaths(docker: Engine, config: Config): Promise<MailLogs | undefined> {
  const paths: Partial<MailLogs> = {};
  for (const service of ['chasquid', 'dovecot'] as const) {
    const info = await orAbsent(docker.getContainer(containerName(config.project, service)).inspect());
    if (!info?.LogPath) return undefined;
    paths[service] = info.LogPath;
  }
  return paths as MailLogs;
}

/** The guard as it should run, given where the mail logs are (none when MAIL_BAN=off or before the mail containers exist). */
export function desiredGuard(config: Config, stack: DesiredStack, logs: MailLogs | undefined): Desired[] {
  const image = stack.images.guard;
  if (!config.abuse.bans.enabled || !logs || !image) return [];
  const spec = guardSpec(config, image.ref, logs);
  return [{ spec, aspects: specAspects(spec, image.id) }];
}
