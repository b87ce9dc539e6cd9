/**
 * Mailboxes as mail clients expect, with clients nobody here wrote, run from
 * this host against a stack listening on its network's gateway address:
 * special-use folders (imaplib, mbsync), Sieve uploaded with sieve-connect
 * over ManageSieve (STARTTLS, every address shape), fileinto, :detail,
 * vacation once per sender (through chasquid, to a local and an outside
 * sender), spam between the two thresholds filed into Junk, and quotas (IMAP
 * GETQUOTAROOT, the 90% warning, a full mailbox deferred by chasquid and
 * delivered once there is room).
 */
import test from 'ava';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { docker, dumpLogs, gatewayOf, hardeningProblems, mailctl, removeProject, rig, ROOT, run, show, siteWithEnv, sleep } from '../helpers/e2e.js';

const PROJECT = 'mctest16';
const SUBNET = '172.29.70.0/24';
const DNS_IP = '172.29.70.53';
const HOST = gatewayOf(SUBNET);
const DOMAIN = 'example.test';
const CHASQUID = `${PROJECT}-chasquid`;
const DOVECOT = `${PROJECT}-dovecot`;
const ALICE = 'Alice.Smith@example.test';
const BOB = 'bob@example.test';
const IDN = 'jürgen@bücher.example';
const IDN_PUNY = 'jürgen@xn--bcher-kva.example';
const EAI = 'josé@example.test';
const PASSWORD = 'mailbox-password-1';

const env = {
  MAIL_DOMAIN: DOMAIN, CERT_MODE: 'selfsigned', MAILCTL_PROJECT: PROJECT, MAIL_BIND: HOST,
  MAIL_SUBNET: SUBNET, MAIL_DNS: DNS_IP, SPAMASSASSIN: 'on', MAIL_QUOTA: '50M',
};
const site = siteWithEnv(env);
const ca = join(site, 'certs', PROJECT, 'ca.crt');
const { compose } = rig({ project: PROJECT, dnsIp: DNS_IP, caDir: join(site, 'certs', PROJECT) });
const cli = (args: string[], stdin?: string) => mailctl(site, args, stdin, { MAILCTL_DEBUG: '' });
const imap = async (user: string, args: string[]) => {
  const r = await run('python3', [join(ROOT, 'test/helpers/imap-client.py'), HOST, ca, user, ...args], { stdin: `${PASSWORD}\n` });
  if (r.code !== 0) throw new Error(`imap ${args.join(' ')} as ${user}: ${show(r)}`);
  return r.stdout;
};
const subjects = async (user: string, folder: string): Promise<string[]> => JSON.parse(await imap(user, ['subjects', folder]));
/** Wait until FOLDER of USER holds a message whose Subject contains TEXT. */
async function arrives(user: string, folder: string, text: string, seconds = 30): Promise<string[]> {
  for (let i = 0; i < seconds * 2; i++) {
    const found = await subjects(user, folder).catch(() => []);
    if (found.some((s) => s.includes(text))) return found;
    await sleep(500);
  }
  return subjects(user, folder);
}
/** swaks from this host; returns the server's reply to the end of DATA (or the last reply). */
async function swaks(args: string[]): Promise<string> {
  const r = await run('swaks', ['--server', HOST, '--timeout', '60', ...args]);
  const replies = [...r.stdout.matchAll(/^<[~*-]*\s+(\d{3}[ -].*)$/gm)].map((m) => m[1]).filter((l) => !l.startsWith('221'));
  return replies.at(-1) ?? show(r);
}
const inbound = (from: string, to: string, subject: string, extra: string[] = []) =>
  swaks(['--from', from, '--to', to, '--header', `Subject: ${subject}`, ...extra]);
const submitted = (user: string, password: string, from: string, to: string, subject: string, extra: string[] = []) =>
  swaks(['--port', '587', '-tls', '--auth', 'PLAIN', '--auth-user', user, '--auth-password', password, '--from', from, '--to', to, '--header', `Subject: ${subject}`, ...extra]);
/** sieve-connect (Debian's ManageSieve client) over STARTTLS, the name checked against the stack's CA. */
const sieveConnect = (user: string, args: string[], password = PASSWORD) =>
  run('sh', ['-c', 'exec sieve-connect "$@" 3<&0', 'sieve-connect', '--server', HOST, '--port', '4190', '--user', user, '--passwordfd', '3',
    '--tlscafile', ca, '--tlshostname', `mail.${DOMAIN}`, ...args], { stdin: `${password}\n` });
const chasquidLog = async () => (await run('docker', ['logs', CHASQUID])).stdout;

test.before(async () => {
  await removeProject(PROJECT);
});
test.after.always(async () => {
  await compose(['down', '--volumes', '--remove-orphans']);
  await removeProject(PROJECT);
});
test.afterEach.always(async (t) => {
  if (!t.passed) t.log(await dumpLogs([`dev.mailctl.project=${PROJECT}`]));
});

test.serial('up: dovecot with Sieve, ManageSieve and quotas, hardened as before; accounts of every shape', async (t) => {
  const up = await cli(['up']);
  t.is(up.code, 0, show(up));
  t.regex(up.stdout, /ManageSieve {2}4190 \(STARTTLS\)/);
  t.deepEqual((await hardeningProblems(PROJECT)).problems, []);
  // The guard drops a banned address on ManageSieve too: it takes the same passwords.
  const guardEnv = (await docker.getContainer(`${PROJECT}-guard`).inspect()).Config.Env;
  t.true(guardEnv.some((e: string) => /^GUARD_PORTS=.*\b4190\b/.test(e)), guardEnv.join(' '));
  t.is((await compose(['up', '-d', 'dns'])).code, 0);
  for (const user of [ALICE, BOB, IDN, EAI]) {
    const r = await cli(['add-user', user, '--password-stdin'], `${PASSWORD}\n`);
    t.is(r.code, 0, show(r));
  }
  const status = JSON.parse((await cli(['status', '--json'])).stdout);
  t.is(status.quota.default, 50 * 1024 ** 2);
  t.deepEqual(status.quota.usage.map((u: { address: string; usedBytes: number }) => [u.address, u.usedBytes]),
    [['alice.smith@example.test', 0], ['bob@example.test', 0], ['jürgen@xn--bcher-kva.example', 0], ['josé@example.test', 0]]);
  t.true(status.services.find((s: { service: string }) => s.service === 'dovecot').ports.includes(`${HOST}:4190`));
});

test.serial('a new account has Drafts, Sent, Trash, Junk and Archive with their RFC 6154 flags, subscribed (imaplib, mbsync)', async (t) => {
  const { list, lsub } = JSON.parse(await imap(BOB, ['list']));
  for (const name of ['Drafts', 'Sent', 'Trash', 'Junk', 'Archive']) {
    t.true(list.some((l: string) => l.includes(`\\${name}`) && l.endsWith(` ${name}`)), `${name} in ${list}`);
    t.true(lsub.some((l: string) => l.endsWith(` ${name}`)), `${name} subscribed: ${lsub}`);
  }
  // mbsync, as a new user would point it at the server: it lists the same folders.
  // isync trusts a certificate given in CertificateFile whatever the name it was reached by (an address here).
  const dir = join(site, 'mbsync');
  mkdirSync(dir);
  const served = await run('python3', ['-c', `import ssl; print(ssl.get_server_certificate(("${HOST}", 993)))`]);
  writeFileSync(join(site, 'served.pem'), served.stdout);
  writeFileSync(join(site, 'mbsyncrc'), [
    'IMAPAccount idn', `Host ${HOST}`, 'Port 993', `User ${IDN}`, `PassCmd "echo ${PASSWORD}"`, 'SSLType IMAPS', `CertificateFile ${join(site, 'served.pem')}`, 'AuthMechs PLAIN', '',
    'IMAPStore remote', 'Account idn', '', 'MaildirStore local', `Path ${dir}/`, `Inbox ${dir}/INBOX`, 'SubFolders Verbatim', '',
    'Channel all', 'Far :remote:', 'Near :local:', 'Patterns *', 'Create Near', '',
  ].join('\n'));
  const mbsync = await run('mbsync', ['-c', join(site, 'mbsyncrc'), '-l', 'all']);
  t.is(mbsync.code, 0, show(mbsync));
  t.deepEqual(mbsync.stdout.split('\n').filter(Boolean).sort(), ['Archive', 'Drafts', 'INBOX', 'Junk', 'Sent', 'Trash']);
});

test.serial('ManageSieve: no password before STARTTLS; sieve-connect logs in with every address shape and activates a script', async (t) => {
  // A raw client: the greeting offers STARTTLS and no SASL mechanism, and PLAIN in clear is refused.
  const raw = await run('python3', ['-c', `
import socket
s = socket.create_connection(("${HOST}", 4190), timeout=5); f = s.makefile("rb")
def reply():
    out = []
    while True:
        line = f.readline().decode(); out.append(line.strip())
        if line.startswith(("OK", "NO", "BYE")): return out
print(reply()); s.sendall(b'AUTHENTICATE "PLAIN" "AGJvYkBleGFtcGxlLnRlc3QAbWFpbGJveC1wYXNzd29yZC0x"\\r\\n'); print(reply())`]);
  t.regex(raw.stdout, /"STARTTLS"/);
  t.regex(raw.stdout, /"SASL" ""/);
  t.regex(raw.stdout, /NO \(ENCRYPT-NEEDED\)/);
  // Dotted and mixed case as typed, the IDN in both spellings, a unicode name (EAI): the same logins as IMAP.
  for (const user of [ALICE, 'ALICE.SMITH@EXAMPLE.TEST', BOB, IDN, IDN_PUNY, EAI]) {
    const r = await sieveConnect(user, ['--list']);
    t.is(r.code, 0, `${user}: ${show(r)}`);
  }
  t.not((await sieveConnect(BOB, ['--list'], 'wrong-password-1')).code, 0);
  // Logged as the guard counts it (the line ends with the hash: no "trying the next passdb").
  const dovecotLog = (await run('docker', ['logs', DOVECOT])).stdout;
  t.regex(dovecotLog, /auth\(bob@example\.test,[0-9.]+,sasl:plain\)<[^>]+>: Info: passwd-file: Password mismatch \(SHA1 of given password: [0-9a-f]{6}\)$/m);
  t.notRegex(dovecotLog, /trying the next passdb/);
  const script = join(site, 'rules.sieve');
  writeFileSync(script, [
    'require ["fileinto", "vacation", "envelope", "mailbox", "subaddress"];',
    'if header :contains "subject" "[lists]" { fileinto :create "Lists"; stop; }',
    'if address :detail "to" "news" { fileinto "News"; stop; }',
    'if envelope :detail "to" "news" { fileinto "EnvelopeNews"; stop; }',
    'vacation :days 1 :subject "Away until Monday" "I read mail on Monday.";',
    '',
  ].join('\n'));
  t.is((await sieveConnect(ALICE, ['--upload', '--localsieve', script, '--remotesieve', 'rules'])).code, 0);
  t.is((await sieveConnect(ALICE, ['--activate', '--remotesieve', 'rules'])).code, 0);
  const listed = await sieveConnect('alice.smith@example.test', ['--list']);
  t.regex(listed.stdout, /"rules" ACTIVE/);
  const broken = join(site, 'broken.sieve');
  writeFileSync(broken, 'if nonsense { keep }\n');
  const refused = await sieveConnect(ALICE, ['--upload', '--localsieve', broken, '--remotesieve', 'broken']);
  t.not(refused.code, 0, 'a script that does not compile is refused at upload');
  const huge = join(site, 'huge.sieve');
  writeFileSync(huge, `${'# a comment line to make the script large\n'.repeat(8000)}keep;\n`);
  const tooBig = await sieveConnect(ALICE, ['--upload', '--localsieve', huge, '--remotesieve', 'huge']);
  t.not(tooBig.code, 0, `a 330 KB script is refused (scripts are outside the mail quota): ${show(tooBig)}`);
  // enotify's notify :from would send as any address through the Sieve sender (found by a break-it session).
  const notify = join(site, 'notify.sieve');
  writeFileSync(notify, 'require ["enotify"];\nnotify :from "Chief <bob@example.test>" :message "pay" "mailto:victim@example.test";\n');
  const noEnotify = await sieveConnect(ALICE, ['--upload', '--localsieve', notify, '--remotesieve', 'notify']);
  t.not(noEnotify.code, 0, `a script that needs enotify does not compile: ${show(noEnotify)}`);
});

test.serial('fileinto files; +tag is :detail of the To header, not of the envelope (chasquid drops it)', async (t) => {
  t.regex(await inbound('x@sender.test', ALICE, '[lists] weekly digest'), /^250 /);
  t.true((await arrives(ALICE, 'Lists', 'weekly digest')).length === 1);
  t.regex(await inbound('x@sender.test', 'alice.smith+news@example.test', 'tagged news'), /^250 /);
  t.deepEqual(await arrives(ALICE, 'News', 'tagged news'), ['tagged news']);
  const log = (await run('docker', ['logs', DOVECOT])).stderr + (await run('docker', ['logs', DOVECOT])).stdout;
  t.notRegex(log, /EnvelopeNews/, 'the envelope reaches dovecot without its tag');
});

test.serial('vacation answers each sender once, through chasquid: a local sender and one outside', async (t) => {
  for (const n of [1, 2]) t.regex(await submitted(BOB, PASSWORD, BOB, ALICE, `question ${n}`), /^250 /);
  await arrives(ALICE, 'INBOX', 'question 2');
  const replies = (await arrives(BOB, 'INBOX', 'Away until Monday')).filter((s) => s === 'Away until Monday');
  await sleep(3000);
  t.deepEqual((await subjects(BOB, 'INBOX')).filter((s) => s === 'Away until Monday'), replies);
  t.is(replies.length, 1, 'one reply for two messages');
  const reply = await imap(BOB, ['message', 'INBOX', 'Away until Monday']);
  t.regex(reply, /^Auto-Submitted: auto-replied/im);
  t.regex(reply, /^From: .*alice\.smith@example\.test/im);
  // An outside sender: chasquid takes the reply for relay (<> from the Sieve sender account) and queues it.
  t.regex(await inbound('someone@sender.test', ALICE, 'from outside'), /^250 /);
  await arrives(ALICE, 'INBOX', 'from outside');
  let log = '';
  for (let i = 0; i < 20 && !/from=<> queued ip=\S+ to=\[someone@sender\.test\]/.test(log); i++) { await sleep(500); log = await chasquidLog(); }
  t.regex(log, /from=<> queued ip=\S+ to=\[someone@sender\.test\]/);
  // No reply to automatic mail (RFC 3834).
  t.regex(await inbound('robot@sender.test', ALICE, 'automatic', ['--add-header', 'Auto-Submitted: auto-generated']), /^250 /);
  await arrives(ALICE, 'INBOX', 'automatic');
  await sleep(2000);
  t.notRegex(await chasquidLog(), /to=\[robot@sender\.test\]/);
});

test.serial('the Sieve sender account: no mailbox, no IMAP or ManageSieve login, no sending as an outside address', async (t) => {
  const secret = (await run('docker', ['exec', DOVECOT, 'cat', '/etc/mailctl/users/sieve-sender.secret'])).stdout;
  const account = `mailctl+sieve@mail.${DOMAIN}`;
  t.true(secret.length >= 40, `a long random password (${secret.length} characters)`);
  const login = await run('python3', [join(ROOT, 'test/helpers/imap-client.py'), HOST, ca, account, 'list'], { stdin: `${secret}\n` });
  t.not(login.code, 0, 'IMAP refuses it (no userdb entry)');
  t.not((await sieveConnect(account, ['--list'], secret)).code, 0);
  t.regex(await inbound('x@sender.test', account, 'to the sieve sender'), /^5\d\d /, 'no mail to it');
  t.regex(await submitted(account, secret, 'ceo@outside.test', BOB, 'forged'), /^554 .*not an account of this server/);
  t.regex(await submitted(account, secret, '<>', BOB, 'null sender', ['--header', `From: ${BOB}`]), /^250 /, 'a vacation reply: <>, from an address of this server');
  // A script's vacation :from may not speak for an outside address (found by a break-it session).
  t.regex(await submitted(account, secret, '<>', BOB, 'null sender outside', ['--header', 'From: ceo@outside.test']), /^554 .*a vacation reply may not be from ceo@outside\.test/);
  t.regex(await submitted(account, secret, BOB, BOB, 'as an account'), /^250 /, 'a redirect: sent as the user');
  t.regex(await submitted(BOB, PASSWORD, '<>', BOB, 'bob with <>', ['--header', 'From: ceo@outside.test']), /^554 /, 'a person still may not');
});

test.serial('spam: under the tag score to INBOX, between tag and reject to Junk with X-Spam-Flag, from the reject score refused', async (t) => {
  const rules = [
    // Added to what the message scores anyway (about 3 from this host: a HELO without a domain, a test-net address).
    'header MAILCTL_TEST_FOUR Subject =~ /scored-four/', 'score MAILCTL_TEST_FOUR 4.0',
    'header MAILCTL_TEST_TWELVE Subject =~ /scored-twelve/', 'score MAILCTL_TEST_TWELVE 12.0', '',
  ].join('\n');
  t.is((await run('docker', ['exec', '-i', `${PROJECT}-spamassassin`, 'sh', '-c', 'cat > /etc/spamassassin/mailctl-test.cf'], { stdin: rules })).code, 0);
  await docker.getContainer(`${PROJECT}-spamassassin`).kill({ signal: 'HUP' });
  const body = ['--body', 'Hello, are we still meeting for lunch on Friday?'];
  let reply = '';
  for (let i = 0; i < 20 && !/^554 /.test(reply); i++) { await sleep(1000); reply = await inbound('x@sender.test', BOB, 'scored-twelve offer', body); }
  t.regex(reply, /^554 .*spam detected \(score 1\d\.\d+, refused from 10\)/);
  t.regex(await inbound('x@sender.test', BOB, 'scored-four offer', body), /^250 /);
  t.regex(await inbound('x@sender.test', BOB, 'plain lunch', body), /^250 /);
  t.true((await arrives(BOB, 'Junk', 'scored-four offer')).includes('scored-four offer'));
  t.true((await arrives(BOB, 'INBOX', 'plain lunch')).includes('plain lunch'));
  t.false((await subjects(BOB, 'INBOX')).includes('scored-four offer'));
  const junk = await imap(BOB, ['message', 'Junk', 'scored-four offer']);
  t.regex(junk, /^X-Spam-Flag: YES$/m);
  t.regex(junk, /^X-Spam-Status: Yes, score=\d+\.\d+ tag=5 reject=10$/m);
  const ham = await imap(BOB, ['message', 'INBOX', 'plain lunch']);
  t.regex(ham, /^X-Spam-Status: No, score=-?\d+\.\d+ tag=5 reject=10$/m);
  t.notRegex(ham, /X-Spam-Flag/);
});

test.serial('quota: GETQUOTAROOT, usage in list-users, one warning at 90%, a full mailbox deferred (452 4.2.2) then delivered', async (t) => {
  const user = 'carol@example.test';
  t.is((await cli(['add-user', user, '--password-stdin'], `${PASSWORD}\n`)).code, 0);
  const set = await cli(['quota', 'Carol@Example.TEST', '100k']);
  t.is(set.code, 0, show(set));
  t.is(set.stdout, 'carol@example.test: 0 B of 100 KiB (0%)\n');
  const body = join(site, 'body.txt');
  writeFileSync(body, `${'0123456789abcdef'.repeat(64)}\n`.repeat(45)); // 46 KiB
  for (const n of [1, 2]) t.regex(await inbound('x@sender.test', user, `bulk ${n}`, ['--body', `@${body}`]), /^250 /);
  const inbox = await arrives(user, 'INBOX', 'Your mailbox is 90% full');
  t.deepEqual(inbox.filter((s) => s.startsWith('Your mailbox')), ['Your mailbox is 90% full']);
  const quota = JSON.parse(await imap(user, ['quota']));
  const [, used, limit] = /STORAGE (\d+) (\d+)/.exec(quota.response.flat().join(' ')) ?? [];
  t.is(Number(limit), 100);
  t.true(Number(used) >= 90, `GETQUOTAROOT: ${JSON.stringify(quota)}`);
  const listed = JSON.parse((await cli(['list-users', '--json'])).stdout).find((u: { address: string }) => u.address === user);
  t.is(listed.quota.limitBytes, 100 * 1024);
  t.true(listed.quota.percent >= 90);
  // Now full (over the limit by the last message): chasquid still answers 250, and keeps the message queued.
  t.regex(await inbound('x@sender.test', user, 'bulk 3', ['--body', `@${body}`]), /^250 /);
  t.regex(await inbound('x@sender.test', user, 'small after full'), /^250 /);
  let log = '';
  for (let i = 0; i < 20 && !/to=carol@example\.test failed \(temporary\).*452 .*4\.2\.2/.test(log); i++) { await sleep(500); log = await chasquidLog(); }
  t.regex(log, /to=carol@example\.test failed \(temporary\).*452 .*4\.2\.2 .*Quota exceeded/);
  t.false((await subjects(user, 'INBOX')).includes('small after full'));
  // Room made: chasquid's next try (1 to 2 minutes later) delivers it; no second warning.
  t.is((await cli(['quota', user, '10M'])).code, 0);
  const after = await arrives(user, 'INBOX', 'small after full', 180);
  t.true(after.includes('small after full'), 'delivered on the retry');
  t.is(after.filter((s) => s.startsWith('Your mailbox')).length, 1);
  t.regex((await cli(['quota', user, 'default'])).stdout, /of 50 MiB/);
  t.regex((await cli(['quota', user])).stdout, /of 50 MiB/);
});

test.serial('bad input: one line and exit 2, nothing changed', async (t) => {
  for (const [args, pattern] of [
    [['quota', BOB, '5X'], /"5X" is not a size such as 5G/],
    [['quota', BOB, '-1'], /is not a size/],
    [['quota', BOB, '512'], /at least 1k/],
    [['quota', 'nobody@example.test'], /nobody@example\.test does not exist/],
    [['quota', 'nobody@example.test', '1G'], /nobody@example\.test does not exist/],
    [['quota', 'not an address'], /./],
  ] as [string[], RegExp][]) {
    const r = await cli(args);
    t.is(r.code, 2, `${args.join(' ')}: ${show(r)}`);
    t.regex(r.stderr, pattern);
    t.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
  t.regex((await cli(['quota', BOB])).stdout, /of 50 MiB/, 'unchanged');
  for (const [key, value, pattern] of [
    ['MAIL_QUOTA', 'lots', /MAIL_QUOTA "lots" is not a size/],
    ['SPAM_REJECT_SCORE', '4', /SPAM_REJECT_SCORE \(4\) must be above SPAM_TAG_SCORE \(5\)/],
    ['MAIL_PORT_MANAGESIEVE', '143', /MAIL_PORT_MANAGESIEVE and MAIL_PORT_IMAP are both 143/],
  ] as [string, string, RegExp][]) {
    writeFileSync(join(site, '.env'), Object.entries({ ...env, [key]: value }).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
    const r = await cli(['up', '--dry-run']);
    t.is(r.code, 2, show(r));
    t.regex(r.stderr, pattern);
  }
  writeFileSync(join(site, '.env'), Object.entries(env).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
});
