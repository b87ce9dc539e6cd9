/**
 * Operations on a running stack with real parts: backup and restore (into a
 * second project, read back over IMAPS by Python's imaplib), doctor against
 * a real DNS server (dnsmasq) with a listed and an unlisted address, upgrade
 * with mail sent in a loop throughout, and a compose export run by
 * docker-compose itself.
 */
import test from 'ava';
import { parse as parseDotenv } from 'dotenv';
import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DnsRecord } from '../../src/dns/records.js';
import { dnsmasqZone, docker, dumpLogs, gatewayOf, mailctl, portsFrom, removeProject, rig, ROOT, run, show, siteWithEnv, sleep } from '../helpers/e2e.js';

const PROJECT = 'mctest9';
const RESTORED = 'mctest9r';
const COMPOSED = 'mctest9c';
const DNS_IP = '172.29.61.53';
const DOMAIN = 'ops.test';
const LISTED = '198.51.100.7';
const UNLISTED = '198.51.100.8';
const CHASQUID = `${PROJECT}-chasquid`;
const DOVECOT = `${PROJECT}-dovecot`;
const USERS: Record<string, string> = { 'ann@ops.test': 'ann-pass-123', 'bob@ops.test': 'bob-pass-456', 'cy@ops.test': 'cy-pass-7890' };

const zoneDir = mkdtempSync(join(tmpdir(), 'mailctl-zone-'));
const site = siteWithEnv({
  MAIL_DOMAIN: DOMAIN, CERT_MODE: 'selfsigned', MAILCTL_PROJECT: PROJECT, MAIL_BIND: gatewayOf('172.29.61.0/24'), MAIL_IPV4: LISTED,
  MAIL_SUBNET: '172.29.61.0/24', MAIL_DNS: DNS_IP, DNSBL_ZONES: 'bl.test,other-bl.test',
});
const restoredSite = siteWithEnv({ MAIL_DOMAIN: DOMAIN, CERT_MODE: 'selfsigned', MAILCTL_PROJECT: RESTORED, MAIL_BIND: '127.0.0.1', ...portsFrom(31000) });
const composeSite = siteWithEnv({ MAIL_DOMAIN: 'composed.test', CERT_MODE: 'selfsigned', MAILCTL_PROJECT: COMPOSED, MAIL_BIND: '127.0.0.1', ...portsFrom(32000) });
const { compose, tester } = rig({ project: PROJECT, dnsIp: DNS_IP, caDir: join(site, 'certs', PROJECT), DNS_ZONE_DIR: zoneDir });
const cli = (args: string[], stdin?: string, env: NodeJS.ProcessEnv = {}) => mailctl(site, args, stdin, { MAILCTL_DEBUG: '', ...env });
const send = (to: string, subject: string) => tester(['swaks', '--server', CHASQUID, '--from', 'x@sender.test', '--to', to, '--header', `Subject: ${subject}`, '--body', 'hello\nEND-OF-MESSAGE']);

/** Python's imaplib on this host, over IMAPS to a published port: the subjects in INBOX, each message checked complete. */
async function imapSubjects(port: number, user: string, password: string, ca: string): Promise<{ code: number; subjects: string[]; incomplete: number; out: string }> {
  const script = `
import imaplib, ssl, sys, json, email
ctx = ssl.create_default_context(cafile=sys.argv[2]); ctx.check_hostname = False
c = imaplib.IMAP4_SSL("127.0.0.1", int(sys.argv[1]), ssl_context=ctx)
c.login(sys.argv[3], sys.stdin.readline().rstrip("\\n"))
c.select("INBOX", readonly=True)
subjects, incomplete = [], 0
for num in c.search(None, "ALL")[1][0].split():
    msg = email.message_from_bytes(c.fetch(num, "(RFC822)")[1][0][1])
    subjects.append(msg["Subject"])
    if "END-OF-MESSAGE" not in msg.get_payload(): incomplete += 1
print(json.dumps({"subjects": subjects, "incomplete": incomplete}))
`;
  const r = await run('python3', ['-c', script, String(port), ca, user], { stdin: `${password}\n` });
  const parsed = r.code === 0 ? JSON.parse(r.stdout) : { subjects: [], incomplete: 0 };
  return { code: r.code, ...parsed, out: show(r) };
}

const dkimKey = async (container: string) =>
  createHash('sha256').update((await run('docker', ['exec', container, 'cat', `/var/lib/chasquid/domains/${DOMAIN}/dkim:mail.pem`])).stdout).digest('hex');

/** Subjects with PREFIX in a user's Maildir, read in the dovecot container. */
async function deliveredSubjects(container: string, user: string, prefix: string): Promise<Set<string>> {
  const r = await run('docker', ['exec', container, 'sh', '-c', `grep -rh '^Subject: ${prefix}-' /var/mail/${DOMAIN}/${user}/Maildir 2>/dev/null || true`]);
  return new Set(r.stdout.split('\n').map((l) => l.replace(/^Subject: /, '').trim()).filter(Boolean));
}

test.before(async () => {
  for (const p of [PROJECT, RESTORED, COMPOSED]) await removeProject(p);
  const up = await cli(['up']);
  if (up.code !== 0) throw new Error(show(up));
  const rigUp = await compose(['up', '-d', '--build', 'dns', 'tester']);
  if (rigUp.code !== 0) throw new Error(show(rigUp));
  for (const [user, password] of Object.entries(USERS)) {
    const added = await cli(['add-user', user, '--password-stdin'], `${password}\n`);
    if (added.code !== 0) throw new Error(show(added));
  }
});
test.after.always(async () => {
  await run('docker-compose', ['-f', join(composeSite, 'compose.yml'), '-p', COMPOSED, 'down']);
  await compose(['down', '--volumes', '--remove-orphans']);
  for (const p of [PROJECT, RESTORED, COMPOSED]) await removeProject(p);
});
test.afterEach.always(async (t) => {
  if (!t.passed) t.log(await dumpLogs([`dev.mailctl.project=${PROJECT}`, `dev.mailctl.project=${RESTORED}`, `dev.mailctl.project=${COMPOSED}`, 'dev.mailctl.rig=true']));
});

test.serial('backup while mail arrives, restore into another project: every message, login and DKIM key comes back', async (t) => {
  for (const user of Object.keys(USERS)) {
    for (const n of [1, 2]) t.is((await send(user, `before-backup-${n}`)).code, 0);
  }
  for (const user of Object.keys(USERS)) {
    t.is((await tester(['mailcheck', 'fetch', 'imaps', DOVECOT, user, 'before-backup-2'], `${USERS[user]}\n`)).code, 0);
  }
  // Mail keeps arriving while the archive is made.
  const loop = tester(['mailcheck', 'sendloop', CHASQUID, '25', 'ann@ops.test', 'during-backup', '/tmp/stop-backup-loop']);
  await sleep(1500);
  const file = join(mkdtempSync(join(tmpdir(), 'mailctl-backup-')), 'ops.tar.gz');
  const made = await cli(['backup', file, '--json']);
  t.is(made.code, 0, show(made));
  const result = JSON.parse(made.stdout);
  t.log(`backup: ${result.bytes} bytes in ${result.seconds} s (services paused ${result.pausedSeconds} s, of which ${result.freezeSeconds} s to freeze them)`);
  t.is(statSync(file).mode & 0o777, 0o600, 'the archive holds keys: owner-only');
  await sleep(1500);
  await tester(['touch', '/tmp/stop-backup-loop']);
  const accepted = JSON.parse((await loop).stdout).accepted as number[];
  t.true(accepted.length > 5, `the loop kept sending during the backup (${accepted.length})`);
  await sleep(3000);
  const arrived = await deliveredSubjects(DOVECOT, 'ann', 'during-backup');
  t.deepEqual([...arrived].sort(), accepted.map((i) => `during-backup-${i}`).sort(), 'everything accepted during the backup was delivered');

  t.is((await cli(['backup', file])).code, 2, 'an existing archive is not replaced without --force');

  // A damaged archive changes nothing.
  const damaged = join(tmpdir(), `mailctl-damaged-${process.pid}.tar.gz`);
  writeFileSync(damaged, readFileSync(file).subarray(0, 2000));
  const refused = await mailctl(restoredSite, ['restore', damaged], undefined, { MAILCTL_DEBUG: '' });
  t.is(refused.code, 2, show(refused));
  t.regex(refused.stderr, /not a complete mailctl backup.*nothing was changed/);

  const restored = await mailctl(restoredSite, ['restore', file, '--json'], undefined, { MAILCTL_DEBUG: '' });
  t.is(restored.code, 0, show(restored));
  t.log(`restore: ${JSON.parse(restored.stdout).seconds} s, ${JSON.parse(restored.stdout).messages} messages`);
  const ca = join(site, 'certs', PROJECT, 'ca.crt');
  for (const [user, password] of Object.entries(USERS)) {
    const box = await imapSubjects(31993, user, password, ca);
    t.is(box.code, 0, `login of ${user} on the restored stack: ${box.out}`);
    t.true(box.subjects.includes('before-backup-1') && box.subjects.includes('before-backup-2'), `${user}: ${box.subjects.join(', ')}`);
    t.is(box.incomplete, 0, `${user}: no half-written message`);
  }
  const annBox = await imapSubjects(31993, 'ann@ops.test', USERS['ann@ops.test'], ca);
  const loopInBackup = annBox.subjects.filter((s) => s.startsWith('during-backup-'));
  t.true(loopInBackup.every((s) => accepted.includes(Number(s.split('-').pop()))), 'only accepted messages');
  t.is(await dkimKey(`${RESTORED}-chasquid`), await dkimKey(CHASQUID), 'the DKIM key is the same');

  const again = await mailctl(restoredSite, ['restore', file], undefined, { MAILCTL_DEBUG: '' });
  t.is(again.code, 2);
  t.regex(again.stderr, /already has data \(3 user\(s\), mail\).*--force/);
  t.is((await mailctl(restoredSite, ['restore', file, '--force'], undefined, { MAILCTL_DEBUG: '' })).code, 0, 'with --force it replaces');
  await removeProject(RESTORED);

  // A new host: an empty directory. The backup's .env becomes the site's (the environment
  // still overrides it: here, another project name, ports and subnet, as the source still runs).
  const newHost = mkdtempSync(join(tmpdir(), 'mailctl-newhost-'));
  const overrides = { MAILCTL_PROJECT: RESTORED, MAIL_SUBNET: '172.29.62.0/24', MAIL_BIND: '127.0.0.1', ...portsFrom(31000), MAILCTL_DEBUG: '' };
  const fresh = await mailctl(newHost, ['restore', file], undefined, overrides);
  t.is(fresh.code, 0, show(fresh));
  const restoredEnv = parseDotenv(readFileSync(join(newHost, '.env'), 'utf8'));
  const { MAIL_DNS: resolvers, ...rest } = parseDotenv(readFileSync(join(site, '.env'), 'utf8'));
  t.deepEqual(restoredEnv, rest, 'the configuration came with the backup...');
  t.is(resolvers, DNS_IP);
  t.regex(fresh.stderr, new RegExp(`not adopted from the backup: MAIL_DNS=${DNS_IP.replace(/\./g, '\\.')} \\(security-relevant`), '...less what chooses whom the stack trusts, named');
  const cy = await imapSubjects(31993, 'cy@ops.test', USERS['cy@ops.test'], ca);
  t.true(cy.subjects.includes('before-backup-2'), cy.out);
  await removeProject(RESTORED);
});

test.serial('doctor: all ok for an unlisted address with correct DNS; fails for a listed one and a stopped service', async (t) => {
  const records = JSON.parse((await cli(['dns', '--json'])).stdout) as DnsRecord[];
  // host-record also answers the PTR; the second address is the unlisted one, named the same.
  writeFileSync(join(zoneDir, 'zone.conf'), `${dnsmasqZone(records)}host-record=mail.${DOMAIN},${UNLISTED}\naddress=/${LISTED.split('.').reverse().join('.')}.bl.test/127.0.0.2\n`);
  await compose(['restart', 'dns']);

  const listed = await cli(['doctor', '--resolver', DNS_IP, '--json']);
  t.is(listed.code, 1, show(listed));
  const byName = (out: string) => Object.fromEntries((JSON.parse(out).checks as { name: string; status: string }[]).map((c) => [c.name, c.status]));
  const l = byName(listed.stdout);
  t.is(l['blocklist bl.test'], 'fail');
  t.is(l['blocklist other-bl.test'], 'ok');
  t.is(l[`reverse DNS of ${LISTED} (MAIL_IPV4)`], 'ok');

  const clean = await cli(['doctor', '--resolver', DNS_IP, '--json'], undefined, { MAIL_IPV4: UNLISTED });
  t.is(clean.code, 0, show(clean));
  const c = byName(clean.stdout);
  for (const name of ['docker engine', 'service chasquid', 'service dovecot', 'port 25 (MAIL_PORT_SMTP) on IPv4', 'port 993 (MAIL_PORT_IMAPS) on IPv4',
    'certificate expiry', 'certificate served by chasquid (port 465)', 'certificate served by dovecot (port 993)', `dns MX ${DOMAIN}.`, `dns TXT mail._domainkey.${DOMAIN}.`, `reverse DNS of ${UNLISTED} (MAIL_IPV4)`, 'blocklist bl.test']) {
    t.is(c[name], 'ok', name);
  }
  t.true(Object.values(c).every((s) => s === 'ok'), clean.stdout);

  const human = await cli(['doctor', '--resolver', DNS_IP]);
  t.regex(human.stdout, /^FAIL\s+blocklist bl\.test\s+198\.51\.100\.7 is listed \(127\.0\.0\.2\)\n\s+fix: /m);

  await docker.getContainer(DOVECOT).stop();
  const stopped = await cli(['doctor', '--resolver', DNS_IP, '--json'], undefined, { MAIL_IPV4: UNLISTED });
  t.is(stopped.code, 1);
  const s = byName(stopped.stdout);
  t.is(s['service dovecot'], 'fail');
  t.is(s['port 993 (MAIL_PORT_IMAPS) on IPv4'], 'fail');
  t.is(s['service chasquid'], 'ok');
  t.is((await cli(['up'])).code, 0);
});

test.serial('upgrade: new images, containers replaced one at a time, mail sent throughout all delivered', async (t) => {
  const before = {
    dovecot: (await docker.getContainer(DOVECOT).inspect()).Image,
    chasquid: (await docker.getContainer(CHASQUID).inspect()).Image,
  };
  const loop = tester(['mailcheck', 'sendloop', CHASQUID, '25', 'bob@ops.test', 'during-upgrade', '/tmp/stop-upgrade-loop']);
  const probe = tester(['mailcheck', 'probe', '/tmp/stop-upgrade-loop', `${CHASQUID}:25`, `${DOVECOT}:143`]);
  await sleep(1000);
  const started = Date.now();
  const upgraded = await cli(['upgrade']);
  t.is(upgraded.code, 0, show(upgraded));
  t.log(`upgrade took ${((Date.now() - started) / 1000).toFixed(0)} s`);
  t.regex(upgraded.stderr, /recreate\s+mctest9-dovecot[\s\S]*mctest9-dovecot is healthy[\s\S]*recreate\s+mctest9-chasquid/, 'one at a time');
  // It said "every container was already on the new images" after replacing them (its summary was the plan made before the build).
  t.regex(upgraded.stdout, /upgraded in \d+ s: replaced .*mctest9-dovecot.*mctest9-chasquid/, show(upgraded));
  await sleep(2000);
  await tester(['touch', '/tmp/stop-upgrade-loop']);
  const sent = JSON.parse((await loop).stdout) as { accepted: number[]; failed_attempts: number };
  const gaps = JSON.parse((await probe).stdout) as Record<string, { longest_ms: number }>;
  t.log(`loop: ${sent.accepted.length} accepted, ${sent.failed_attempts} attempts refused; longest refused: SMTP ${gaps[`${CHASQUID}:25`].longest_ms} ms, IMAP ${gaps[`${DOVECOT}:143`].longest_ms} ms`);
  t.not((await docker.getContainer(DOVECOT).inspect()).Image, before.dovecot, 'dovecot runs a new image');
  t.not((await docker.getContainer(CHASQUID).inspect()).Image, before.chasquid, 'chasquid runs a new image');

  const want = sent.accepted.map((i) => `during-upgrade-${i}`);
  let arrived = new Set<string>();
  for (const deadline = Date.now() + 120_000; Date.now() < deadline; await sleep(2000)) {
    arrived = await deliveredSubjects(DOVECOT, 'bob', 'during-upgrade');
    if (want.every((s) => arrived.has(s))) break;
  }
  t.deepEqual(want.filter((s) => !arrived.has(s)), [], 'every accepted message was delivered');
  t.true(want.length > 10);
  for (const [user, password] of Object.entries(USERS)) {
    t.is((await tester(['mailcheck', 'login', 'imaps', DOVECOT, user], `${password}\n`)).code, 0, `${user} still logs in`);
  }
});

test.serial('up --rolling: a replacement that does not come up is rolled back, and the old container serves again', async (t) => {
  const before = (await docker.getContainer(DOVECOT).inspect()).Image;
  // The same images, but a dovecot whose new container exits at once.
  const broken = mkdtempSync(join(tmpdir(), 'mailctl-images-'));
  cpSync(join(ROOT, 'images'), broken, { recursive: true });
  const dockerfile = join(broken, 'dovecot/Dockerfile');
  const original = readFileSync(dockerfile, 'utf8');
  const exitsAtOnce = original.replace(/^CMD \[.*\]$/m, 'CMD ["false"]');
  t.not(exitsAtOnce, original, 'the Dockerfile has a CMD line to replace');
  writeFileSync(dockerfile, exitsAtOnce);
  const failed = await cli(['up', '--rolling'], undefined, { MAILCTL_IMAGES_DIR: broken });
  t.is(failed.code, 1, show(failed));
  t.regex(failed.stderr, /rolling back to the container it replaced/);
  t.regex(failed.stderr, /mailctl: mctest9-dovecot was rolled back: mctest9-dovecot stopped while starting/);
  t.is((await docker.getContainer(DOVECOT).inspect()).Image, before, 'the old container is back under its name');
  t.is((await tester(['mailcheck', 'login', 'imaps', DOVECOT, 'ann@ops.test'], `${USERS['ann@ops.test']}\n`)).code, 0);
  const plan = await cli(['up', '--dry-run', '--json']);
  t.deepEqual(JSON.parse(plan.stdout).steps.filter((s: { kind: string }) => s.kind === 'container').map((s: { action: string }) => s.action), ['keep', 'keep', 'keep', 'keep'], 'nothing else was left behind');
});

test.serial('compose export: docker-compose accepts it, runs the same stack, and it delivers mail', async (t) => {
  const file = join(composeSite, 'compose.yml');
  const made = await mailctl(composeSite, ['compose', '-o', file], undefined, { MAILCTL_DEBUG: '' });
  t.is(made.code, 0, show(made));
  const config = await run('docker-compose', ['-f', file, 'config']);
  t.is(config.code, 0, show(config));
  t.regex(config.stdout, /container_name: mctest9c-chasquid/);
  const started = await run('docker-compose', ['-f', file, '-p', COMPOSED, 'up', '-d']);
  t.is(started.code, 0, show(started));
  for (const deadline = Date.now() + 90_000; Date.now() < deadline; await sleep(1000)) {
    const states = await Promise.all(['dovecot', 'chasquid'].map(async (s) => (await docker.getContainer(`${COMPOSED}-${s}`).inspect()).State.Health?.Status));
    if (states.every((s) => s === 'healthy')) break;
  }
  const plan = await mailctl(composeSite, ['up', '--dry-run', '--json'], undefined, { MAILCTL_DEBUG: '' });
  // The same mail containers; the guard is not in a compose file (it needs their log paths): up would add it.
  t.deepEqual(JSON.parse(plan.stdout).steps.filter((s: { kind: string }) => s.kind === 'container').map((s: { service: string; action: string }) => [s.service, s.action]),
    [['dovecot', 'keep'], ['chasquid', 'keep'], ['web', 'keep'], ['guard', 'create']], 'mailctl sees the same stack it would make');
  const records = JSON.parse((await mailctl(composeSite, ['dns', '--json'])).stdout) as DnsRecord[];
  t.true(records.some((r) => r.name === 'mail._domainkey.composed.test.' && r.value?.startsWith('v=DKIM1;')), 'the domain has its DKIM key from the start');

  t.is((await mailctl(composeSite, ['add-user', 'dee@composed.test', '--password-stdin'], 'dee-pass-1234\n')).code, 0);
  const sent = await run('swaks', ['--server', '127.0.0.1', '--port', '32025', '--from', 'x@sender.test', '--to', 'dee@composed.test',
    '--header', 'Subject: via-compose', '--body', 'hello\nEND-OF-MESSAGE']);
  t.is(sent.code, 0, show(sent));
  let box = { subjects: [] as string[], code: 1, incomplete: 0, out: '' };
  for (const deadline = Date.now() + 30_000; Date.now() < deadline && !box.subjects.includes('via-compose'); await sleep(500)) {
    box = await imapSubjects(32993, 'dee@composed.test', 'dee-pass-1234', join(composeSite, 'certs', COMPOSED, 'ca.crt'));
  }
  t.true(box.subjects.includes('via-compose'), box.out);
});
