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
import { neededImages, stackSpecs } from '../spec/services.js';

export interface DesiredStack {
  images: Record<string, BuiltImage>;
  desired: Desired[];
}

export async function desiredStack(docker: Engine, config: Config, progress: Progress, options: { noCache?: boolean } = {}): Promise<DesiredStack> {
  const built = await buildImages(docker, config, { names: neededImages(config), noCache: options.noCache }, progress);
  const images = Object.fromEntries(built.map((i) => [i.name, i]));
  const specs = stackSpecs(config, {
    images: Object.fromEntries(built.map((i) => [i.name, i.ref])),
    acmeCaBundle: acmeCaBundle(config),
    dockerSocket: config.dockerSocket,
  });
  return { images, desired: specs.map((spec) => ({ spec, aspects: specAspects(spec, images[spec.service].id) })) };
}

/** The network and the volumes the specs use: made once, never removed by a plan. */
export async function ensureStackObjects(docker: Engine, config: Config, stack: DesiredStack, progress: Progress): Promise<string> {
  const network = networkName(config.project);
  await ensureNetwork(docker, network, config.project, config.subnet);
  const volumes = new Set(stack.desired.flatMap((d) => d.spec.mounts.flatMap((m) => (m.volume ? [m.volume] : []))));
  for (const volume of volumes) {
    if (await ensureVolume(docker, volume, config.project, volume.slice(config.project.length + 1))) progress.step(`created volume ${volume}`);
  }
  return network;
}
