/** Where the certificate the mail services start with comes from, per CERT_MODE. */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Config } from '../config/config.js';
import { UsageError } from '../core/errors.js';
import { CERT_FILE, KEY_FILE } from '../model/layout.js';
import { certificateNames } from './names.js';
import { ensureLocalCa, readLocalCa, type CertPair } from './selfsigned.js';

export interface StartingCertificate {
  pair: CertPair;
  /** acme: only a placeholder until certbot's first certificate; never replaces one in the volume. */
  placeholder: boolean;
  /** For the summary: where clients find the CA to trust, if ours. */
  caCertPath?: string;
  source: string;
  /** The local CA was made again (to cover a new domain): clients must trust the new one. */
  caRemade?: boolean;
}

export function localCaDir(config: Config): string {
  return join(config.siteDir, 'certs', config.project);
}

export function manualCertDir(config: Config): string {
  return join(config.siteDir, 'certs', config.hostname);
}

/**
 * `domains`: the served domains, when known (else the main one): the local
 * CA's certificate names each one's autoconfig, autodiscover and mta-sts.
 */
export function startingCertificate(config: Config, forceNew = false, domains?: readonly string[]): StartingCertificate {
  const names = certificateNames(config, domains).filter((n) => n !== config.hostname);
  switch (config.certMode) {
    case 'selfsigned': {
      // Domains unknown (chasquid not running): names of domains it serves are kept, not dropped.
      const ca = ensureLocalCa(localCaDir(config), config.project, config.hostname, forceNew, config.domain, names, domains !== undefined);
      return { pair: ca.server, caCertPath: ca.caCertPath, source: 'local CA', placeholder: false, caRemade: ca.remade };
    }
    case 'manual': {
      const dir = manualCertDir(config);
      const certPath = join(dir, CERT_FILE);
      const keyPath = join(dir, KEY_FILE);
      if (!existsSync(certPath) || !existsSync(keyPath)) {
        throw new UsageError(`CERT_MODE=manual but ${certPath} or ${keyPath} is missing: put the certificate and key there`);
      }
      const pair = { certPem: readFileSync(certPath, 'utf8'), keyPem: readFileSync(keyPath, 'utf8') };
      checkManualPair(pair, config.hostname, dir);
      return { pair, source: `manual (${dir})`, placeholder: false };
    }
    case 'acme': {
      // chasquid refuses to start without a certificate: until certbot has the
      // real one, the services start on one from the local CA.
      const ca = ensureLocalCa(localCaDir(config), config.project, config.hostname, false, config.domain, names, domains !== undefined);
      return { pair: ca.server, caCertPath: ca.caCertPath, source: 'ACME (certbot sidecar)', placeholder: true, caRemade: ca.remade };
    }
  }
}

/**
 * The certificate `up` would start with, read without writing anything (for
 * the plan): the pair, or why one has to be made first.
 */
export function plannedCertificate(config: Config, domains?: readonly string[]): { pair?: CertPair; placeholder: boolean; toMake?: string; problem?: string } {
  if (config.certMode === 'manual') {
    try {
      return { pair: startingCertificate(config).pair, placeholder: false };
    } catch (err) {
      return { placeholder: false, problem: (err as Error).message };
    }
  }
  const names = certificateNames(config, domains).filter((n) => n !== config.hostname);
  const where = localCaDir(config);
  const { pair, missing, problem } = readLocalCa(where, config.hostname, config.domain, names, domains !== undefined);
  const placeholder = config.certMode === 'acme';
  if (problem) return { placeholder, problem };
  const toMake = {
    ca: `a local CA in ${where} and its certificate for ${config.hostname}`,
    'new-ca': `a new local CA in ${where} (the current one may not certify every name now served; clients must then trust the new ca.crt)`,
    server: `a certificate for ${config.hostname} from the local CA in ${where}`,
  }[missing as string] as string | undefined;
  return { pair, placeholder, toMake };
}

/** ACME_CA_BUNDLE (relative to the .env's directory), read for the sidecar. */
export function acmeCaBundle(config: Config): string | undefined {
  if (config.certMode !== 'acme' || !config.acme.caBundle) return undefined;
  const path = resolve(config.siteDir, config.acme.caBundle);
  if (!existsSync(path)) throw new UsageError(`ACME_CA_BUNDLE ${path} does not exist: point it at the PEM file of the CA your ACME server uses`);
  return readFileSync(path, 'utf8');
}

/** A manual certificate must parse, match its key, name MAIL_HOSTNAME and not be expired. */
export function checkManualPair(pair: CertPair, hostname: string, dir: string): void {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(pair.certPem);
    if (!cert.checkPrivateKey(createPrivateKey(pair.keyPem))) {
      throw new UsageError(`${dir}: ${KEY_FILE} is not the key of ${CERT_FILE}: put the matching pair there`);
    }
  } catch (err) {
    if (err instanceof UsageError) throw err;
    throw new UsageError(`${dir}: cannot read the certificate or key (${(err as Error).message}): both must be PEM files`);
  }
  if (!cert.checkHost(hostname)) throw new UsageError(`${dir}/${CERT_FILE} does not name ${hostname} (MAIL_HOSTNAME): get one that does`);
  if (Date.parse(cert.validTo) < Date.now()) throw new UsageError(`${dir}/${CERT_FILE} expired on ${cert.validTo}: replace it`);
}
