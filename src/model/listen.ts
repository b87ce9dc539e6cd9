/**
 * Where the services listen, from MAIL_BIND. Pure.
 *
 * chasquid and dovecot run in the host's network namespace (see README,
 * "Client addresses"): they listen on the host's addresses themselves, so
 * every client, IPv4 or IPv6, is seen with its own address. A wildcard
 * (0.0.0.0 or ::) means every address of both families: Go's listener for a
 * wildcard is one dual-stack socket, so chasquid cannot take IPv4 alone.
 */

export const isWildcard = (address: string) => address === '0.0.0.0' || address === '::';

/** address:port, with an IPv6 address in brackets. */
export const hostPort = (address: string, port: number) => `${address.includes(':') ? `[${address}]` : address}:${port}`;

/** chasquid's `*_address` values for one port. */
export function chasquidAddresses(binds: readonly string[], port: number): string[] {
  return binds.some(isWildcard) ? [`:${port}`] : binds.map((a) => hostPort(a, port));
}

/** dovecot's `listen`. */
export function dovecotListen(binds: readonly string[]): string {
  return binds.some(isWildcard) ? '*, ::' : binds.join(', ');
}

/** Host addresses a port of a container on the stack's network is published on. */
export function publishedAddresses(binds: readonly string[]): string[] {
  return binds.some(isWildcard) ? ['0.0.0.0', '::'] : [...binds];
}

/** Where this host reaches a service listening on `binds`: IPv4 first. */
export function probeAddress(binds: readonly string[]): string {
  if (binds.some(isWildcard)) return '127.0.0.1';
  return binds.find((a) => !a.includes(':')) ?? binds[0];
}

/** Every address to probe, to check each family answers. */
export function probeAddresses(binds: readonly string[]): string[] {
  return binds.some(isWildcard) ? ['127.0.0.1', '::1'] : [...binds];
}

