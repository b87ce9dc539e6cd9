/**
 * CERT_MODE=selfsigned: a local CA (certs/<project>/ca.crt, kept across runs)
 * and a server certificate for MAIL_HOSTNAME signed by it. Keys are made by
 * Node's crypto; node-forge writes the X.509 structures Node cannot.
 */
import { generateKeyPairSync, X509Certificate, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { writeAtomic } from '../files.js';
import { join } from 'node:path';
import forge from 'node-forge';

export interface CertPair {
  /** Leaf certificate (PEM), as served. */
  certPem: string;
  keyPem: string;
}

export interface LocalCa {
  dir: string;
  caCertPath: string;
  server: CertPair;
}

const DAY = 24 * 3600 * 1000;
const RENEW_BEFORE_DAYS = 30;

function newKeyPem(): string {
  return generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

function serial(): string {
  // Positive 16-byte serial (high bit clear).
  const bytes = randomBytes(16);
  bytes[0] &= 0x7f;
  return bytes.toString('hex');
}

interface Issue {
  subjectCN: string;
  keyPem: string;
  days: number;
  ca: boolean;
  issuer?: { certPem: string; keyPem: string };
  dnsNames?: string[];
}

/** Pure apart from the clock and randomness: a certificate as PEM. */
export function issueCertificate(req: Issue): string {
  const key = forge.pki.privateKeyFromPem(req.keyPem) as forge.pki.rsa.PrivateKey;
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.setRsaPublicKey(key.n, key.e);
  cert.serialNumber = serial();
  const now = Date.now();
  cert.validity.notBefore = new Date(now - 3600 * 1000);
  cert.validity.notAfter = new Date(now + req.days * DAY);
  cert.setSubject([{ name: 'commonName', value: req.subjectCN }, { name: 'organizationName', value: 'mailctl' }]);
  const issuerCert = req.issuer ? forge.pki.certificateFromPem(req.issuer.certPem) : undefined;
  cert.setIssuer(issuerCert ? issuerCert.subject.attributes : cert.subject.attributes);
  const extensions: object[] = [
    { name: 'basicConstraints', cA: req.ca, critical: true },
    req.ca
      ? { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true }
      : { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ];
  if (!req.ca) {
    extensions.push({ name: 'extKeyUsage', serverAuth: true });
    extensions.push({ name: 'subjectAltName', altNames: (req.dnsNames ?? [req.subjectCN]).map((value) => ({ type: 2, value })) });
  }
  if (issuerCert) {
    extensions.push({ name: 'authorityKeyIdentifier', keyIdentifier: issuerCert.generateSubjectKeyIdentifier().getBytes() });
  }
  cert.setExtensions(extensions);
  const signer = forge.pki.privateKeyFromPem(req.issuer?.keyPem ?? req.keyPem);
  cert.sign(signer as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
  return forge.pki.certificateToPem(cert);
}

/** True when `certPem` names `hostname`, was signed by `caPem`, and is not due for renewal. */
export function isUsable(certPem: string, caPem: string, hostname: string): boolean {
  try {
    const cert = new X509Certificate(certPem);
    const ca = new X509Certificate(caPem);
    return cert.checkIssued(ca) && cert.verify(ca.publicKey) && cert.checkHost(hostname) !== undefined &&
      Date.parse(cert.validTo) - Date.now() > RENEW_BEFORE_DAYS * DAY;
  } catch {
    return false;
  }
}

/** Make (or reuse) the local CA and a server certificate for `hostname` in `dir`. */
export function ensureLocalCa(dir: string, project: string, hostname: string, forceNewServer = false): LocalCa {
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const caCertPath = join(dir, 'ca.crt');
  const caKeyPath = join(dir, 'ca.key');
  const certPath = join(dir, 'server.crt');
  const keyPath = join(dir, 'server.key');
  if (!existsSync(caCertPath) || !existsSync(caKeyPath)) {
    const keyPem = newKeyPem();
    const certPem = issueCertificate({ subjectCN: `mailctl local CA (${project})`, keyPem, days: 3650, ca: true });
    writeAtomic(caKeyPath, keyPem, 0o600);
    writeAtomic(caCertPath, certPem, 0o644);
  }
  const ca = { certPem: readFileSync(caCertPath, 'utf8'), keyPem: readFileSync(caKeyPath, 'utf8') };
  if (forceNewServer || !existsSync(certPath) || !existsSync(keyPath) || !isUsable(readFileSync(certPath, 'utf8'), ca.certPem, hostname)) {
    const keyPem = newKeyPem();
    const certPem = issueCertificate({ subjectCN: hostname, keyPem, days: 397, ca: false, issuer: ca, dnsNames: [hostname] });
    writeAtomic(keyPath, keyPem, 0o600);
    writeAtomic(certPath, certPem, 0o644);
  }
  return { dir, caCertPath, server: { certPem: readFileSync(certPath, 'utf8'), keyPem: readFileSync(keyPath, 'utf8') } };
}
