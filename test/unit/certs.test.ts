import test from 'ava';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { summarizeCertificate } from '../../src/certs/install.js';
import { ensureLocalCa, isUsable } from '../../src/certs/selfsigned.js';

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
  const first = ensureLocalCa(dir, 'p', 'mail.example.test');
  const again = ensureLocalCa(dir, 'p', 'mail.example.test');
  t.is(again.server.certPem, first.server.certPem);
  const renamed = ensureLocalCa(dir, 'p', 'mx.example.test');
  t.not(renamed.server.certPem, first.server.certPem);
  t.is(new X509Certificate(renamed.server.certPem).checkHost('mx.example.test'), 'mx.example.test');
  t.is(readFileSync(renamed.caCertPath, 'utf8'), readFileSync(first.caCertPath, 'utf8'));
});
