/**
 * Every service of the stack, once. Container names, labels, images, start
 * and stop order, health timing and what each needs are derived from here
 * (src/plan/services.ts makes each one's spec; src/model/layout.ts names it).
 */
export interface ServiceEntry {
  /** Part of the stack: always, or when a setting turns it on. */
  when: 'always' | 'acme' | 'spamassassin' | 'clamav' | 'bans';
  /** Containers are created in this order (dovecot first: it makes the sockets chasquid uses). */
  startOrder: number;
  /** Writers of the data volumes, stopped (restore) and paused (backup) in this order. */
  stopOrder?: number;
  /** A mail daemon: serves the certificate, logs the logins the guard reads. */
  mail?: boolean;
  /** How a running one takes a new certificate: SIGHUP (dovecot and nginx keep their connections) or a restart (chasquid reads it only at start). */
  onNewCertificate?: 'reload' | 'restart';
  /** How long it may take to start before failed health probes count, and between probes. */
  startPeriodSeconds: number;
  healthIntervalSeconds: number;
  /** How long `up` waits for it to become healthy. */
  healthyWithinSeconds: number;
  /** The command that prints its version (status). */
  versionCommand?: readonly string[];
}

export const SERVICE_TABLE = {
  chasquid: { when: 'always', startOrder: 2, stopOrder: 1, mail: true, onNewCertificate: 'restart', startPeriodSeconds: 60, healthIntervalSeconds: 10, healthyWithinSeconds: 120, versionCommand: ['chasquid', '--version'] },
  dovecot: { when: 'always', startOrder: 1, stopOrder: 2, mail: true, onNewCertificate: 'reload', startPeriodSeconds: 60, healthIntervalSeconds: 10, healthyWithinSeconds: 120, versionCommand: ['dovecot', '--version'] },
  certbot: { when: 'acme', startOrder: 4, stopOrder: 3, startPeriodSeconds: 60, healthIntervalSeconds: 15, healthyWithinSeconds: 120 },
  dockerproxy: { when: 'acme', startOrder: 3, startPeriodSeconds: 20, healthIntervalSeconds: 10, healthyWithinSeconds: 120 },
  spamassassin: { when: 'spamassassin', startOrder: 5, startPeriodSeconds: 60, healthIntervalSeconds: 10, healthyWithinSeconds: 120 },
  // clamd cannot start before freshclam's first download of the signatures (hundreds of MB).
  clamav: { when: 'clamav', startOrder: 6, startPeriodSeconds: 300, healthIntervalSeconds: 10, healthyWithinSeconds: 900 },
  // Made after the mail containers: their log paths are its input.
  guard: { when: 'bans', startOrder: 8, startPeriodSeconds: 20, healthIntervalSeconds: 10, healthyWithinSeconds: 120 },
  // nginx: client autoconfiguration, MTA-STS, and port 80 for http-01 (certbot's webroot).
  web: { when: 'always', startOrder: 7, onNewCertificate: 'reload', startPeriodSeconds: 20, healthIntervalSeconds: 10, healthyWithinSeconds: 120 },
} as const satisfies Record<string, ServiceEntry>;

export type ServiceName = keyof typeof SERVICE_TABLE;
export const SERVICE_NAMES = Object.keys(SERVICE_TABLE) as ServiceName[];
export const serviceEntry = (name: string): ServiceEntry | undefined => (SERVICE_TABLE as Record<string, ServiceEntry>)[name];
export const isServiceName = (name: string): name is ServiceName => SERVICE_NAMES.includes(name as ServiceName);

/** chasquid and dovecot. */
export const MAIL_SERVICES = SERVICE_NAMES.filter((s) => serviceEntry(s)!.mail);
export const RESTARTED_FOR_CERTIFICATE = SERVICE_NAMES.filter((s) => serviceEntry(s)!.onNewCertificate === 'restart');
export const RELOADED_FOR_CERTIFICATE = SERVICE_NAMES.filter((s) => serviceEntry(s)!.onNewCertificate === 'reload');
/** The writers of the data volumes, in the order they stop. */
export const STOP_ORDER = SERVICE_NAMES.filter((s) => serviceEntry(s)!.stopOrder).sort((a, b) => serviceEntry(a)!.stopOrder! - serviceEntry(b)!.stopOrder!);
