/**
 * Checks of the host that chasquid and dovecot share a network with. They
 * listen on MAIL_BIND themselves: an address this host does not have would
 * make them crash-loop, so `up` refuses it first.
 */
import { networkInterfaces } from 'node:os';
import type { Config } from '../config/config.js';
import { UsageError } from '../core/errors.js';
import { isWildcard } from '../model/listen.js';

type Interfaces = ReturnType<typeof networkInterfaces>;

const ipv4 = (a: string) => a.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);

/** Is IPv4 `address` in `cidr` (e.g. 172.29.54.0/24)? */
function inSubnet(address: string, cidr: string | undefined): boolean {
  if (!cidr || address.includes(':')) return false;
  const [net, bits] = cidr.split('/');
  const size = 2 ** (32 - Number(bits));
  return Math.floor(ipv4(address) / size) === Math.floor(ipv4(net) / size);
}

/**
 * MAIL_BIND addresses none of `interfaces` has. Pure. The stack's own network
 * (MAIL_SUBNET) counts: `up` makes it, and the host's address on it, first.
 */
export function foreignBindAddresses(binds: readonly string[], interfaces: Interfaces, subnet?: string): string[] {
  const local = new Set(Object.values(interfaces).flatMap((addrs) => (addrs ?? []).map((a) => a.address.toLowerCase())));
  return binds.filter((b) => !isWildcard(b) && !local.has(b.split('%')[0].toLowerCase()) && !inSubnet(b, subnet));
}

/** Refuse MAIL_BIND addresses this host lacks; only when the engine runs here (not DOCKER_HOST=tcp:// or ssh://). */
export function checkBindAddresses(config: Config, dockerHost: string | undefined, interfaces: Interfaces = networkInterfaces(), options: { swarm?: boolean } = {}): void {
  if (dockerHost && !dockerHost.startsWith('unix:')) return;
  // A Swarm stack has no bridge network of its own: MAIL_SUBNET gives the host no address there.
  const foreign = foreignBindAddresses(config.binds, interfaces, options.swarm ? undefined : config.subnet);
  if (foreign.length) {
    throw new UsageError(`MAIL_BIND ${foreign.join(', ')} ${foreign.length > 1 ? 'are not addresses' : 'is not an address'} of this host: chasquid and dovecot could not listen there; use an address of one of its interfaces, or 0.0.0.0,:: for all`);
  }
}
