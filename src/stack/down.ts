/** `mailctl down`: remove the containers and the network; volumes only when asked. */
import type { Config } from '../config/config.js';
import { observeProject, projectFilter, removeContainer } from '../docker/containers.js';
import type { Engine } from '../docker/engine.js';
import { withProjectLock } from '../core/project-lock.js';
import { networkName } from '../model/layout.js';
import type { Progress } from '../core/progress.js';
import { byStopOrder, refuseOnSwarm } from '../runtime/running.js';
import { teardownFirewall } from '../abuse/bans.js';

export interface DownResult {
  containers: string[];
  network?: string;
  volumes: string[];
}

export async function down(docker: Engine, config: Config, options: { volumes?: boolean }, progress: Progress): Promise<DownResult> {
  return withProjectLock(config.project, 'down', (line) => progress.step(line), () => removeStack(docker, config, options, progress));
}

async function removeStack(docker: Engine, config: Config, options: { volumes?: boolean }, progress: Progress): Promise<DownResult> {
  await refuseOnSwarm(docker, config, 'down');
  const result: DownResult = { containers: [], volumes: [] };
  const observed = (await observeProject(docker, config.project)).sort(byStopOrder);
  if (observed.some((c) => c.service === 'guard') && (await teardownFirewall(docker, config))) {
    progress.step(`removed ${config.project}'s bans from the host's firewall (they are kept for the next up)`);
  }
  for (const container of observed) {
    progress.step(`removing ${container.name}`);
    await removeContainer(docker, container.id);
    result.containers.push(container.name);
  }
  const network = networkName(config.project);
  const info = await docker.inspectNetwork(network);
  const others = info?.containers ?? [];
  if (info && others.length > 0) {
    // Containers that are not ours (a test rig, a proxy) still use it: keep it rather than fail.
    progress.step(`network ${network} is kept: still used by ${others.join(', ')}`);
  } else if (info) {
    await docker.removeNetwork(network);
    result.network = network;
  }
  if (options.volumes) {
    for (const volume of await docker.listVolumes(projectFilter(config.project))) {
      progress.step(`removing volume ${volume.name}`);
      await docker.removeVolume(volume.name);
      result.volumes.push(volume.name);
    }
  }
  return result;
}
