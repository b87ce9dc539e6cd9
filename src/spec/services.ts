/** Config -> the services of the stack. Pure. */
import type { Config, PortName } from '../config.js';
import { PORT_KEYS } from '../config.js';
import {
  CHASQUID_CERTS_DIR, CHASQUID_CONF, CHASQUID_DOMAINS_DIR, CHASQUID_GID, CHASQUID_STATE_DIR, CHASQUID_UID,
  containerName, DOVECOT_CERTS_DIR, DOVECOT_CONF, MAIL_ROOT, SOCKETS_DIR, USERS_DIR, volumeName,
} from '../layout.js';
import { renderChasquidConf } from '../render/chasquid.js';
import { renderDovecotConf } from '../render/dovecot.js';
import type { PortSpec, ServiceSpec } from './types.js';

export interface SpecInputs {
  /** Image references by service (from the build). */
  images: Record<'chasquid' | 'dovecot', string>;
  /** Fingerprint of the certificate the mail services start with: chasquid reads it only at start. */
  certFingerprint: string;
}

function port(config: Config, name: PortName, container: number): PortSpec {
  return { container, host: config.ports[name], bind: config.bind, key: PORT_KEYS[name] };
}

export function dovecotSpec(config: Config, inputs: SpecInputs): ServiceSpec {
  const v = (n: Parameters<typeof volumeName>[1]) => volumeName(config.project, n);
  return {
    service: 'dovecot',
    name: containerName(config.project, 'dovecot'),
    image: inputs.images.dovecot,
    env: {},
    mounts: [
      { volume: v('mail'), target: MAIL_ROOT },
      { volume: v('users'), target: USERS_DIR },
      { volume: v('certs'), target: DOVECOT_CERTS_DIR, readOnly: true },
      { volume: v('dovecot-sockets'), target: SOCKETS_DIR },
    ],
    ports: [port(config, 'imap', 143), port(config, 'imaps', 993), port(config, 'pop3', 110), port(config, 'pop3s', 995)],
    files: [{ path: DOVECOT_CONF, content: renderDovecotConf(config), mode: 0o644 }],
    dns: [...config.dns],
    networkAliases: [],
    extra: { cert: inputs.certFingerprint },
  };
}

export function chasquidSpec(config: Config, inputs: SpecInputs): ServiceSpec {
  const v = (n: Parameters<typeof volumeName>[1]) => volumeName(config.project, n);
  return {
    service: 'chasquid',
    name: containerName(config.project, 'chasquid'),
    image: inputs.images.chasquid,
    env: {},
    mounts: [
      { volume: v('chasquid-state'), target: CHASQUID_STATE_DIR },
      { volume: v('certs'), target: CHASQUID_CERTS_DIR, readOnly: true },
      { volume: v('dovecot-sockets'), target: SOCKETS_DIR },
    ],
    ports: [port(config, 'smtp', 25), port(config, 'submission', 587), port(config, 'submissions', 465)],
    files: [
      { path: CHASQUID_CONF, content: renderChasquidConf(config), mode: 0o644 },
      // The main domain; more are added by add-user / add-domain on the volume.
      { path: `${CHASQUID_DOMAINS_DIR}/${config.domain}`, mode: 0o750, uid: CHASQUID_UID, gid: CHASQUID_GID },
    ],
    dns: [...config.dns],
    networkAliases: [],
    extra: { cert: inputs.certFingerprint },
  };
}

/** The services in start order: dovecot first, it owns the sockets chasquid uses. */
export function stackSpecs(config: Config, inputs: SpecInputs): ServiceSpec[] {
  return [dovecotSpec(config, inputs), chasquidSpec(config, inputs)];
}
