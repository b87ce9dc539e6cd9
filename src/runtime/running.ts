import { STOP_ORDER, type ServiceName } from '../model/service-table.js';
import type { Progress } from '../core/progress.js';
import { waitHealthy } from './health.js';
import type { Config } from '../config/config.js';
import { healthOf } from '../docker/containers.js';
import type { ContainerHandle, Engine } from '../docker/engine.js';
import { OperationalError } from '../core/errors.js';
import { containerName } from '../model/layout.js';

/** Stop order: chasquid first, so it stops taking mail before dovecot, which delivers it, goes away. */
export { STOP_ORDER };
export const byStopOrder = (a: { service: string }, b: { service: string }) => rank(a.service) - rank(b.service);
const rank = (service: string) => (STOP_ORDER.includes(service as ServiceName) ? STOP_ORDER.indexOf(service as ServiceName) : STOP_ORDER.length);

/** A service's container, which must be running for the command to work. */
export async function runningService(docker: Engine, config: Config, service: string): Promise<ContainerHandle> {
  const name = containerName(config.project, service);
  const health = await healthOf(docker, name);
  if (health?.state !== 'running') {
    throw new OperationalError(`${name} is not running: start the stack with \`mailctl up\``);
  }
  return docker.container(name);
}

/** Restart a service (it reads something only at start) and wait until it answers again. */
export async function restartService(docker: Engine, config: Config, service: string, why: string, progress: Progress): Promise<void> {
  const name = containerName(config.project, service);
  progress.step(`restarting ${service}: ${why}`);
  await docker.container(name).restart(10);
  await waitHealthy(docker, [name], progress);
}

/** SIGHUP to a service that re-reads its certificate in place (dovecot, nginx); one not running has nothing to reload. */
export async function reloadIfRunning(docker: Engine, config: Config, service: string, progress: Progress): Promise<boolean> {
  const name = containerName(config.project, service);
  if ((await healthOf(docker, name))?.state !== 'running') return false;
  progress.step(`reloading ${name} (SIGHUP)`);
  await docker.container(name).signal('SIGHUP');
  return true;
}
