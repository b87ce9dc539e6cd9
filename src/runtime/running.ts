import { STOP_ORDER, type ServiceName } from '../model/service-table.js';
import type { Progress } from '../core/progress.js';
import { waitHealthy } from './health.js';
import type { Config } from '../config/config.js';
import { projectFilter } from '../docker/containers.js';
import type { ContainerHandle, Engine } from '../docker/engine.js';
import { OperationalError } from '../core/errors.js';
import { containerName } from '../model/layout.js';
import { LABEL, SWARM_SERVICE_LABEL } from '../model/labels.js';

/** Stop order: chasquid first, so it stops taking mail before dovecot, which delivers it, goes away. */
export { STOP_ORDER };
export const byStopOrder = (a: { service: string }, b: { service: string }) => rank(a.service) - rank(b.service);
const rank = (service: string) => (STOP_ORDER.includes(service as ServiceName) ? STOP_ORDER.indexOf(service as ServiceName) : STOP_ORDER.length);

/** Where a service runs: the container `up` made, or the container of a Swarm task of the stack deployed from `compose --swarm`. */
export interface ServiceContainer {
  /** Its id or name: what the engine takes. */
  ref: string;
  name: string;
  state: string;
  /** The Swarm service it is a task of. */
  swarmService?: string;
}

/**
 * Found by labels (project and service), which both kinds carry: `up`'s
 * container by its name first; else a Swarm task's, a running one first.
 */
export async function locateService(docker: Engine, config: Pick<Config, 'project'>, service: string): Promise<ServiceContainer | undefined> {
  const found = await docker.listContainers([...projectFilter(config.project), `${LABEL.service}=${service}`]);
  const own = found.find((c) => c.name === containerName(config.project, service));
  if (own) return { ref: own.name, name: own.name, state: own.state };
  const tasks = found.filter((c) => c.labels[SWARM_SERVICE_LABEL]);
  const task = tasks.find((c) => c.state === 'running') ?? tasks[0];
  return task && { ref: task.id, name: task.name, state: task.state, swarmService: task.labels[SWARM_SERVICE_LABEL] };
}

/**
 * The project's services that Swarm runs: its services (on a manager), and
 * its task containers here in any state (a task between two restarts, or a
 * worker's). `up`, `down` and `restore` leave such a stack to Swarm.
 */
export async function swarmServices(docker: Engine, project: string): Promise<string[]> {
  const services = await docker.listServices(projectFilter(project));
  const tasks = (await docker.listContainers(projectFilter(project))).filter((c) => c.labels[SWARM_SERVICE_LABEL]);
  return [...new Set([...services.map((s) => s.labels[LABEL.service] ?? s.name), ...tasks.map((c) => c.labels[LABEL.service] ?? '?')])].sort();
}

/** `compose --swarm` leaves a stack that `up` (or docker-compose) runs alone: two would fight over the ports and the volumes. */
export async function refuseUnlessSwarm(docker: Engine, config: Config): Promise<void> {
  const own = (await docker.listContainers(projectFilter(config.project))).filter((c) => !c.labels[SWARM_SERVICE_LABEL] && c.labels[LABEL.service] !== 'helper');
  if (own.length === 0) return;
  throw new OperationalError(`${config.project} runs here as containers of \`mailctl up\` (${own.map((c) => c.name).sort().join(', ')}): ` +
    'remove them with `mailctl down` first (the volumes, and so the mail, are kept), then deploy the Swarm stack');
}

export async function refuseOnSwarm(docker: Engine, config: Config, command: string): Promise<void> {
  const services = await swarmServices(docker, config.project);
  if (services.length === 0) return;
  throw new OperationalError(`${config.project} runs as a Swarm stack here (${services.join(', ')}): \`mailctl ${command}\` manages only what \`mailctl up\` runs; ` +
    `use \`docker stack deploy\` with the file of \`mailctl compose --swarm\`, or \`docker stack rm ${config.project}\` first`);
}

/** A service's container, which must be running for the command to work. */
export async function runningService(docker: Engine, config: Config, service: string): Promise<ContainerHandle> {
  const found = await locateService(docker, config, service);
  if (found?.state !== 'running') {
    const how = found?.swarmService ? `Swarm starts it again: see \`docker service ps ${found.swarmService}\`` : 'start the stack with `mailctl up`';
    throw new OperationalError(`${found?.name ?? containerName(config.project, service)} is not running: ${how}`);
  }
  return docker.container(found.ref);
}

/** How long a Swarm task of a service may take to be replaced by a running one. */
const SWARM_REPLACE_MS = 120_000;

/**
 * Restart a service (it reads something only at start) and wait until it
 * answers again. A Swarm task is replaced through its service: restarting its
 * container would have Swarm start a second task beside it.
 */
export async function restartService(docker: Engine, config: Pick<Config, 'project'>, service: string, why: string, progress: Progress): Promise<void> {
  const found = await locateService(docker, config, service);
  if (!found) throw new OperationalError(`${containerName(config.project, service)} does not exist: start the stack with \`mailctl up\``);
  progress.step(`restarting ${service}: ${why}`);
  if (!found.swarmService) {
    await docker.container(found.ref).restart(10);
    return waitHealthy(docker, [found.ref], progress);
  }
  await docker.forceUpdateService(found.swarmService);
  const until = Date.now() + SWARM_REPLACE_MS;
  for (;;) {
    const now = await locateService(docker, config, service);
    if (now && now.ref !== found.ref && now.state === 'running') return waitHealthy(docker, [now.name], progress);
    if (Date.now() > until) throw new OperationalError(`Swarm did not start a new task of ${found.name} within ${SWARM_REPLACE_MS / 1000} s: see \`docker service ps ${found.swarmService}\``);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** SIGHUP to a service that re-reads its certificate in place (dovecot, nginx); one not running has nothing to reload. */
export async function reloadIfRunning(docker: Engine, config: Pick<Config, 'project'>, service: string, progress: Progress): Promise<boolean> {
  const found = await locateService(docker, config, service);
  if (found?.state !== 'running') return false;
  progress.step(`reloading ${found.name} (SIGHUP)`);
  await docker.container(found.ref).signal('SIGHUP');
  return true;
}
