/**
 * The one configuration object. Loaded once per command from `.env` (or
 * --env-file) with real environment variables on top, checked all at once,
 * frozen, and passed down. Nothing else in mailctl reads process.env.
 */
import { resolve } from 'node:path';
import { ABUSE_KEYS, abuseConfig, type AbuseConfig } from './abuse.js';
import { MAILBOX_KEYS, mailboxConfig, type MailboxConfig } from './mailbox.js';
import { parseMtaStsMode, type MtaStsMode } from './mta-sts.js';
import { UsageError } from '../core/errors.js';
import { MAX_PROBLEMS, subnetProblem, unknownKeyProblems } from './check.js';
import type { ServiceName } from '../model/service-table.js';
import { parseLimits, type Limits } from '../model/limits.js';
import { IMAGES_DIR } from '../core/paths.js';
import { mailDomain, parseTarget } from '../names/address.js';
import { isIPv4, isIPv6, isValidProjectName, normalizeDomain } from '../names/validate.js';

export const CERT_MODES = ['selfsigned', 'acme', 'manual'] as const;
export type CertMode = (typeof CERT_MODES)[number];

export const PORT_KEYS = {
  smtp: 'MAIL_PORT_SMTP',
  submission: 'MAIL_PORT_SUBMISSION',
  submissions: 'MAIL_PORT_SUBMISSIONS',
  imap: 'MAIL_PORT_IMAP',
  imaps: 'MAIL_PORT_IMAPS',
  pop3: 'MAIL_PORT_POP3',
  pop3s: 'MAIL_PORT_POP3S',
  http: 'MAIL_PORT_HTTP',
  managesieve: 'MAIL_PORT_MANAGESIEVE',
  https: 'MAIL_PORT_HTTPS',
} as const;
export type PortName = keyof typeof PORT_KEYS;

export const DEFAULT_PORTS: Record<PortName, number> = {
  smtp: 25, submission: 587, submissions: 465, imap: 143, imaps: 993, pop3: 110, pop3s: 995, http: 80, managesieve: 4190, https: 443,
};

/** Blocklists `mailctl doctor` asks about MAIL_IPV4: widely used by receivers, free to query. */
export const DEFAULT_DNSBL_ZONES = ['zen.spamhaus.org', 'bl.spamcop.net', 'psbl.surriel.com'];

export const LETSENCRYPT = 'https://acme-v02.api.letsencrypt.org/directory';
export const DEFAULT_BASE_IMAGE = 'debian:trixie-slim';
export const DEFAULT_DEBIAN_MIRROR = 'http://deb.debian.org/debian';

/** Every key mailctl reads, from `.env` or the environment. */
export const CONFIG_KEYS = [
  'MAIL_DOMAIN', 'MAIL_HOSTNAME', 'MAIL_IPV4', 'MAIL_IPV6', 'MAILCTL_PROJECT', 'MAIL_BIND',
  ...Object.values(PORT_KEYS),
  'CERT_MODE', 'ACME_EMAIL', 'ACME_SERVER', 'ACME_CA_BUNDLE', 'ACME_EXTRA_NAMES', 'MAIL_DNS', 'MAIL_SUBNET',
  'MAILCTL_BASE_IMAGE', 'MAILCTL_DEBIAN_MIRROR', 'MAILCTL_IMAGES_DIR', 'MAILCTL_DOCKER_SOCKET', 'DKIM_SELECTOR', 'SPAMASSASSIN', 'CLAMAV', 'DNSBL_ZONES', 'MAIL_POSTMASTER', 'MAILCTL_DEBUG',
  ...ABUSE_KEYS, 'MAIL_MEMORY', 'MAIL_PIDS', ...MAILBOX_KEYS, 'MTA_STS_MODE',
] as const;
export type Key = (typeof CONFIG_KEYS)[number];

export interface Config {
  /** True when no `.env` exists: the local sandbox on 127.0.0.1. */
  readonly sandbox: boolean;
  /** Where `.env` was (or would be) read from; `certs/` lives next to it. */
  readonly envFile: string;
  readonly siteDir: string;
  readonly project: string;
  readonly domain: string;
  readonly hostname: string;
  readonly ipv4?: string;
  readonly ipv6?: string;
  /**
   * Addresses the services listen on (MAIL_BIND, comma-separated). A wildcard
   * (0.0.0.0 or ::) means every address of the host, IPv4 and IPv6.
   */
  readonly binds: readonly string[];
  readonly ports: Readonly<Record<PortName, number>>;
  readonly certMode: CertMode;
  readonly acme: { readonly email?: string; readonly server: string; readonly caBundle?: string; readonly extraNames: readonly string[] };
  /** Resolvers the containers use; empty means the engine's default. */
  readonly dns: readonly string[];
  /** Subnet of the stack's network, when pinned (tests pin it to give their DNS server a fixed address). */
  readonly subnet?: string;
  readonly baseImage: string;
  readonly debianMirror: string;
  /** Where the image build contexts are (default: the package's images/). */
  readonly imagesDir: string;
  /** The Docker socket on the engine's host, bind-mounted into the API proxy (acme mode). */
  readonly dockerSocket: string;
  /** DKIM selector of new keys: <selector>._domainkey.<domain>. */
  readonly dkimSelector: string;
  /** Optional filters, as the how-to's "Optional software". */
  readonly filters: { readonly spamassassin: boolean; readonly clamav: boolean };
  /** DNS blocklists `doctor` checks MAIL_IPV4 against; empty when DNSBL_ZONES=off. */
  readonly dnsblZones: readonly string[];
  /** Where postmaster@ and abuse@ of every domain deliver (MAIL_POSTMASTER); unset: the first account added. */
  readonly postmaster?: string;
  /** The daily sending limit and the failed-login bans (abuse/config.ts). */
  readonly abuse: AbuseConfig;
  /** Quotas and the spam thresholds (config/mailbox.ts). */
  readonly mailbox: MailboxConfig;
  /** Memory and process limits per container (MAIL_MEMORY, MAIL_PIDS over spec/limits.ts). */
  readonly limits: Readonly<Record<ServiceName, Limits>>;
  /** The MTA-STS policy's mode (MTA_STS_MODE): testing, enforce or none. */
  readonly mtaStsMode: MtaStsMode;
  readonly debug: boolean;
}

export const SANDBOX_DEFAULTS: Partial<Record<Key, string>> = {
  MAIL_DOMAIN: 'example.test',
  CERT_MODE: 'selfsigned',
};

/** The sandbox listens on this host only. */
export const SANDBOX_BIND = '127.0.0.1,::1';

/** Every address of the host, on both families. */
export const DEFAULT_BIND = '0.0.0.0,::';

const ON_OFF = /^(on|off|true|false|yes|no|1|0)$/i;
const onOff = (value?: string) => /^(on|true|yes|1)$/i.test(value ?? '');

/** One spelling per address (::0 and 0:0:0:0:0:0:0:0 are ::), so a wildcard is always seen as one. */
function canonicalAddress(address: string): string {
  if (!isIPv6(address) || address.includes('%')) return address;
  try {
    return new URL(`http://[${address}]/`).hostname.slice(1, -1);
  } catch {
    return address;
  }
}

/**
 * Pure: raw key/value pairs to a checked Config. `ipv6: false` (a host with
 * IPv6 switched off) drops the IPv6 half of the default MAIL_BIND and refuses
 * an IPv6 address given there: dovecot would not start.
 */
export function buildConfig(
  raw: Partial<Record<Key, string>>,
  where: { sandbox: boolean; envFile: string; siteDir: string; ipv6?: boolean; fileKeys?: readonly string[]; lineProblems?: readonly string[] },
): Config {
  const problems: string[] = [...(where.lineProblems ?? []), ...unknownKeyProblems(where.fileKeys ?? [], CONFIG_KEYS)];
  const attempt = <T>(fn: () => T): T | undefined => {
    try {
      return fn();
    } catch (err) {
      problems.push((err as Error).message);
      return undefined;
    }
  };

  let domain = '';
  if (!raw.MAIL_DOMAIN) problems.push('MAIL_DOMAIN is not set: put MAIL_DOMAIN=example.com in .env (or run `mailctl init`)');
  else domain = attempt(() => mailDomain(raw.MAIL_DOMAIN!, 'MAIL_DOMAIN')) ?? '';

  const hostname = raw.MAIL_HOSTNAME
    ? attempt(() => normalizeDomain(raw.MAIL_HOSTNAME!, 'MAIL_HOSTNAME')) ?? ''
    : domain && `mail.${domain}`;

  const project = raw.MAILCTL_PROJECT ?? 'mailctl';
  if (!isValidProjectName(project)) {
    problems.push(`MAILCTL_PROJECT "${project}" is not valid: use lower-case letters, digits, "-" and "_" (up to 40), starting with a letter or digit`);
  }

  if (raw.MAIL_IPV4 && !isIPv4(raw.MAIL_IPV4)) problems.push(`MAIL_IPV4 "${raw.MAIL_IPV4}" is not an IPv4 address (e.g. 198.51.100.7)`);
  if (raw.MAIL_IPV6 && !isIPv6(raw.MAIL_IPV6)) problems.push(`MAIL_IPV6 "${raw.MAIL_IPV6}" is not an IPv6 address (e.g. 2001:db8::7)`);

  const hostIPv6 = where.ipv6 ?? true;
  const defaultBinds = (where.sandbox ? SANDBOX_BIND : DEFAULT_BIND).split(',').filter((a) => hostIPv6 || !a.includes(':'));
  const binds = [...new Set((raw.MAIL_BIND ? raw.MAIL_BIND.split(/[\s,]+/).filter(Boolean) : defaultBinds).map(canonicalAddress))];
  for (const bind of binds) {
    if (!isIPv4(bind) && !isIPv6(bind)) problems.push(`MAIL_BIND "${bind}" is not an IP address: list addresses, e.g. ${DEFAULT_BIND} for every address (IPv4 and IPv6) or 127.0.0.1,::1 for this host only`);
    else if (bind.includes('%')) problems.push(`MAIL_BIND "${bind}" has a zone index: a link-local address cannot serve clients beyond its link; use a global or unique-local address`);
    else if (/^::ffff:/i.test(bind)) problems.push(`MAIL_BIND "${bind}" is an IPv4-mapped IPv6 address, which the daemons cannot bind: write the IPv4 address`);
    else if (isIPv6(bind) && !hostIPv6) problems.push(`MAIL_BIND "${bind}" is IPv6, but this host has IPv6 switched off: remove it (or enable IPv6)`);
  }
  if (binds.length === 0) problems.push(`MAIL_BIND is empty: use ${DEFAULT_BIND} for every address`);

  const ports = { ...DEFAULT_PORTS };
  for (const [name, key] of Object.entries(PORT_KEYS) as [PortName, Key][]) {
    const value = raw[key];
    if (value === undefined) continue;
    const port = Number(value);
    if (!/^[0-9]+$/.test(value) || port < 1 || port > 65535) problems.push(`${key} "${value}" is not a port number (1-65535)`);
    else ports[name] = port;
  }
  const seen = new Map<number, string>();
  for (const [name, port] of Object.entries(ports)) {
    const other = seen.get(port);
    if (other) problems.push(`${PORT_KEYS[name as PortName]} and ${PORT_KEYS[other as PortName]} are both ${port}: give each service its own port`);
    seen.set(port, name);
  }

  const certMode = (raw.CERT_MODE ?? 'acme') as CertMode;
  if (!CERT_MODES.includes(certMode)) problems.push(`CERT_MODE "${raw.CERT_MODE}" is not one of ${CERT_MODES.join(', ')}`);

  if (raw.ACME_EMAIL && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(raw.ACME_EMAIL)) {
    problems.push(`ACME_EMAIL "${raw.ACME_EMAIL}" is not a mail address`);
  }
  const server = raw.ACME_SERVER ?? LETSENCRYPT;
  if (!/^https:\/\/\S+$/.test(server)) problems.push(`ACME_SERVER "${server}" is not an https URL (e.g. ${LETSENCRYPT}): the account key and the certificate travel over it`);
  if (raw.MAILCTL_BASE_IMAGE && !/^[a-z0-9][a-z0-9._\/:@-]{0,254}$/i.test(raw.MAILCTL_BASE_IMAGE)) {
    problems.push(`MAILCTL_BASE_IMAGE "${raw.MAILCTL_BASE_IMAGE}" is not an image reference (e.g. debian:trixie-slim)`);
  }
  const extraNames = (raw.ACME_EXTRA_NAMES ?? '').split(/[\s,]+/).filter(Boolean)
    .map((name) => attempt(() => normalizeDomain(name, 'ACME_EXTRA_NAMES')) ?? '');

  const dns = (raw.MAIL_DNS ?? '').split(/[\s,]+/).filter(Boolean);
  for (const ip of dns) if (!isIPv4(ip) && !isIPv6(ip)) problems.push(`MAIL_DNS "${ip}" is not an IP address: list resolver addresses, e.g. MAIL_DNS=192.0.2.53,192.0.2.54`);

  for (const key of ['SPAMASSASSIN', 'CLAMAV'] as const) {
    if (raw[key] !== undefined && !ON_OFF.test(raw[key]!)) problems.push(`${key} "${raw[key]}" is not on or off`);
  }
  if (raw.DKIM_SELECTOR && !/^[a-z0-9][a-z0-9-]{0,62}$/i.test(raw.DKIM_SELECTOR)) {
    problems.push(`DKIM_SELECTOR "${raw.DKIM_SELECTOR}" is not a DNS label: use letters, digits and "-" (e.g. mail or 2026)`);
  }
  const dnsblZones = /^(off|none|no)$/i.test(raw.DNSBL_ZONES ?? '') ? []
    : raw.DNSBL_ZONES ? raw.DNSBL_ZONES.split(/[\s,]+/).filter(Boolean).map((zone) => attempt(() => normalizeDomain(zone, 'DNSBL_ZONES')) ?? '')
    : DEFAULT_DNSBL_ZONES;

  const subnet = raw.MAIL_SUBNET ? subnetProblem(raw.MAIL_SUBNET) : undefined;
  if (subnet) problems.push(subnet);

  const postmaster = raw.MAIL_POSTMASTER ? attempt(() => parseTarget(raw.MAIL_POSTMASTER!).address) : undefined;
  if (postmaster && /^(postmaster|abuse)@/.test(postmaster)) problems.push(`MAIL_POSTMASTER "${raw.MAIL_POSTMASTER}" must be a person's address, not postmaster@ or abuse@ itself`);

  const abuse = abuseConfig(raw, problems);
  const limits = parseLimits(raw, problems);
  const mailbox = mailboxConfig(raw, problems);
  const mtaStsMode = parseMtaStsMode(raw.MTA_STS_MODE, problems);

  if (problems.length > 0) {
    const source = where.sandbox ? 'the environment' : where.envFile;
    const shown = problems.slice(0, MAX_PROBLEMS);
    if (problems.length > shown.length) shown.push(`... and ${problems.length - shown.length} more`);
    throw new UsageError(`configuration in ${source} has ${problems.length} problem(s):\n  - ${shown.join('\n  - ')}`);
  }

  return Object.freeze({
    sandbox: where.sandbox,
    envFile: where.envFile,
    siteDir: where.siteDir,
    project,
    domain,
    hostname,
    ipv4: raw.MAIL_IPV4,
    ipv6: raw.MAIL_IPV6,
    binds: Object.freeze(binds),
    ports: Object.freeze(ports),
    certMode,
    acme: Object.freeze({ email: raw.ACME_EMAIL, server, caBundle: raw.ACME_CA_BUNDLE, extraNames }),
    dns: Object.freeze(dns),
    subnet: raw.MAIL_SUBNET,
    baseImage: raw.MAILCTL_BASE_IMAGE ?? DEFAULT_BASE_IMAGE,
    debianMirror: raw.MAILCTL_DEBIAN_MIRROR ?? DEFAULT_DEBIAN_MIRROR,
    imagesDir: resolve(where.siteDir, raw.MAILCTL_IMAGES_DIR ?? IMAGES_DIR),
    dockerSocket: raw.MAILCTL_DOCKER_SOCKET ?? '/var/run/docker.sock',
    dkimSelector: raw.DKIM_SELECTOR ?? 'mail',
    filters: Object.freeze({ spamassassin: onOff(raw.SPAMASSASSIN), clamav: onOff(raw.CLAMAV) }),
    dnsblZones: Object.freeze(dnsblZones),
    postmaster,
    abuse,
    mailbox,
    limits,
    mtaStsMode,
    debug: raw.MAILCTL_DEBUG === '1',
  });
}
