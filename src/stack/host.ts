/**
 * Checks of the host that chasquid and dovecot share a network with. They
 * listen on MAIL_BIND themselves: an address this host does not have would
 * make them crash-loop, so `up` refuses it first.
 */
import { networkInterfaces } from 'node:os';
import type { Config } from '../config.js';
import { UsageError } from '../errors.js';
import { isWildcard } from '../spec/listen.js';

type Interfaces = ReturnType<typeof networkInterfaces>;

/** MAIL_BIND addresses none of `interfaces` has. Pure. */
export function foreignBindAddresses(binds: readonly string[], interfaces: Interfaces): string[] {
  const local = new Set(Object.values(interfaces).flatMap((addrs) => (addrs ?? []).map((a) => a.address.toLowerCase())));
  return binds.filter((b) => !isWildcard(b) && !local.has(b.split('%')[0].toLowerCase()));
}

/** Refuse MAIL_BIND addresses this host lacks; only when the engine runs here (not DOCKER_HOST=tcp:// or ssh://). */
export function checkBindAddresses(config: Config, dockerHost: string | undefined, interfaces: Interfaces = networkInterfaces()): void {
  if (dockerHost && !dockerHost.startsWith('unix:')) return;
  const foreign = foreignBindAddresses(config.binds, interfaces);
  if (foreign.length) {
    throw new UsageError(`MAIL_BIND ${foreign.join(', ')} ${foreign.length > 1 ? 'are not addresses' : 'is not an address'} of this host: chasquid and dovecot could not listen there; use an address of one of its interfaces, or 0.0.0.0,:: for all`);
  }
}
