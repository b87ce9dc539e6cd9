/** Containers, networks and volumes of one project, as the engine sees them. */
import { OperationalError } from '../core/errors.js';
import { LABEL, projectLabels, SWARM_SERVICE_LABEL } from '../model/labels.js';
import type { ServiceSpec } from '../model/types.js';
import { isConflict, isNotFound, shortReason, type ContainerCreateOptions, type ContainerHandle, type Engine } from './engine.js';

/** A container of the project, as a listing shows it (labels decoded). */
export interface Observed {
  id: string;
  name: string;
  service: string;
  state: string;
  configHash?: string;
  aspectsLabel?: string;
  /** The Swarm service it is a task of (a stack deployed from `compose --swarm`). */
  swarmService?: string;
}

export const projectFilter = (project: string) => [`${LABEL.managed}=true`, `${LABEL.project}=${project}`];

/**
 * The project's containers. Swarm's task containers only when asked (status,
 * backup): everything else changes or removes what it sees, and Swarm's are
 * Swarm's to manage.
 */
export async function observeProject(engine: Engine, project: string, options: { swarmTasks?: boolean } = {}): Promise<Observed[]> {
  return (await engine.listContainers(projectFilter(project)))
    .filter((c) => options.swarmTasks || !c.labels[SWARM_SERVICE_LABEL])
    .map((c) => ({
      id: c.id,
      name: c.name,
      service: c.labels[LABEL.service] ?? '',
      state: c.state,
      configHash: c.labels[LABEL.configHash],
      aspectsLabel: c.labels[LABEL.aspects],
      ...(c.labels[SWARM_SERVICE_LABEL] ? { swarmService: c.labels[SWARM_SERVICE_LABEL] } : {}),
    }));
}

export async function ensureNetwork(engine: Engine, name: string, project: string, subnet?: string): Promise<boolean> {
  if (await engine.inspectNetwork(name)) return false;
  try {
    await engine.createNetwork(name, projectLabels(project), subnet);
    return true;
  } catch (err) {
    if (!isConflict(err)) throw new OperationalError(`cannot create network ${name}: ${shortReason(err)}`);
    return false;
  }
}

export async function ensureVolume(engine: Engine, name: string, project: string, role: string): Promise<boolean> {
  if (await engine.volumeExists(name)) return false;
  await engine.createVolume(name, { ...projectLabels(project), [LABEL.volume]: role });
  return true;
}

/** Create a container from its spec and put its files in, without starting it. */
export async function createService(engine: Engine, options: ContainerCreateOptions, spec: ServiceSpec): Promise<ContainerHandle> {
  const container = await engine.createContainer(options);
  if (!spec.readOnlyRoot) await container.putFiles(spec.files);
  // A read-only root takes files only on its volumes, each put relative to its mount point.
  else for (const mount of spec.mounts.filter((m) => m.volume && !m.readOnly)) await container.putFiles(spec.files, mount.target);
  return container;
}

/** Start a container, turning "port is already allocated" into a line that names the .env key. */
export async function startService(engine: Engine, id: string, spec?: ServiceSpec): Promise<void> {
  try {
    await engine.container(id).start();
  } catch (err) {
    const reason = shortReason(err);
    const port = /(?:0\.0\.0\.0|[\d.]+|\[[\da-f:]+\]):(\d+)/i.exec(reason)?.[1] ?? /port (\d+)/.exec(reason)?.[1];
    const taken = /already allocated|address already in use/i.test(reason);
    const entry = spec?.ports.find((p) => String(p.host) === port);
    if (taken && entry) {
      throw new OperationalError(
        `port ${entry.host} on ${entry.binds.join(', ')} is already in use, so ${spec!.name} cannot start: ` +
          `stop what listens there, or set ${entry.key} in .env to a free port`,
      );
    }
    throw new OperationalError(`cannot start ${spec?.name ?? id}: ${reason}`);
  }
}

/** Stop (10 s to finish what it does) and remove; one already gone is fine. */
export async function removeContainer(engine: Engine, id: string): Promise<void> {
  const container = engine.container(id);
  await container.stop(10).catch((e) => { if (!isNotFound(e)) throw e; });
  await container.remove();
}


/** The last lines a container printed (stdout and stderr), for error reports. */
export async function logTail(engine: Engine, name: string, lines: number | 'all' = 20): Promise<string> {
  return engine.container(name).logs(lines).catch(() => '');
}

export interface Health {
  state: string;
  health?: string;
  lastProbe?: string;
  startedAt?: string;
}

export async function healthOf(engine: Engine, name: string): Promise<Health | undefined> {
  const info = await engine.container(name).inspect();
  if (!info) return undefined;
  const log = info.State.Health?.Log ?? [];
  return {
    state: info.State.Status,
    health: info.State.Health?.Status,
    lastProbe: log.length ? log[log.length - 1].Output.trim() : undefined,
    startedAt: info.State.StartedAt,
  };
}
