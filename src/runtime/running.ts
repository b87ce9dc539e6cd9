import type { Config } from '../config/config.js';
import { healthOf } from '../docker/containers.js';
import type { ContainerHandle, Engine } from '../docker/engine.js';
import { OperationalError } from '../core/errors.js';
import { containerName } from '../model/layout.js';

/** Stop order: chasquid first, so it stops taking mail before dovecot, which delivers it, goes away. */
export const STOP_ORDER = ['chasquid', 'dovecot', 'certbot'];
export const byStopOrder = (a: { service: string }, b: { service: string }) => rank(a.service) - rank(b.service);
const rank = (service: string) => (STOP_ORDER.includes(service) ? STOP_ORDER.indexOf(service) : STOP_ORDER.length);

/** A service's container, which must be running for the command to work. */
export async function runningService(docker: Engine, config: Config, service: string): Promise<ContainerHandle> {
  const name = containerName(config.project, service);
  const health = await healthOf(docker, name);
  if (health?.state !== 'running') {
    throw new OperationalError(`${name} is not running: start the stack with \`mailctl up\``);
  }
  return docker.container(name);
}
