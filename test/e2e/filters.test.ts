/**
 * SpamAssassin and ClamAV as the how-to's optional software, in containers of
 * their own: GTUBE and EICAR refused, clean mail delivered with its score, and
 * a scanner that is down never makes chasquid refuse good mail for good.
 */
import test from 'ava';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { docker, dumpLogs, gatewayOf, hardeningProblems, mailctl, removeProject, run, siteWithEnv, type RunResult, rig, show } from '../helpers/e2e.js';

const PROJECT = 'mctest8';
const DNS_IP = '172.29.59.53';
const CHASQUID = `${PROJECT}-chasquid`;
const DOVECOT = `${PROJECT}-dovecot`;
const GTUBE = 'XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X';
const EICAR = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*';
// Tests cannot reach ClamAV's mirrors: a one-line database of our own that knows EICAR (md5:size:name).
const EICAR_DB = '44d88612fea8a8f36de82e1278abb02f:68:Eicar-Test-Signature\n';

const env = {
  MAIL_DOMAIN: 'example.test', CERT_MODE: 'selfsigned', MAILCTL_PROJECT: PROJECT, MAIL_BIND: gatewayOf('172.29.59.0/24'),
  MAIL_SUBNET: '172.29.59.0/24', MAIL_DNS: DNS_IP, SPAMASSASSIN: 'on', CLAMAV: 'on',
};
const site = siteWithEnv(env);
const { compose, tester } = rig({ project: PROJECT, dnsIp: DNS_IP, caDir: join(site, 'certs', PROJECT) });
const swaks = (subject: string, extra: string[] = []) =>
  tester(['swaks', '--timeout', '90', '--server', CHASQUID, '--from', 'x@sender.test', '--to', 'u@example.test', '--header', `Subject: ${subject}`, ...extra]);
/** The server's answer to the end of DATA. */
const dataReply = (r: RunResult) => /-> \.\r?\n<(?:-|\*\*)\s+(\d{3}[^\n]*)/.exec(r.stdout)?.[1] ?? `no reply to DATA: ${show(r)}`;
const memoryMiB = async (name: string) => ((await docker.getContainer(name).stats({ stream: false })).memory_stats.usage / 2 ** 20).toFixed(0);

test.before(async () => {
  await removeProject(PROJECT);
  // The signature volume, made before `up` (which then keeps it), holding the test database.
  await docker.createVolume({ Name: `${PROJECT}-clamav-db`, Labels: { 'dev.mailctl.managed': 'true', 'dev.mailctl.project': PROJECT, 'dev.mailctl.volume': 'clamav-db' } });
  const write = await run('docker', ['run', '--rm', '-i', '-v', `${PROJECT}-clamav-db:/db`, 'debian:trixie-slim', 'sh', '-c', 'cat > /db/mailctl-test-eicar.hdb'], { stdin: EICAR_DB });
  if (write.code !== 0) throw new Error(show(write));
});
test.after.always(async () => {
  await compose(['down', '--volumes', '--remove-orphans']);
  await removeProject(PROJECT);
});
test.afterEach.always(async (t) => {
  if (!t.passed) t.log(await dumpLogs([`dev.mailctl.project=${PROJECT}`, 'dev.mailctl.rig=true']));
});

test.serial('up with both filters: scanners healthy; status shows the filters', async (t) => {
  const started = Date.now();
  const up = await mailctl(site, ['up']);
  t.is(up.code, 0, show(up));
  t.log(`up with filters (images built before): ${((Date.now() - started) / 1000).toFixed(1)}s`);
  for (const line of up.stderr.split('\n').filter((l) => /is healthy/.test(l))) t.log(line.trim());
  const status = JSON.parse((await mailctl(site, ['status', '--json'])).stdout);
  t.deepEqual(status.filters, { spamassassin: true, clamav: true });
  t.deepEqual(status.services.map((s: { service: string }) => s.service), ['chasquid', 'clamav', 'dovecot', 'guard', 'spamassassin', 'web']);
  t.deepEqual((await hardeningProblems(PROJECT)).problems, [], 'the scanners too: capabilities, no-new-privileges, limits, log rotation');
  t.log(`idle memory: spamassassin ${await memoryMiB(`${PROJECT}-spamassassin`)} MiB, clamav ${await memoryMiB(`${PROJECT}-clamav`)} MiB (test database)`);
  t.is((await compose(['up', '-d', '--build', 'dns', 'tester'])).code, 0);
  t.is((await mailctl(site, ['add-user', 'u@example.test', '--password-stdin'], 'filter-user-1\n')).code, 0);
});

test.serial('GTUBE is refused with a 5xx at DATA', async (t) => {
  const r = await swaks('gtube', ['--body', `This is spam.\n${GTUBE}\n`]);
  t.regex(dataReply(r), /^5\d\d .*spam detected/);
});

test.serial('EICAR attached is refused with a 5xx', async (t) => {
  t.is((await tester(['sh', '-c', 'cat > /tmp/eicar.com'], EICAR)).code, 0);
  const r = await swaks('eicar', ['--attach', '@/tmp/eicar.com']);
  t.regex(dataReply(r), /^5\d\d .*virus detected: .*Eicar/i);
});

test.serial('clean mail is delivered with its spam score and scan headers', async (t) => {
  const r = await swaks('clean-mail', ['--body', 'Hello, this is a normal message about lunch on Friday.']);
  t.regex(dataReply(r), /^250 /);
  const got = await tester(['mailcheck', 'fetch', 'imaps', DOVECOT, 'u@example.test', 'clean-mail'], 'filter-user-1\n');
  t.is(got.code, 0, show(got));
  t.regex(got.stdout, /^X-Spam-Score: -?[\d.]+\/5\.0$/m);
  t.regex(got.stdout, /^X-Virus-Scanned: ClamAV \(mailctl\)$/m);
});

test.serial('a scanner that is down never refuses good mail for good', async (t) => {
  await docker.getContainer(`${PROJECT}-clamav`).stop();
  const deferred = await swaks('clamav-down');
  t.regex(dataReply(deferred), /^4\d\d /, 'clamd down: deferred, the sender retries');
  await docker.getContainer(`${PROJECT}-clamav`).start();

  await docker.getContainer(`${PROJECT}-spamassassin`).stop();
  const passed = await swaks('spamd-down');
  t.regex(dataReply(passed), /^250 /, 'spamd down: passed');
  const got = await tester(['mailcheck', 'fetch', 'imaps', DOVECOT, 'u@example.test', 'spamd-down'], 'filter-user-1\n');
  t.regex(got.stdout, /^X-Spam-Status: unchecked \(spamd unavailable\)$/m);
  await docker.getContainer(`${PROJECT}-spamassassin`).start();
});

test.serial('turning ClamAV off removes only its container and reconfigures chasquid', async (t) => {
  writeFileSync(join(site, '.env'), Object.entries({ ...env, CLAMAV: 'off' }).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
  const plan = await mailctl(site, ['up', '--dry-run', '--json']);
  const steps = JSON.parse(plan.stdout).steps.filter((s: { kind: string }) => s.kind === 'container').map((s: { action: string; service: string; reason: string }) => [s.action, s.service, s.reason]);
  t.deepEqual(steps, [['keep', 'dovecot', 'up to date'], ['recreate', 'chasquid', 'files changed'], ['keep', 'spamassassin', 'up to date'], ['keep', 'web', 'up to date'], ['remove', 'clamav', 'no longer part of the stack'], ['recreate', 'guard', 'chasquid log moves']]);
  const up = await mailctl(site, ['up']);
  t.is(up.code, 0, show(up));
  const status = JSON.parse((await mailctl(site, ['status', '--json'])).stdout);
  t.deepEqual(status.filters, { spamassassin: true, clamav: false });
  t.deepEqual(status.services.map((s: { service: string }) => s.service), ['chasquid', 'dovecot', 'guard', 'spamassassin', 'web']);
  const hook = await run('docker', ['exec', CHASQUID, 'cat', '/etc/chasquid/hooks/post-data']);
  t.notRegex(hook.stdout, /clamd/);
  t.regex(hook.stdout, /spamc/);
  await compose(['up', '-d']); // the tester rejoins nothing: the network stayed
  const r = await swaks('after-clamav-off');
  t.regex(dataReply(r), /^250 /);
});
