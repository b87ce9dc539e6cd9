/**
 * One lock for every account change (users, domains, aliases), held by a
 * command in the dovecot container: changes that span two files and two
 * containers (a user and its new domain; an alias checked against the others)
 * run one at a time, from any number of mailctl processes. If mailctl dies,
 * the engine closes the command's stdin and the lock is released.
 */
import type { Config } from '../config/config.js';
import type { Engine } from '../docker/engine.js';
import { OperationalError, errorMessage } from '../core/errors.js';
import { runningService } from '../runtime/running.js';

export async function withAccountsLock<T>(docker: Engine, config: Config, work: () => Promise<T>): Promise<T> {
  const dovecot = await runningService(docker, config, 'dovecot');
  let lock: { release(): Promise<void> };
  try {
    lock = await dovecot.hold(['/usr/local/bin/mailctl-users', 'lock'], 'locked');
  } catch (err) {
    throw new OperationalError(`could not take the accounts lock: ${errorMessage(err)}`);
  }
  // A change is several steps in two containers: an interrupt now would leave half of
  // it. Ctrl-C and SIGTERM wait for the end of the change (a second one still kills).
  const defer = (signal: NodeJS.Signals) => () => {
    process.stderr.write(`mailctl: ${signal}: finishing the account change first (again to abort at once)\n`);
  };
  const handlers = (['SIGINT', 'SIGTERM'] as const).map((signal) => [signal, defer(signal)] as const);
  for (const [signal, handler] of handlers) process.once(signal, handler);
  try {
    return await work();
  } finally {
    for (const [signal, handler] of handlers) process.removeListener(signal, handler);
    await lock.release();
  }
}
