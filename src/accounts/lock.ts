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
import { deferSignals } from '../core/signals.js';

export async function withAccountsLock<T>(docker: Engine, config: Config, work: () => Promise<T>): Promise<T> {
  const dovecot = await runningService(docker, config, 'dovecot');
  let lock: { release(): Promise<void> };
  try {
    lock = await dovecot.hold(['/usr/local/bin/mailctl-users', 'lock'], 'locked');
  } catch (err) {
    throw new OperationalError(`could not take the accounts lock: ${errorMessage(err)}`);
  }
  // A change is several steps in two containers: an interrupt now would leave half of it.
  try {
    return await deferSignals('the account change', work);
  } finally {
    await lock.release();
  }
}
