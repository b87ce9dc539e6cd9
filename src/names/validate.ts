/**
 * Validation of names a user types: domains, mail addresses, project names.
 * Pure functions; each returns the normalised value or throws a UsageError
 * whose message says what is wrong and what is expected.
 */
import { domainToASCII } from 'node:url';
import { isIP } from 'node:net';
import { UsageError } from '../core/errors.js';

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;
// eslint-disable-next-line no-control-regex
const UNSAFE = /[\s\u0000-\u001f\u007f/\\]|\.\./;

/** A domain name, lower-cased, internationalised names turned into punycode. */
export function normalizeDomain(input: string, what = 'domain'): string {
  const raw = input.replace(/\.$/, '');
  if (raw === '' || UNSAFE.test(raw)) {
    throw new UsageError(`${what} "${input}" is not a valid domain name (e.g. example.com)`);
  }
  const ascii = domainToASCII(raw.toLowerCase());
  const labels = ascii.split('.');
  if (ascii === '' || ascii.length > 253 || labels.length < 2 || !labels.every((l) => LABEL.test(l))) {
    throw new UsageError(`${what} "${input}" is not a valid domain name (e.g. example.com)`);
  }
  if (/^[0-9]+$/.test(labels[labels.length - 1])) {
    throw new UsageError(`${what} "${input}" is an IP address, not a domain name`);
  }
  return ascii;
}

/** Project names prefix containers, volumes and networks. */
export function isValidProjectName(name: string): boolean {
  return /^[a-z0-9][a-z0-9_-]{0,39}$/.test(name);
}

export function isIPv4(value: string): boolean {
  return isIP(value) === 4;
}

export function isIPv6(value: string): boolean {
  return isIP(value) === 6;
}
