/** Config -> the services of the stack. Pure. */
import { basename, dirname } from 'node:path';
import type { Config, PortName } from '../config/config.js';
import { PORT_KEYS } from '../config/config.js';
import {
  HEALTH_PROBE, SIDECAR_STATE_DIR, CHASQUID_CERTS_DIR, CHASQUID_CONF, CHASQUID_DOMAINS_DIR, CHASQUID_GID, CHASQUID_STATE_DIR, CHASQUID_UID,
  CLAMD_SOCKET, containerName, DOVECOT_CERTS_DIR, FILTER_SOCKETS_DIR, SPAMD_SOCKET, DOVECOT_CONF, LETSENCRYPT_DIR, MAIL_ROOT, PROXY_SOCKET, PROXY_SOCKET_DIR, SIDECAR_ACME_CA, SIDECAR_CERTS_DIR,
  SIDECAR_WEBROOT, SOCKETS_DIR, SUBMISSION_CONF, SUBMISSION_STATE_DIR, USERS_DIR, volumeName, type VolumeName,
} from '../model/layout.js';
import { renderChasquidConf, renderSubmissionConf } from '../render/chasquid.js';
import { renderDovecotConf } from '../render/dovecot.js';
import { MSMTPRC, renderMsmtprc } from '../render/sieve-sender.js';
import { HOOK_PATH, renderPostDataHook, type Filters } from '../render/hook.js';
import { probeAddress } from '../model/listen.js';
import { PRIVILEGES } from '../model/limits.js';
import type { HealthSpec, PortSpec, ServiceSpec } from '../model/types.js';
import { SERVICE_NAMES, SERVICE_TABLE, type ServiceName } from '../model/service-table.js';
import { webSpec } from './web.js';
import { certificateNames } from '../certs/names.js';

export type StackService = ServiceName;

export interface SpecInputs {
  /** Image references by service (from the build). */
  images: Partial<Record<StackService, string>>;
  /** Content of ACME_CA_BUNDLE, when set (acme mode). */
  acmeCaBundle?: string;
  /** The engine host's Docker socket, for the proxy (acme mode). */
  dockerSocket?: string;
  /** The domains chasquid serves (the main one when unknown): the web service's sites and the certificate's names. */
  domains?: readonly string[];
}

export function healthOf(service: StackService): HealthSpec {
  const entry = SERVICE_TABLE[service];
  return { test: HEALTH_PROBE, intervalSeconds: entry.healthIntervalSeconds, timeoutSeconds: 5, startPeriodSeconds: entry.startPeriodSeconds, retries: 3 };
}

/** Whether the configuration turns a service on. */
export function isEnabled(config: Config, service: StackService): boolean {
  switch (SERVICE_TABLE[service].when) {
    case 'always': return true;
    case 'acme': return config.certMode === 'acme';
    case 'spamassassin': return config.filters.spamassassin;
    case 'clamav': return config.filters.clamav;
    case 'bans': return config.abuse.bans.enabled;
  }
}

/** Which service answers which port (by the protocol's usual number). */
const PORTS: Partial<Record<StackService, [PortName, number][]>> = {
  chasquid: [['smtp', 25], ['submission', 587], ['submissions', 465]],
  dovecot: [['imap', 143], ['imaps', 993], ['pop3', 110], ['pop3s', 995], ['managesieve', 4190]],
};

export function servicePorts(config: Config, service: StackService): PortSpec[] {
  return (PORTS[service] ?? []).map(([name, container]) => ({ container, host: config.ports[name], binds: config.binds, key: PORT_KEYS[name] }));
}

/** Up to 30 MB of logs per container. */
export const LOG_ROTATION = { maxSize: '10m', maxFiles: 3 } as const;

const volume = (config: Config, name: VolumeName) => volumeName(config.project, name);

function base(config: Config, service: StackService, image: string | undefined): Omit<ServiceSpec, 'mounts'> {
  if (!image) throw new Error(`no image for ${service}`);
  return {
    service, name: containerName(config.project, service), image, dns: [...config.dns], networkAliases: [], env: {}, files: [], ports: [],
    health: healthOf(service),
    logs: LOG_ROTATION,
    privileges: PRIVILEGES[service],
    limits: config.limits[service],
  };
}

/** What the healthcheck in a host-network container probes: its own first address and port. */
function probeEnv(config: Config, ports: number[]): Record<string, string> {
  return { MAILCTL_PROBE_ADDRESS: probeAddress(config.binds), MAILCTL_PROBE_PORTS: ports.join(' ') };
}

export function dovecotSpec(config: Config, inputs: SpecInputs): ServiceSpec {
  return {
    ...base(config, 'dovecot', inputs.images.dovecot),
    hostNetwork: true,
    // dovecot makes no DNS lookups.
    dns: [],
    env: probeEnv(config, [config.ports.imap]),
    mounts: [
      { volume: volume(config, 'mail'), target: MAIL_ROOT },
      { volume: volume(config, 'users'), target: USERS_DIR },
      { volume: volume(config, 'certs'), target: DOVECOT_CERTS_DIR, readOnly: true },
      { volume: volume(config, 'dovecot-sockets'), target: SOCKETS_DIR },
    ],
    ports: servicePorts(config, 'dovecot'),
    files: [
      { path: DOVECOT_CONF, content: renderDovecotConf(config), mode: 0o644 },
      { path: MSMTPRC, content: renderMsmtprc(config), mode: 0o644 },
    ],
  };
}

export function chasquidSpec(config: Config, inputs: SpecInputs): ServiceSpec {
  const hook = renderPostDataHook(filtersOf(config));
  const filters = config.filters.spamassassin || config.filters.clamav;
  return {
    ...base(config, 'chasquid', inputs.images.chasquid),
    hostNetwork: true,
    // Both instances: port 25's and the submission one's (images/chasquid/mailctl-chasquid-start).
    env: probeEnv(config, [config.ports.smtp, config.ports.submission]),
    mounts: [
      { volume: volume(config, 'chasquid-state'), target: CHASQUID_STATE_DIR },
      { volume: volume(config, 'certs'), target: CHASQUID_CERTS_DIR, readOnly: true },
      { volume: volume(config, 'dovecot-sockets'), target: SOCKETS_DIR },
      ...(filters ? [{ volume: volume(config, 'filter-sockets'), target: FILTER_SOCKETS_DIR }] : []),
    ],
    ports: servicePorts(config, 'chasquid'),
    files: [
      { path: CHASQUID_CONF, content: renderChasquidConf(config), mode: 0o644 },
      { path: SUBMISSION_CONF, content: renderSubmissionConf(config), mode: 0o644 },
      { path: SUBMISSION_STATE_DIR, mode: 0o750, uid: CHASQUID_UID, gid: CHASQUID_GID },
      // The main domain; more are added by add-user / add-domain on the volume.
      { path: `${CHASQUID_DOMAINS_DIR}/${config.domain}`, mode: 0o750, uid: CHASQUID_UID, gid: CHASQUID_GID },
      ...(hook ? [{ path: HOOK_PATH, content: hook, mode: 0o755 }] : []),
    ],
  };
}

/** Where chasquid's hook finds the scanners: their unix sockets on the shared volume. */
export function filtersOf(config: Config): Filters {
  return {
    spamd: config.filters.spamassassin ? { socket: SPAMD_SOCKET, tag: config.mailbox.spamTagScore, reject: config.mailbox.spamRejectScore } : undefined,
    clamd: config.filters.clamav ? { socket: CLAMD_SOCKET } : undefined,
  };
}

export function spamassassinSpec(config: Config, inputs: SpecInputs): ServiceSpec {
  return { ...base(config, 'spamassassin', inputs.images.spamassassin), mounts: [{ volume: volume(config, 'filter-sockets'), target: FILTER_SOCKETS_DIR }] };
}

export function clamavSpec(config: Config, inputs: SpecInputs): ServiceSpec {
  // The signature database lives on a volume: freshclam's downloads survive a recreate.
  return {
    ...base(config, 'clamav', inputs.images.clamav),
    mounts: [{ volume: volume(config, 'clamav-db'), target: '/var/lib/clamav' }, { volume: volume(config, 'filter-sockets'), target: FILTER_SOCKETS_DIR }],
  };
}

/** The Docker API proxy: the only holder of the engine's socket, scoped to this project. */
export function dockerProxySpec(config: Config, inputs: SpecInputs): ServiceSpec {
  return {
    ...base(config, 'dockerproxy', inputs.images.dockerproxy),
    readOnlyRoot: true,
    init: true,
    env: { MAILCTL_PROJECT: config.project, PROXY_SOCKET },
    mounts: [
      { bind: inputs.dockerSocket ?? '/var/run/docker.sock', target: '/var/run/docker.sock' },
      { volume: volume(config, 'proxy-socket'), target: PROXY_SOCKET_DIR },
    ],
  };
}

/**
 * The certbot sidecar: http-01 through the web service, which serves the
 * challenges certbot writes to the acme-challenge volume (webroot). It asks
 * for every name in certificateNames: a new domain extends the certificate.
 */
export function certbotSpec(config: Config, inputs: SpecInputs): ServiceSpec {
  const env: Record<string, string> = {
    MAIL_HOSTNAME: config.hostname,
    ACME_SERVER: config.acme.server,
    MAILCTL_PROJECT: config.project,
    DOCKER_HOST: `unix://${PROXY_SOCKET}`,
    // The sidecar's scripts take their paths from here, so they cannot disagree with the mounts.
    MAILCTL_CERTS_DIR: SIDECAR_CERTS_DIR,
    MAILCTL_STATE_DIR: SIDECAR_STATE_DIR,
    LETSENCRYPT_DIR,
  };
  if (config.acme.email) env.ACME_EMAIL = config.acme.email;
  env.ACME_EXTRA_NAMES = certificateNames(config, inputs.domains).filter((n) => n !== config.hostname).join(' ');
  if (inputs.acmeCaBundle) env.REQUESTS_CA_BUNDLE = SIDECAR_ACME_CA;
  return {
    ...base(config, 'certbot', inputs.images.certbot),
    env,
    mounts: [
      { volume: volume(config, 'letsencrypt'), target: LETSENCRYPT_DIR },
      { volume: volume(config, 'certs'), target: SIDECAR_CERTS_DIR },
      { volume: volume(config, 'proxy-socket'), target: PROXY_SOCKET_DIR },
      { volume: volume(config, 'acme-challenge'), target: SIDECAR_WEBROOT },
    ],
    files: inputs.acmeCaBundle ? [{ path: SIDECAR_ACME_CA, content: inputs.acmeCaBundle, mode: 0o644 }] : [],
  };
}

const SPEC_OF: Record<Exclude<StackService, 'guard'>, (config: Config, inputs: SpecInputs) => ServiceSpec> = {
  dovecot: dovecotSpec, chasquid: chasquidSpec, dockerproxy: dockerProxySpec, certbot: certbotSpec, spamassassin: spamassassinSpec, clamav: clamavSpec,
  web: (config, inputs) => webSpec(config, base(config, 'web', inputs.images.web), inputs.domains),
};

/** The services the configuration turns on, in start order (the guard is planned after them: see guardSpec). */
export function stackSpecs(config: Config, inputs: SpecInputs): ServiceSpec[] {
  return SERVICE_NAMES.filter((s): s is Exclude<StackService, 'guard'> => s !== 'guard' && isEnabled(config, s))
    .sort((a, b) => SERVICE_TABLE[a].startOrder - SERVICE_TABLE[b].startOrder)
    .map((s) => SPEC_OF[s](config, inputs));
}

/** The images a configuration needs. */
export function neededImages(config: Config): StackService[] {
  return SERVICE_NAMES.filter((s) => isEnabled(config, s));
}

/** Where the guard finds the mail daemons' logs: each container's json-file log on the engine's host. */
export interface MailLogs { chasquid: string; dovecot: string }

const GUARD_LOG_DIR = '/var/log/mailctl';
const GUARD_STATE_DIR = '/var/lib/mailctl-guard';

/**
 * The guard: bans addresses that keep failing to log in, at the host's
 * firewall. It shares the host's network with NET_ADMIN only, and reads the
 * two mail containers' log directories, read-only. It is made after them
 * (their log paths are its input): `up` plans it on its own, second.
 */
export function guardSpec(config: Config, image: string | undefined, logs: MailLogs): ServiceSpec {
  const { bans } = config.abuse;
  // ManageSieve takes the same passwords: a guesser banned from IMAP must not go on there.
  const mailPorts = (['smtp', 'submission', 'submissions', 'imap', 'imaps', 'pop3', 'pop3s', 'managesieve'] as PortName[]).map((p) => config.ports[p]);
  const mounted = (['chasquid', 'dovecot'] as const).map((service) => ({
    service, bind: dirname(logs[service]), target: `${GUARD_LOG_DIR}/${service}`, file: `${GUARD_LOG_DIR}/${service}/${basename(logs[service])}`,
  }));
  return {
    ...base(config, 'guard', image),
    hostNetwork: true,
    readOnlyRoot: true,
    // An init reaps what exits under it (found by a break-it session: zombies filled its process limit).
    init: true,
    dns: [],
    env: {
      MAILCTL_PROJECT: config.project,
      GUARD_PORTS: mailPorts.join(' '),
      GUARD_LOGS: mounted.map((m) => `${m.service}=${m.file}`).join(' '),
      GUARD_FAILURES: String(bans.failures),
      GUARD_WINDOW: String(bans.windowSeconds),
      GUARD_BAN_TIME: String(bans.banSeconds),
      GUARD_TRUSTED: bans.trustedNetworks.join(','),
    },
    mounts: [
      ...mounted.map((m) => ({ bind: m.bind, target: m.target, readOnly: true })),
      { volume: volume(config, 'guard-state'), target: GUARD_STATE_DIR },
    ],
  };
}
