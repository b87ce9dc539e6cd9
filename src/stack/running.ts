import type { Config } from '../config.js';
import { healthOf } from '../docker/containers.js';
import type { Container, Engine } from '../docker/engine.js';
import { OperationalError } from '../errors.js';
import { containerName } from '../layout.js';

/** A service's container, which must be running for the command to work. */
export async function runningService(docker: Engine, config: Config, service: string): Promise<Container> {
  const name = containerName(config.project, service);
  const health = await healthOf(docker, name);
  if (health?.state !== 'running') {
    throw new OperationalError(`${name} is not running: start the stack with \`mailctl up\``);
  }
  return docker.getContainer(name);
}
