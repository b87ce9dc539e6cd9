/**
 * The certificates volume: <hostname>/fullchain.pem and privkey.pem, owned
 * root:chasquid, 0640, as both mail containers read them. Written through a
 * short-lived helper container so it works before the stack exists.
 */
import { X509Certificate } from 'node:crypto';
import type { Config } from '../config/config.js';
import type { Engine } from '../docker/engine.js';
import { locateService } from '../runtime/running.js';
import { withHelper } from '../docker/helper.js';
import { CERT_FILE, CHASQUID_GID, DOVECOT_CERTS_DIR, KEY_FILE, volumeName } from '../model/layout.js';
import type { CertPair } from './selfsigned.js';

const HELPER_MOUNT = '/certs';

/**
 * Install `pair` into the certificates volume unless it is already there (or,
 * for a placeholder, unless any certificate is there). Returns true when written.
 */
export async function installCertificate(docker: Engine, config: Config, helperImage: string, pair: CertPair, placeholder = false): Promise<boolean> {
  const current = await volumeCertificatePem(docker, config, helperImage);
  if (current === pair.certPem || (placeholder && current)) return false;
  const dir = `${HELPER_MOUNT}/${config.hostname}`;
  await withHelper(docker, certsHelper(config, helperImage), (helper) => helper.putFiles([
    { path: dir, mode: 0o750, gid: CHASQUID_GID },
    { path: `${dir}/${KEY_FILE}`, content: pair.keyPem, mode: 0o640, gid: CHASQUID_GID },
    { path: `${dir}/${CERT_FILE}`, content: pair.certPem, mode: 0o640, gid: CHASQUID_GID },
  ]));
  return true;
}

/**
 * The certificate in the volume: read through the dovecot container when it
 * exists, else (first start) through a helper, when an image for one is given.
 */
export async function volumeCertificatePem(docker: Engine, config: Config, helperImage?: string): Promise<string | undefined> {
  const found = await locateService(docker, config, 'dovecot');
  if (found) {
    const dovecot = docker.container(found.ref);
    return (await dovecot.readFile(`${DOVECOT_CERTS_DIR}/${config.hostname}/${CERT_FILE}`))?.toString();
  }
  if (!helperImage) return undefined;
  return withHelper(docker, certsHelper(config, helperImage), async (helper) =>
    (await helper.readFile(`${HELPER_MOUNT}/${config.hostname}/${CERT_FILE}`))?.toString());
}

const certsHelper = (config: Config, image: string) =>
  ({ image, project: config.project, mounts: [{ volume: volumeName(config.project, 'certs'), target: HELPER_MOUNT }] });

export interface CertSummary {
  subject: string;
  issuer: string;
  notAfter: string;
  daysLeft: number;
  serial: string;
  /** The DNS names in subjectAltName, lower case. */
  names: string[];
}

export function summarizeCertificate(pem: string): CertSummary {
  const cert = new X509Certificate(pem);
  const notAfter = new Date(cert.validTo);
  return {
    // ACME certificates may have an empty subject and name the host only in subjectAltName.
    subject: cert.subject ? cert.subject.replace(/\n/g, ', ') : cert.subjectAltName ?? '',
    issuer: (cert.issuer ?? '').replace(/\n/g, ', '),
    notAfter: notAfter.toISOString(),
    daysLeft: Math.floor((notAfter.getTime() - Date.now()) / 86_400_000),
    serial: cert.serialNumber,
    names: (cert.subjectAltName ?? '').split(/,\s*/).filter((n) => n.startsWith('DNS:')).map((n) => n.slice(4).toLowerCase()),
  };
}
