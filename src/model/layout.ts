/**
 * Where things are inside the containers, and the names of what mailctl
 * creates on the engine. Rendered configs, service specs and commands all
 * take paths from here, so they cannot disagree.
 */

/** Pinned in images/chasquid and images/dovecot (see their Dockerfiles). */
export const CHASQUID_UID = 2500;
export const CHASQUID_GID = 2500;

/** Shared by both mail containers: dovecot's listeners for chasquid and its LMTP socket. */
export const SOCKETS_DIR = '/run/mailctl';
export const AUTH_USERDB_SOCKET = `${SOCKETS_DIR}/auth-chasquid-userdb`;
export const AUTH_CLIENT_SOCKET = `${SOCKETS_DIR}/auth-chasquid-client`;
export const LMTP_SOCKET = `${SOCKETS_DIR}/lmtp`;
/** chasquid's delivery agent: waits for a slot of the recipient, then runs mda-lmtp (images/chasquid). */
export const DELIVER_BIN = '/usr/local/bin/mailctl-deliver';

/**
 * chasquid (in the host's network namespace) reaches the scanners through
 * unix sockets on a volume only the three of them mount: no port anywhere.
 */
export const FILTER_SOCKETS_DIR = '/run/mailctl-filters';
export const SPAMD_SOCKET = `${FILTER_SOCKETS_DIR}/spamd.sock`;
/** In a directory of clamd's own: clamd makes its socket after it drops root. */
export const CLAMD_SOCKET = `${FILTER_SOCKETS_DIR}/clamd/clamd.sock`;

export const DOVECOT_CONF = '/etc/dovecot/dovecot.conf';
export const USERS_DIR = '/etc/mailctl/users';
export const USERS_FILE = `${USERS_DIR}/passwd`;
export const MAIL_ROOT = '/var/mail';
/** The certificates volume, as dovecot sees it. */
export const DOVECOT_CERTS_DIR = '/etc/mailctl/certs';

export const CHASQUID_CONF = '/etc/chasquid/chasquid.conf';
/**
 * The submission instance (587, 465): a config directory of its own whose
 * post-data hook checks senders; it links to the same domains and
 * certificates (images/chasquid/Dockerfile) and keeps its own queue.
 */
export const SUBMISSION_CONF = '/etc/chasquid/submission/chasquid.conf';
export const SUBMISSION_STATE_DIR = '/var/lib/chasquid/submission';
/** Who may send as what: the rules mailctl keeps and the map the hook reads (images/chasquid/mailctl-senders). */
export const SENDERS_DIR = '/var/lib/chasquid/mailctl';
/** The certificates volume, as chasquid sees it: <dir>/<hostname>/{fullchain,privkey}.pem. */
export const CHASQUID_CERTS_DIR = '/etc/chasquid/certs';
export const CHASQUID_STATE_DIR = '/var/lib/chasquid';
/** /etc/chasquid/domains is a link to this directory on the state volume. */
export const CHASQUID_DOMAINS_DIR = `${CHASQUID_STATE_DIR}/domains`;

export const CERT_FILE = 'fullchain.pem';
export const KEY_FILE = 'privkey.pem';

export type VolumeName = 'mail' | 'users' | 'chasquid-state' | 'certs' | 'dovecot-sockets' | 'filter-sockets' | 'proxy-socket' | 'letsencrypt' | 'clamav-db' | 'guard-state'
  | 'web-site' | 'acme-challenge';

export const volumeName = (project: string, name: VolumeName) => `${project}-${name}`;
/** Every image's health probe (images/<service>/mailctl-healthcheck): a protocol greeting, or the daemon's own check. */
export const HEALTH_PROBE = ['/usr/local/bin/mailctl-healthcheck'];

export const containerName = (project: string, service: string) => `${project}-${service}`;
export const networkName = (project: string) => `${project}-net`;

/** The certbot sidecar's view of the certificates volume, and its own state. */
export const SIDECAR_CERTS_DIR = '/etc/mailctl/certs';
export const LETSENCRYPT_DIR = '/etc/letsencrypt';
export const SIDECAR_STATE_DIR = '/var/lib/mailctl-certbot';
export const SIDECAR_ACME_CA = '/etc/mailctl/acme-ca.pem';
/** certbot's webroot for http-01: the acme-challenge volume, which the web service serves on port 80. */
export const SIDECAR_WEBROOT = '/var/lib/mailctl-acme';
/**
 * The Docker API proxy listens on a unix socket on a volume only it and the
 * certbot sidecar mount: no other container (a scanner parsing hostile
 * mail) and no local user can reach it.
 */
export const PROXY_SOCKET_DIR = '/run/mailctl-proxy';
export const PROXY_SOCKET = `${PROXY_SOCKET_DIR}/docker.sock`;

/** dovecot's side of Sieve and quotas (images/dovecot). */
export const SPAM_TO_JUNK_SIEVE = '/etc/dovecot/sieve/spam-to-junk.sieve';
export const QUOTA_WARNING = '/usr/local/bin/mailctl-quota-warning';
export const SENDMAIL = '/usr/local/bin/mailctl-sendmail';
/** The Sieve sender account's password hash and password, made by the container at its first start (users volume). */
export const RELAY_PASSWD = `${USERS_DIR}/sieve-sender.passwd`;
export const RELAY_SECRET = `${USERS_DIR}/sieve-sender.secret`;
