/**
 * The stack as users run it: `mailctl up` makes it, the compose rig (compose/)
 * runs next to it with its own DNS server and a tester holding real clients
 * (swaks, imaplib/poplib, openssl s_client). Ordered checks, one stack.
 */
import test from 'ava';
import { join } from 'node:path';
import { dumpLogs, docker, gatewayOf, mailctl, removeProject, run, siteWithEnv, type RunResult, rig, show } from '../helpers/e2e.js';

const PROJECT = 'mctest3';
const SUBNET = '172.29.53.0/24';
const DNS_IP = '172.29.53.53';
const DOMAIN = 'example.test';
const HOSTNAME = `mail.${DOMAIN}`;
const CHASQUID = `${PROJECT}-chasquid`;
const DOVECOT = `${PROJECT}-dovecot`;
const PASSWORD = 'alice-secret-1';

const site = siteWithEnv({
  MAIL_DOMAIN: DOMAIN, CERT_MODE: 'selfsigned', MAILCTL_PROJECT: PROJECT, MAIL_BIND: gatewayOf(SUBNET),
  MAIL_SUBNET: SUBNET, MAIL_DNS: DNS_IP,
});
const { compose, tester } = rig({ project: PROJECT, dnsIp: DNS_IP, caDir: join(site, 'certs', PROJECT) });
const swaks = (args: string[]) => tester(['swaks', '--timeout', '20', ...args]);

async function mustMailctl(args: string[], stdin?: string): Promise<RunResult> {
  const r = await mailctl(site, args, stdin);
  if (r.code !== 0) throw new Error(`mailctl ${args.join(' ')} failed: ${show(r)}`);
  return r;
}

async function expectMail(t: import('ava').ExecutionContext, proto: string, user: string, password: string, subject: string): Promise<string> {
  const r = await tester(['mailcheck', 'fetch', proto, proto.startsWith('imap') ? DOVECOT : DOVECOT, user, subject], `${password}\n`);
  t.is(r.code, 0, `${proto} ${user} "${subject}": ${show(r)}`);
  return r.stdout;
}

test.before(async () => {
  await removeProject(PROJECT);
  await compose(['down', '--volumes', '--remove-orphans']);
});

test.after.always(async () => {
  await compose(['down', '--volumes', '--remove-orphans']);
  await removeProject(PROJECT);
});

test.afterEach.always(async (t) => {
  if (!t.passed) t.log(await dumpLogs([`dev.mailctl.project=${PROJECT}`, 'dev.mailctl.rig=true']));
});

/** What the engine has (containers, volumes, networks, images) and what the site directory holds. */
async function engineAndSite(): Promise<string> {
  const ids = async (args: string[]) => (await run('docker', args)).stdout.split('\n').filter(Boolean).sort().join(',');
  const files = await run('find', [site]);
  return [await ids(['ps', '-aq', '--no-trunc']), await ids(['volume', 'ls', '-q']), await ids(['network', 'ls', '-q']), await ids(['images', '-q', '--no-trunc']), files.stdout].join('\n');
}

test.serial('up --dry-run of a new project names what it would make, and changes neither the engine nor the disk', async (t) => {
  const before = await engineAndSite();
  const r = await mustMailctl(['up', '--dry-run', '--json']);
  t.is(await engineAndSite(), before, 'no container, volume, network, image or file made');
  const steps: { kind: string; action: string; name: string }[] = JSON.parse(r.stdout).steps;
  const made = (kind: string) => steps.filter((s) => s.kind === kind && s.action !== 'keep').map((s) => s.name);
  t.deepEqual(made('network'), [`${PROJECT}-net`]);
  t.deepEqual(made('volume').sort(), ['acme-challenge', 'certs', 'chasquid-state', 'dovecot-sockets', 'guard-state', 'mail', 'users', 'web-site'].map((v) => `${PROJECT}-${v}`));
  t.deepEqual(made('container'), [DOVECOT, CHASQUID, `${PROJECT}-web`, `${PROJECT}-guard`]);
  t.deepEqual(steps.filter((s) => s.kind === 'image').map((s) => s.name.replace(/:.*/, '')), ['mailctl/chasquid', 'mailctl/dovecot', 'mailctl/guard', 'mailctl/web']);
  t.deepEqual(made('certificate'), [`certificate for ${HOSTNAME}`]);
});

test.serial('up makes a healthy stack with zero accounts; the rig starts next to it', async (t) => {
  const r = await mustMailctl(['up']);
  t.regex(r.stdout, /mail server for example\.test is up/);
  t.regex(r.stdout, new RegExp(`clients trust .*certs/${PROJECT}/ca\\.crt`));
  for (const name of [CHASQUID, DOVECOT]) {
    const info = await docker.getContainer(name).inspect();
    t.is(info.State.Status, 'running', name);
    t.not(info.Config.Hostname, HOSTNAME, 'MAIL_HOSTNAME is never a container hostname');
  }
  const rig = await compose(['up', '-d', '--build']);
  t.is(rig.code, 0, show(rig));
  const users = await mustMailctl(['list-users', '--json']);
  t.deepEqual(JSON.parse(users.stdout), []);
});

test.serial('a second up changes nothing and returns quickly', async (t) => {
  const started = Date.now();
  const r = await mustMailctl(['up', '--json']);
  const seconds = (Date.now() - started) / 1000;
  const result = JSON.parse(r.stdout);
  t.deepEqual(result.steps.filter((s: { kind: string }) => s.kind === 'container').map((s: { action: string }) => s.action), ['keep', 'keep', 'keep', 'keep'], 'dovecot, chasquid, the web service and the guard');
  t.deepEqual(result.steps.filter((s: { kind: string; action: string }) => s.action !== 'keep' && s.kind !== 'senders'), [], 'the whole plan: images, network, volumes, certificate, DKIM');
  t.log(`no-op up: ${seconds.toFixed(2)}s including process start`);
  t.true(seconds < 10);
});

test.serial('add-user: the password comes from stdin, is stored hashed, and works at once', async (t) => {
  await mustMailctl(['add-user', 'Alice@Example.test', '--password-stdin'], `${PASSWORD}\n`);
  await mustMailctl(['add-user', 'bob@example.test', '--password-stdin'], 'bob-secret-22\n');
  const users = JSON.parse((await mustMailctl(['list-users', '--json'])).stdout);
  t.deepEqual(users.map((u: { address: string }) => u.address), ['alice@example.test', 'bob@example.test']);
  const passwd = await run('docker', ['exec', DOVECOT, 'cat', '/etc/mailctl/users/passwd']);
  t.regex(passwd.stdout, /^alice@example\.test:\{ARGON2ID\}\$argon2id\$/m);
  t.false(passwd.stdout.includes(PASSWORD));
  const dup = await mailctl(site, ['add-user', 'alice@example.test', '--password-stdin'], 'another-pass\n');
  t.is(dup.code, 2);
  t.regex(dup.stderr, /already exists/);
  const login = await tester(['mailcheck', 'login', 'imaps', DOVECOT, 'alice@example.test'], `${PASSWORD}\n`);
  t.is(login.code, 0, show(login));
});

test.serial('a. inbound mail on 25 reaches IMAP (STARTTLS), IMAPS and POP3S', async (t) => {
  const r = await swaks(['--server', CHASQUID, '--port', '25', '--from', 'someone@sender.test', '--to', 'alice@example.test', '--header', 'Subject: inbound-a']);
  t.is(r.code, 0, show(r));
  t.regex(r.stdout, /-> \.\n<-\s+250 /, 'DATA accepted');
  for (const proto of ['imap', 'imaps', 'pop3s']) await expectMail(t, proto, 'alice@example.test', PASSWORD, 'inbound-a');
});

test.serial('b. authenticated submission on 587 (STARTTLS) and 465 (TLS) delivers', async (t) => {
  const auth = ['--auth', 'PLAIN', '--auth-user', 'bob@example.test', '--auth-password', 'bob-secret-22'];
  const on587 = await swaks(['--server', CHASQUID, '--port', '587', '-tls', ...auth, '--from', 'bob@example.test', '--to', 'alice@example.test', '--header', 'Subject: submitted-587']);
  t.is(on587.code, 0, show(on587));
  const on465 = await swaks(['--server', CHASQUID, '--port', '465', '--tls-on-connect', ...auth, '--from', 'bob@example.test', '--to', 'alice@example.test', '--header', 'Subject: submitted-465']);
  t.is(on465.code, 0, show(on465));
  await expectMail(t, 'imaps', 'alice@example.test', PASSWORD, 'submitted-587');
  await expectMail(t, 'imaps', 'alice@example.test', PASSWORD, 'submitted-465');
});

test.serial('c. a wrong password is refused; no AUTH without TLS on 587', async (t) => {
  const wrong = await swaks(['--server', CHASQUID, '--port', '587', '-tls', '--auth', 'PLAIN', '--auth-user', 'bob@example.test', '--auth-password', 'wrong-password', '--to', 'alice@example.test']);
  t.not(wrong.code, 0);
  t.regex(wrong.stdout, /AUTH PLAIN .*\n<~\* 535 /);
  const plain = await swaks(['--server', CHASQUID, '--port', '587', '--auth', 'PLAIN', '--auth-user', 'bob@example.test', '--auth-password', 'bob-secret-22', '--to', 'alice@example.test']);
  t.not(plain.code, 0);
  t.notRegex(plain.stdout, /250[- ]AUTH/, 'AUTH is not offered before STARTTLS');
});

test.serial('d. no open relay; unknown local recipients refused at RCPT', async (t) => {
  const relay = await swaks(['--server', CHASQUID, '--port', '25', '--from', 'someone@sender.test', '--to', 'victim@outside.example']);
  t.not(relay.code, 0);
  t.regex(relay.stdout, /RCPT TO:<victim@outside\.example>\n<\*\* 5\d\d /);
  const unknown = await swaks(['--server', CHASQUID, '--port', '25', '--from', 'someone@sender.test', '--to', 'nobody@example.test']);
  t.not(unknown.code, 0);
  t.regex(unknown.stdout, /RCPT TO:<nobody@example\.test>\n<\*\* 550 5\.1\.1/);
  const forged = await swaks(['--server', CHASQUID, '--port', '25', '--from', 'ceo@forged.test', '--to', 'alice@example.test']);
  t.regex(forged.stdout, /MAIL FROM:<ceo@forged\.test>\n<\*\* 550 5\.7\.23 SPF check failed/, 'SPF fail is refused, answered by the rig\'s DNS');
});

test.serial('e. IMAP LOGIN in plaintext without STARTTLS is refused', async (t) => {
  const r = await tester(['mailcheck', 'imap-plain-refused', DOVECOT, 'alice@example.test'], `${PASSWORD}\n`);
  t.is(r.code, 0, show(r));
  t.regex(r.stdout, /LOGINDISABLED/);
});

test.serial('f. the certificates on 465 and 993 chain to the local CA and name MAIL_HOSTNAME', async (t) => {
  for (const [host, port] of [[CHASQUID, '465'], [DOVECOT, '993']]) {
    const r = await tester(['openssl', 's_client', '-connect', `${host}:${port}`, '-servername', HOSTNAME, '-CAfile', '/ca/ca.crt', '-verify_hostname', HOSTNAME, '-verify_return_error', '-brief'], 'Q\n');
    t.is(r.code, 0, show(r));
    t.regex(r.stderr, /Verification: OK/, `${host}:${port}`);
    const wrongName = await tester(['openssl', 's_client', '-connect', `${host}:${port}`, '-CAfile', '/ca/ca.crt', '-verify_hostname', 'other.example.test', '-verify_return_error', '-brief'], 'Q\n');
    t.not(wrongName.code, 0, 'a wrong name does not verify');
  }
});

test.serial('g. mail accepted, then chasquid killed and started again: the mail is delivered', async (t) => {
  // Hold delivery: with dovecot's LMTP socket moved aside (auth stays up, so
  // RCPT checks pass), chasquid accepts the message and keeps it in its queue.
  const hold = await run('docker', ['exec', DOVECOT, 'mv', '/run/mailctl/lmtp', '/run/mailctl/lmtp.held']);
  t.is(hold.code, 0, show(hold));
  try {
    const r = await swaks(['--server', CHASQUID, '--port', '25', '--from', 'someone@sender.test', '--to', 'alice@example.test', '--header', 'Subject: survives-kill']);
    t.is(r.code, 0, show(r));
    const queued = await run('docker', ['exec', CHASQUID, 'sh', '-c', 'ls /var/lib/chasquid/queue | wc -l']);
    t.true(Number(queued.stdout.trim()) >= 1, `queue holds the message: ${queued.stdout}`);
    await docker.getContainer(CHASQUID).kill({ signal: 'SIGKILL' });
  } finally {
    await run('docker', ['exec', DOVECOT, 'mv', '/run/mailctl/lmtp.held', '/run/mailctl/lmtp']);
  }
  await docker.getContainer(CHASQUID).start().catch(() => {}); // the restart policy may already have
  await expectMail(t, 'imaps', 'alice@example.test', PASSWORD, 'survives-kill');
});

test.serial('a new user of a new domain works at once; chasquid restarts for the domain', async (t) => {
  const r = await mustMailctl(['add-user', 'carol@second.test', '--password-stdin'], 'carol-secret-3\n');
  t.regex(r.stdout, /added carol@second\.test \(and its new domain\)/);
  const status = JSON.parse((await mustMailctl(['status', '--json'])).stdout);
  t.deepEqual(status.domains, ['example.test', 'second.test']);
  t.is(status.users, 3);
  const sent = await swaks(['--server', CHASQUID, '--port', '587', '-tls', '--auth', 'PLAIN', '--auth-user', 'carol@second.test', '--auth-password', 'carol-secret-3', '--from', 'carol@second.test', '--to', 'carol@second.test', '--header', 'Subject: new-domain']);
  t.is(sent.code, 0, show(sent));
  await expectMail(t, 'imaps', 'carol@second.test', 'carol-secret-3', 'new-domain');
});

test.serial('a burst to one mailbox: 2000 messages over 16 sessions are all accepted and delivered, none deferred', async (t) => {
  // chasquid delivers every queued message at once; before mailctl-deliver
  // bounded that per recipient (and before the Maildir++ quota), dovecot
  // deferred the excess (451), chasquid retried minutes later and answered
  // senders 451 once its queue held 200 messages.
  const maildir = '/var/mail/example.test/bob/Maildir';
  const count = async () => Number((await run('docker', ['exec', DOVECOT, 'sh', '-c', `find ${maildir}/new ${maildir}/cur -type f 2>/dev/null | wc -l`])).stdout.trim());
  const before = await count();
  const since = String(Math.floor(Date.now() / 1000) - 1);
  // smtp-source (postfix) stops at the first refusal, so exit 0 means all 2000 got 250.
  const sent = await tester(['smtp-source', '-s', '16', '-m', '2000', '-l', '1024', '-f', 'load@sender.test', '-t', 'bob@example.test', `${CHASQUID}:25`]);
  t.is(sent.code, 0, show(sent));
  const deadline = Date.now() + 120_000;
  while ((await count()) < before + 2000 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 500));
  t.is(await count(), before + 2000, 'every accepted message is in the maildir');
  const chasquidLog = await run('docker', ['logs', '--since', since, CHASQUID]);
  t.notRegex(chasquidLog.stdout + chasquidLog.stderr, /temporary error|queue full/i);
  const dovecotLog = await run('docker', ['logs', '--since', since, DOVECOT]);
  t.notRegex(dovecotLog.stdout + dovecotLog.stderr, /Too many concurrent deliveries|Resource temporarily unavailable/);
});

test.serial('h. down then up: users and mail are still there', async (t) => {
  const before = await tester(['mailcheck', 'count', 'imaps', DOVECOT, 'alice@example.test'], `${PASSWORD}\n`);
  t.is(before.code, 0, show(before));
  const down = await mustMailctl(['down']);
  t.regex(down.stdout, /data volumes kept/);
  t.deepEqual(await docker.listContainers({ all: true, filters: { label: [`dev.mailctl.project=${PROJECT}`] } }), []);
  // The rig stays attached to the stack's network, so down keeps the network.
  t.regex(down.stderr, /network mctest3-net is kept: still used by mctest3-rig_/);
  await mustMailctl(['up']);
  const after = await tester(['mailcheck', 'count', 'imaps', DOVECOT, 'alice@example.test'], `${PASSWORD}\n`);
  t.is(after.code, 0, show(after));
  t.is(after.stdout.trim(), before.stdout.trim());
  t.is(JSON.parse((await mustMailctl(['list-users', '--json'])).stdout).length, 3);
  await expectMail(t, 'pop3s', 'alice@example.test', PASSWORD, 'inbound-a');
});

test.serial('status reports services, certificate, users and domains', async (t) => {
  const status = JSON.parse((await mustMailctl(['status', '--json'])).stdout);
  t.deepEqual(status.services.map((s: { service: string; state: string }) => [s.service, s.state]), [['chasquid', 'running'], ['dovecot', 'running'], ['guard', 'running'], ['web', 'running']]);
  t.regex(status.certificate.subject, /CN=mail\.example\.test/);
  t.true(status.certificate.daysLeft > 300);
  t.deepEqual(status.services[0].ports, ['172.29.53.1:25', '172.29.53.1:465', '172.29.53.1:587'], 'chasquid listens on MAIL_BIND itself');
  t.is(status.services[0].network, 'host');
  t.regex(status.services[0].version, /^chasquid 1\.(1[7-9]|[2-9]\d)/, 'chasquid >= 1.17');
  t.regex(status.services[1].version, /^dovecot 2\.4\./, 'dovecot 2.4');
  const logs = await mailctl(site, ['logs', 'chasquid', '--tail', '5']);
  t.is(logs.code, 0);
  t.true(logs.stdout.trim().split('\n').length <= 5);
});
