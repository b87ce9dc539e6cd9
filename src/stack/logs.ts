/** Following a container's logs, split to stdout and stderr as the service wrote them. */
import { isNotFound, type Engine } from '../docker/engine.js';
import { OperationalError } from '../core/errors.js';

export async function followLogs(docker: Engine, name: string, tail: number | undefined, stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream): Promise<void> {
  try {
    await docker.container(name).followLogs(tail, stdout, stderr);
  } catch (err) {
    if (isNotFound(err)) throw new OperationalError(`no container ${name}: is the stack up (\`mailctl status\`)?`);
    throw err;
  }
}
