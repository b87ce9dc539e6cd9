/** CERT_MODE=manual: the certificate comes from certs/<hostname>/ on the host; replacing it and `renew` serves the new one. */
import test from 'ava';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { issueCertificate } from '../../src/certs/selfsigned.js';
import { dumpLogs, mailctl, portsFrom, removeProject, siteWithEnv } from '../helpers/e2e.js';

const PROJECT = 'mctest5';
const HOSTNAME = 'mail.example.test';
const site = siteWithEnv({ MAIL_DOMAIN: 'example.test', CERT_MODE: 'manual', MAILCTL_PROJECT: PROJECT, MAIL_BIND: '127.0.0.1', ...portsFrom(23000) });
const dir = join(site, 'certs', HOSTNAME);

function writePair(names: string[]): void {
  const key = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'privkey.pem'), key, { mode: 0o600 });
  writeFileSync(join(dir, 'fullchain.pem'), issueCertificate({ subjectCN: names[0], keyPem: key, days: 90, ca: false, dnsNames: names }));
}

const status = async () => JSON.parse((await mailctl(site, ['status', '--json'])).stdout);

test.before(() => removeProject(PROJECT));
test.after.always(() => removeProject(PROJECT));
test.afterEach.always(async (t) => {
  if (!t.passed) t.log(await dumpLogs([`dev.mailctl.project=${PROJECT}`]));
});

test.serial('a missing or wrong manual certificate is a clear error, and nothing starts', async (t) => {
  const missing = await mailctl(site, ['up'], undefined, { MAILCTL_DEBUG: '' });
  t.is(missing.code, 2, 'a configuration problem');
  t.regex(missing.stderr, /CERT_MODE=manual but .*fullchain\.pem or .*privkey\.pem is missing/);
  writePair(['other.example.test']);
  const wrong = await mailctl(site, ['up'], undefined, { MAILCTL_DEBUG: '' });
  t.is(wrong.code, 2, 'a configuration problem');
  t.regex(wrong.stderr, /does not name mail\.example\.test \(MAIL_HOSTNAME\)/);
});

test.serial('replacing the files and running renew (or up) serves the new certificate', async (t) => {
  writePair([HOSTNAME]);
  const up = await mailctl(site, ['up']);
  t.is(up.code, 0, up.stderr);
  const first = await status();
  t.is(first.served.serial, first.certificate.serial);

  writePair([HOSTNAME]);
  const renewed = await mailctl(site, ['renew', '--json']);
  t.is(renewed.code, 0, renewed.stderr);
  const result = JSON.parse(renewed.stdout);
  t.true(result.renewed);
  t.deepEqual(result.restarted, [`${PROJECT}-chasquid`]);
  t.deepEqual(result.reloaded, [`${PROJECT}-dovecot`], 'dovecot serves the new one after SIGHUP, without a restart');
  const second = await status();
  t.not(second.served.serial, first.served.serial);
  t.is(second.served.serial, result.after.serial);

  writePair([HOSTNAME]);
  const again = await mailctl(site, ['up']);
  t.is(again.code, 0, again.stderr);
  t.regex(again.stderr, /restarting mctest5-chasquid \(new certificate\)/);
  const third = await status();
  t.not(third.served.serial, second.served.serial);
  t.is(third.served.serial, third.certificate.serial);
});
