/** Where the certificate the mail services start with comes from, per CERT_MODE. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config.js';
import { OperationalError } from '../errors.js';
import { CERT_FILE, KEY_FILE } from '../layout.js';
import { ensureLocalCa, type CertPair } from './selfsigned.js';

export interface StartingCertificate {
  pair: CertPair;
  /** For the summary: where clients find the CA to trust, if ours. */
  caCertPath?: string;
  source: string;
}

export function localCaDir(config: Config): string {
  return join(config.siteDir, 'certs', config.project);
}

export function manualCertDir(config: Config): string {
  return join(config.siteDir, 'certs', config.hostname);
}

export function startingCertificate(config: Config): StartingCertificate {
  switch (config.certMode) {
    case 'selfsigned': {
      const ca = ensureLocalCa(localCaDir(config), config.project, config.hostname);
      return { pair: ca.server, caCertPath: ca.caCertPath, source: 'local CA' };
    }
    case 'manual': {
      const dir = manualCertDir(config);
      const certPath = join(dir, CERT_FILE);
      const keyPath = join(dir, KEY_FILE);
      if (!existsSync(certPath) || !existsSync(keyPath)) {
        throw new OperationalError(`CERT_MODE=manual but ${certPath} or ${keyPath} is missing: put the certificate and key there`);
      }
      return { pair: { certPem: readFileSync(certPath, 'utf8'), keyPem: readFileSync(keyPath, 'utf8') }, source: `manual (${dir})` };
    }
    case 'acme':
      throw new OperationalError('CERT_MODE=acme is not available yet in this version: use CERT_MODE=selfsigned or manual');
  }
}
