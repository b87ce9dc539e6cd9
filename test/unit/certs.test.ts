import test from 'ava';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { summarizeCertificate } from '../../src/certs/install.js';
import { caScope, ensureLocalCa, issueCertificate, isUsable } from '../../src/certs/selfsigned.js';

test('local CA: a server certificate for the hostname, chaining to ca.crt; keys 0600', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mailctl-ca-'));
  const ca = ensureLocalCa(dir, 'p', 'mail.example.test');
  const caCert = new X509Certificate(readFileSync(ca.caCertPath));
  const server = new X509Certificate(ca.server.certPem);
  t.true(caCert.ca);
  t.true(server.checkIssued(caCert));
  t.true(server.verify(caCert.publicKey));
  t.is(server.checkHost('mail.example.test'), 'mail.example.test');
  t.is(server.checkHost('other.example.test'), undefined);
  t.is(statSync(join(dir, 'ca.key')).mode & 0o777, 0o600);
  t.is(statSync(join(dir, 'server.key')).mode & 0o777, 0o600);
  t.true(isUsable(ca.server.certPem, caCert.toString(), 'mail.example.test'));
  t.regex(summarizeCertificate(ca.server.certPem).subject, /CN=mail\.example\.test/);
});

test('local CA: reused across runs; a new hostname gets a new server certificate from the same CA', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mailctl-ca-'));
  const first = ensureLocalCa(dir, 'p', 'mail.example.test', false, 'example.test');
  const again = ensureLocalCa(dir, 'p', 'mail.example.test', false, 'example.test');
  t.is(again.server.certPem, first.server.certPem);
  const renamed = ensureLocalCa(dir, 'p', 'mx.example.test', false, 'example.test');
  t.not(renamed.server.certPem, first.server.certPem);
  t.is(new X509Certificate(renamed.server.certPem).checkHost('mx.example.test'), 'mx.example.test');
  t.is(readFileSync(renamed.caCertPath, 'utf8'), readFileSync(first.caCertPath, 'utf8'));
  // A name outside the CA's constraints would get a certificate every client rejects (found by a break-it session):
  // a new CA is made for it, and the caller says clients must trust it.
  const caBefore = readFileSync(first.caCertPath, 'utf8');
  const outside = ensureLocalCa(dir, 'p', 'mx.other.test', false, 'other.test');
  t.true(outside.remade);
  t.not(readFileSync(outside.caCertPath, 'utf8'), caBefore);
});

test('local CA: name-constrained to the stack\'s names, 825 days; a certificate for another name does not verify (openssl)', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mailctl-ca-'));
  ensureLocalCa(dir, 'p', 'mail.example.com', false, 'example.com');
  const ca = new X509Certificate(readFileSync(join(dir, 'ca.crt')));
  const days = (Date.parse(ca.validTo) - Date.now()) / 86400_000;
  t.true(days > 820 && days <= 825, `${days} days`);
  const text = spawnSync('openssl', ['x509', '-in', join(dir, 'ca.crt'), '-noout', '-ext', 'nameConstraints'], { encoding: 'utf8' }).stdout;
  t.regex(text, /Name Constraints: critical\n\s+Permitted:\n\s+DNS:example\.com\n/);
  t.deepEqual(caScope('mail.example.com', 'example.com'), ['example.com']);
  t.deepEqual(caScope('mx.hoster.net', 'example.com'), ['example.com', 'mx.hoster.net']);
  const ok = spawnSync('openssl', ['verify', '-CAfile', join(dir, 'ca.crt'), join(dir, 'server.crt')], { encoding: 'utf8' });
  t.is(ok.status, 0, ok.stdout + ok.stderr);
  // Had the CA key leaked, a certificate it signs for another name would still be refused.
  const caPair = { certPem: readFileSync(join(dir, 'ca.crt'), 'utf8'), keyPem: readFileSync(join(dir, 'ca.key'), 'utf8') };
  const foreign = issueCertificate({ subjectCN: 'bank.example', keyPem: caPair.keyPem, days: 30, ca: false, issuer: caPair, dnsNames: ['bank.example'] });
  writeFileSync(join(dir, 'foreign.crt'), foreign);
  const bad = spawnSync('openssl', ['verify', '-CAfile', join(dir, 'ca.crt'), join(dir, 'foreign.crt')], { encoding: 'utf8' });
  t.not(bad.status, 0);
  t.regex(bad.stdout + bad.stderr, /permitted subtree violation/);
  // Nor for an address, however named (found by a break-it session): every IP is excluded.
  const sh = (cmd: string) => spawnSync('sh', ['-c', cmd], { cwd: dir, encoding: 'utf8' });
  t.is(sh('openssl req -new -newkey rsa:2048 -nodes -keyout ip.key -subj /CN=mail.example.com -out ip.csr 2>&1').status, 0);
  writeFileSync(join(dir, 'ip.ext'), 'subjectAltName=DNS:mail.example.com,IP:127.0.0.1\n');
  t.is(sh('openssl x509 -req -in ip.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 -extfile ip.ext -out ip.crt 2>&1').status, 0);
  const ip = sh('openssl verify -CAfile ca.crt ip.crt 2>&1');
  t.not(ip.status, 0);
  t.regex(ip.stdout, /excluded subtree violation/);
});

test('local CA: a name no longer served (a domain removed) leaves the server certificate too (found by a break-it session)', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mailctl-ca-'));
  const names = ['autoconfig.example.test', 'autoconfig.other.test'];
  const both = ensureLocalCa(dir, 'p', 'mail.example.test', false, 'example.test', names);
  const one = ensureLocalCa(dir, 'p', 'mail.example.test', false, 'example.test', names.slice(0, 1));
  t.not(one.server.certPem, both.server.certPem);
  t.is(new X509Certificate(one.server.certPem).subjectAltName, 'DNS:mail.example.test, DNS:autoconfig.example.test');
});
