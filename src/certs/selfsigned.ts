/**
 * CERT_MODE=selfsigned: a local CA (certs/<project>/ca.crt, kept across runs)
 * and a server certificate for MAIL_HOSTNAME signed by it. Keys are made by
 * Node's crypto; node-forge writes the X.509 structures Node cannot.
 */
import { generateKeyPairSync, X509Certificate, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { writeAtomic } from '../core/files.js';
import { UsageError } from '../core/errors.js';
import { join } from 'node:path';
import type Forge from 'node-forge';
import { lazy } from '../core/lazy.js';

const loadForge = lazy<typeof Forge>('node-forge');

export interface CertPair {
  /** Leaf certificate (PEM), as served. */
  certPem: string;
  keyPem: string;
}

export interface LocalCa {
  dir: string;
  caCertPath: string;
  /** The CA was made again to cover new names: clients must trust the new ca.crt. */
  remade: boolean;
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
  /** For a CA: the only DNS names (and their subdomains) it may certify. */
  permittedNames?: string[];
}

/** How long the local CA lives: clients are told to trust it, so not for years. */
export const CA_DAYS = 825;
const SERVER_DAYS = 397;

/**
 * The nameConstraints extension (RFC 5280 4.2.1.10), DER: DNS names, mail
 * addresses and URIs only under the stack's names; no IP address at all.
 */
function nameConstraints(names: readonly string[]): object {
  const { asn1 } = loadForge();
  const general = (tag: number, value: string) => asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [asn1.create(asn1.Class.CONTEXT_SPECIFIC, tag, false, value)]);
  // dNSName [2] covers subdomains; rfc822Name [1] and uniformResourceIdentifier [6] need "host" and ".host".
  const permitted = names.flatMap((n) => [general(2, n), general(1, n), general(1, `.${n}`), general(6, n), general(6, `.${n}`)]);
  // iPAddress [7]: address and mask, all zero: every IPv4 and every IPv6 address excluded.
  const excluded = [general(7, '\0'.repeat(8)), general(7, '\0'.repeat(32))];
  const value = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 0, true, permitted),
    asn1.create(asn1.Class.CONTEXT_SPECIFIC, 1, true, excluded),
  ]);
  return { id: '2.5.29.30', critical: true, value: asn1.toDer(value).getBytes() };
}

/** A local CA that cannot be read: what is wrong and what to do. Undefined when it can. */
export function unreadableCa(dir: string): string | undefined {
  const caPath = join(dir, 'ca.crt');
  try {
    loadForge().pki.certificateFromPem(readFileSync(caPath, 'utf8'));
    loadForge().pki.privateKeyFromPem(readFileSync(join(dir, 'ca.key'), 'utf8'));
    return undefined;
  } catch (err) {
    return `${caPath} or its ca.key cannot be read (${(err as Error).message}): restore both from a backup, or remove both to make a new CA (clients must then trust the new ca.crt)`;
  }
}

/** Pure apart from the clock and randomness: a certificate as PEM. */
export function issueCertificate(req: Issue): string {
  const key = loadForge().pki.privateKeyFromPem(req.keyPem) as Forge.pki.rsa.PrivateKey;
  const cert = loadForge().pki.createCertificate();
  cert.publicKey = loadForge().pki.setRsaPublicKey(key.n, key.e);
  cert.serialNumber = serial();
  const now = Date.now();
  cert.validity.notBefore = new Date(now - 3600 * 1000);
  cert.validity.notAfter = new Date(now + req.days * DAY);
  cert.setSubject([{ name: 'commonName', value: req.subjectCN }, { name: 'organizationName', value: 'mailctl' }]);
  const issuerCert = req.issuer ? loadForge().pki.certificateFromPem(req.issuer.certPem) : undefined;
  cert.setIssuer(issuerCert ? issuerCert.subject.attributes : cert.subject.attributes);
  const extensions: object[] = [
    { name: 'basicConstraints', cA: req.ca, critical: true },
    req.ca
      ? { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true }
      : { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'subjectKeyIdentifier' },
  ];
  if (req.ca && req.permittedNames?.length) extensions.push(nameConstraints(req.permittedNames));
  if (!req.ca) {
    extensions.push({ name: 'extKeyUsage', serverAuth: true });
    extensions.push({ name: 'subjectAltName', altNames: (req.dnsNames ?? [req.subjectCN]).map((value) => ({ type: 2, value })) });
  }
  if (issuerCert) {
    extensions.push({ name: 'authorityKeyIdentifier', keyIdentifier: issuerCert.generateSubjectKeyIdentifier().getBytes() });
  }
  cert.setExtensions(extensions);
  const signer = loadForge().pki.privateKeyFromPem(req.issuer?.keyPem ?? req.keyPem);
  cert.sign(signer as Forge.pki.rsa.PrivateKey, loadForge().md.sha256.create());
  return loadForge().pki.certificateToPem(cert);
}

/**
 * True when `certPem` names `hostname` and `names` (and nothing else, unless
 * not `exact`: the names known are not all there are), was signed by `caPem`,
 * and is not due for renewal.
 */
export function isUsable(certPem: string, caPem: string, hostname: string, names: readonly string[] = [], exact = true): boolean {
  try {
    const cert = new X509Certificate(certPem);
    const ca = new X509Certificate(caPem);
    // Exactly the names wanted: a domain removed leaves the certificate too (found by a break-it session).
    const wanted = [...new Set([hostname, ...names])].sort();
    const has = (cert.subjectAltName ?? '').split(', ').filter((n) => n.startsWith('DNS:')).map((n) => n.slice(4)).sort();
    const named = exact ? wanted.join(' ') === has.join(' ') : wanted.every((n) => has.includes(n));
    return cert.checkIssued(ca) && cert.verify(ca.publicKey) && named &&
      Date.parse(cert.validTo) - Date.now() > RENEW_BEFORE_DAYS * DAY;
  } catch {
    return false;
  }
}

/**
 * The names the local CA may certify: the server's name and the mail domain,
 * each with its subdomains (mail.example.com is under example.com).
 */
export function caScope(hostname: string, domain: string, more: readonly string[] = []): string[] {
  return [...new Set([domain, hostname, ...more])].filter((name, _, all) => !all.some((other) => other !== name && name.endsWith(`.${other}`)));
}

/**
 * The local CA's server certificate as it is in `dir`, without writing (for
 * the plan): the pair when it is usable as is, else what `ensureLocalCa`
 * would make, or why it cannot.
 */
export function readLocalCa(dir: string, hostname: string, domain: string, names: readonly string[] = [], exact = true): { pair?: CertPair; missing?: 'ca' | 'new-ca' | 'server'; problem?: string } {
  const at = (f: string) => join(dir, f);
  if (!existsSync(at('ca.crt')) || !existsSync(at('ca.key'))) return { missing: 'ca' };
  const problem = unreadableCa(dir);
  if (problem) return { problem };
  const caPem = readFileSync(at('ca.crt'), 'utf8');
  if (!caCovers(caPem, existsSync(at('ca.scope')) ? readFileSync(at('ca.scope'), 'utf8') : undefined, hostname, domain, [hostname, ...names])) return { missing: 'new-ca' };
  if (!existsSync(at('server.crt')) || !existsSync(at('server.key'))) return { missing: 'server' };
  const certPem = readFileSync(at('server.crt'), 'utf8');
  if (!isUsable(certPem, caPem, hostname, names, exact)) return { missing: 'server' };
  return { pair: { certPem, keyPem: readFileSync(at('server.key'), 'utf8') } };
}

/**
 * Make (or reuse) the local CA and a server certificate for `hostname` (and
 * `names`: each domain's autoconfig, autodiscover, mta-sts) in `dir`. A CA
 * whose scope does not cover a name (a domain added since) is made again:
 * `remade` says so, since clients must then trust the new ca.crt.
 */
export function ensureLocalCa(dir: string, project: string, hostname: string, forceNewServer = false, domain = hostname, names: readonly string[] = [], exact = true): LocalCa {
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const caCertPath = join(dir, 'ca.crt');
  const caKeyPath = join(dir, 'ca.key');
  const certPath = join(dir, 'server.crt');
  const keyPath = join(dir, 'server.key');
  const scopePath = join(dir, 'ca.scope');
  const domains = names.filter((n) => n.startsWith('autoconfig.')).map((n) => n.slice('autoconfig.'.length));
  const exists = existsSync(caCertPath) && existsSync(caKeyPath);
  const unreadable = exists ? unreadableCa(dir) : undefined;
  if (unreadable) throw new UsageError(unreadable);
  const remade = exists && !caCovers(readFileSync(caCertPath, 'utf8'), existsSync(scopePath) ? readFileSync(scopePath, 'utf8') : undefined, hostname, domain, [hostname, ...names]);
  if (!exists || remade) {
    const keyPem = newKeyPem();
    const scope = caScope(hostname, domain, domains);
    const certPem = issueCertificate({ subjectCN: `mailctl local CA (${project})`, keyPem, days: CA_DAYS, ca: true, permittedNames: scope });
    writeAtomic(caKeyPath, keyPem, 0o600);
    writeAtomic(caCertPath, certPem, 0o644);
    writeAtomic(scopePath, `${scope.join('\n')}\n`, 0o644);
  }
  const ca = { certPem: readFileSync(caCertPath, 'utf8'), keyPem: readFileSync(caKeyPath, 'utf8') };
  if (forceNewServer || !existsSync(certPath) || !existsSync(keyPath) || !isUsable(readFileSync(certPath, 'utf8'), ca.certPem, hostname, names, exact)) {
    const keyPem = newKeyPem();
    // Never beyond the CA's own end.
    const caLeft = Math.floor((Date.parse(new X509Certificate(ca.certPem).validTo) - Date.now()) / DAY);
    const certPem = issueCertificate({ subjectCN: hostname, keyPem, days: Math.max(1, Math.min(SERVER_DAYS, caLeft)), ca: false, issuer: ca, dnsNames: [...new Set([hostname, ...names])] });
    writeAtomic(keyPath, keyPem, 0o600);
    writeAtomic(certPath, certPem, 0o644);
  }
  return { dir, caCertPath, remade, server: { certPem: readFileSync(certPath, 'utf8'), keyPem: readFileSync(keyPath, 'utf8') } };
}

/**
 * May this CA certify every name? Its scope is in ca.scope; a CA made before
 * that file existed was scoped to the domain and hostname, or (older still)
 * had no name constraints at all.
 */
export function caCovers(caPem: string, scopeFile: string | undefined, hostname: string, domain: string, names: readonly string[]): boolean {
  let scope = scopeFile?.split('\n').map((l) => l.trim()).filter(Boolean);
  if (!scope) {
    const constrained = (loadForge().pki.certificateFromPem(caPem) as unknown as { getExtension(id: { id: string }): unknown }).getExtension({ id: '2.5.29.30' });
    if (!constrained) return true;
    scope = caScope(hostname, domain);
  }
  return names.every((n) => scope!.some((s) => n === s || n.endsWith(`.${s}`)));
}
