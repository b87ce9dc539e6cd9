/** The container steps of a plan, applied: create, replace (at once, or rolling with roll-back), start, remove. */
import type { Config } from '../config/config.js';
import { OperationalError } from '../core/errors.js';
import type { Progress } from '../core/progress.js';
import { createService, removeContainer, startService } from '../docker/containers.js';
import { createOptions } from '../docker/create-options.js';
import { isConflict, type Engine } from '../docker/engine.js';
import type { ServiceSpec } from '../model/types.js';
import { waitHealthy } from '../runtime/health.js';
import { changes, describeStep, type Step } from './containers.js';

/** Create, recreate, start and remove containers; rolling: one at a time, each healthy before the next. */
export async function applyContainerSteps(engine: Engine, config: Config, steps: readonly Step[], network: string, progress: Progress, rolling: boolean): Promise<void> {
  for (const step of changes(steps)) {
    progress.step(describeStep(step));
    switch (step.action) {
      case 'recreate':
      case 'create': {
        const { spec, aspects } = step.desired;
        const replaced = step.action === 'recreate' ? await setAside(engine, step.containerId, spec.name) : undefined;
        let id: string;
        try {
          id = (await createService(engine, createOptions(spec, config.project, network, aspects), spec)).ref;
        } catch (err) {
          if (replaced) await engine.container(replaced).rename(spec.name);
          if (isConflict(err) && !replaced) {
            throw new OperationalError(`a container named ${spec.name} exists that mailctl did not make (or another \`mailctl up\` just made it): remove it (\`docker rm ${spec.name}\`) or choose another MAILCTL_PROJECT`);
          }
          throw err;
        }
        // The new container is ready (files in) before the old one stops: the service is down only for stop + start.
        if (replaced && rolling) {
          await replaceOrRollBack(engine, replaced, id, spec, progress);
          break;
        }
        if (replaced) await removeContainer(engine, replaced);
        await startService(engine, id, spec);
        break;
      }
      case 'start':
        // A frozen one (a backup interrupted while it held the services paused) is thawed.
        if ((await engine.container(step.containerId).inspect())?.State.Paused) await engine.container(step.containerId).unpause();
        else await startService(engine, step.containerId);
        break;
      case 'remove':
        await removeContainer(engine, step.containerId);
        break;
    }
  }
}

/**
 * Rename a running container out of the way of its successor; it keeps serving
 * meanwhile. One that serves nothing (crash-looping after a failed `up`: the
 * engine cannot rename a host-network container between restarts) is removed.
 */
async function setAside(engine: Engine, id: string, name: string): Promise<string | undefined> {
  const container = engine.container(id);
  try {
    await container.rename(`${name}-replaced-${Date.now()}`);
    return id;
  } catch (err) {
    const state = (await container.inspect())?.State;
    if (state?.Running && !state.Restarting) throw err;
    await removeContainer(engine, id);
    return undefined;
  }
}

/**
 * Rolling replacement: the old container is only stopped until the new one is
 * healthy. If the new one does not get there, it is removed and the old one
 * comes back under its name, so a failed upgrade leaves the service as it was.
 */
async function replaceOrRollBack(engine: Engine, oldId: string, newId: string, spec: ServiceSpec, progress: Progress): Promise<void> {
  const old = engine.container(oldId);
  await old.stop(10);
  try {
    await startService(engine, newId, spec);
    await waitHealthy(engine, [spec.name], progress);
  } catch (err) {
    progress.step(`${spec.name} did not become healthy: rolling back to the container it replaced`);
    await removeContainer(engine, newId);
    await old.rename(spec.name);
    await old.start();
    await waitHealthy(engine, [spec.name], progress);
    const reason = err instanceof OperationalError ? err : undefined;
    throw new OperationalError(`${spec.name} was rolled back: ${reason?.message ?? (err as Error).message}`, reason?.details);
  }
  await removeContainer(engine, oldId);
}
