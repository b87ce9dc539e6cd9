/**
 * Abuse, from clients with addresses of their own (network namespaces made
 * here): on 587/465 an account sends only as itself, its aliases and what it
 * was allowed (envelope and header From); mail on 25 is not affected; and an
 * address that keeps guessing passwords (SMTP AUTH, IMAP, POP3) is dropped
 * at the host's firewall while everyone else gets in.
 */
import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { docker, dumpLogs, mailctl, portsFrom, removeProject, rig, run, show, siteWithEnv, sleep } from '../helpers/e2e.js';
import { remoteClient, removeRemoteClient, type RemoteClient } from '../helpers/netns.js';

const PROJECT = 'mctest14';
const SUBNET = '172.29.65.0/24';
const DNS_IP = '172.29.65.53';
const DOMAIN = 'abuse.test';
const OTHER = 'other-abuse.test';
const HOSTNAME = `mail.${DOMAIN}`;
const PORTS = portsFrom(36000);
const SMTP = 36025;
const SUBMISSION = 36587;
const SUBMISSIONS = 36465;
const IMAPS = 36993;
const POP3S = 36995;
const PASSWORD = 'abuse-password-1';
const SEND_LIMIT = 12;
const zoneDir = mkdtempSync(join(tmpdir(), 'mailctl-zone-abuse-'));
const site = siteWithEnv({
  MAIL_DOMAIN: DOMAIN, CERT_MODE: 'selfsigned', MAILCTL_PROJECT: PROJECT, MAIL_BIND: '0.0.0.0,::',
  MAIL_SUBNET: SUBNET, MAIL_DNS: DNS_IP, MAIL_SEND_LIMIT: String(SEND_LIMIT), ...PORTS,
});
const ca = join(site, 'certs', PROJECT, 'ca.crt');
const { compose } = rig({ project: PROJECT, dnsIp: DNS_IP, caDir: join(site, 'certs', PROJECT), DNS_ZONE_DIR: zoneDir });
const cli = (args: string[], stdin?: string) => mailctl(site, args, stdin, { MAILCTL_DEBUG: '' });
const bracket = (address: string) => (address.includes(':') ? `[${address}]` : address);
let a: RemoteClient;
let b: RemoteClient;

/** swaks on submission (587, STARTTLS) as USER from a namespace; returns the server's last reply code. */
async function submit(client: RemoteClient, user: string, from: string, extra: string[] = [], password = PASSWORD) {
  const r = await client.exec(['swaks', '--server', client.hostV4, '--port', String(SUBMISSION), '-tls', '--timeout', '20',
    '--auth', 'PLAIN', '--auth-user', user, '--auth-password', password, '--from', from, '--to', `alice@${DOMAIN}`, ...extra]);
  // The last reply before QUIT's 221: the server's answer to the message (or to AUTH).
  const codes = [...r.stdout.matchAll(/^<[~*-]*\s+(\d{3})[ -](.*)$/gm)].filter((m) => m[1] !== '221');
  return { ...r, exit: r.code, code: Number(codes.at(-1)?.[1] ?? 0), reply: codes.at(-1)?.[2] ?? '' };
}

/** A mail in USER's INBOX with this subject, over IMAPS from B. */
async function delivered(user: string, password: string, subject: string): Promise<boolean> {
  for (let i = 0; i < 30; i++) {
    const r = await b.exec(['curl', '-sS', '--cacert', ca, '--connect-to', `${HOSTNAME}:${IMAPS}:${b.hostV4}:${IMAPS}`,
      `imaps://${HOSTNAME}:${IMAPS}/INBOX?SUBJECT%20${subject}`, '-u', `${user}:${password}`]);
    if (/SEARCH \d+/.test(r.stdout)) return true;
    await sleep(500);
  }
  return false;
}

/** One IMAPS login from a namespace (by address: the certificate is checked elsewhere). */
const imapLogin = (client: RemoteClient, password: string, server = client.hostV4, user = `alice@${DOMAIN}`) =>
  client.exec(['curl', '-sS', '-k', '--max-time', '25', `imaps://${bracket(server)}:${IMAPS}/`, '-u', `${user}:${password}`, '-X', 'NOOP']);
const smtpLogin = (client: RemoteClient, password: string, user = `alice@${DOMAIN}`) =>
  submit(client, user, user, ['--quit-after', 'AUTH'], password);
/** Is a TCP connection from the namespace accepted at all (a ban drops its packets: the connect times out)? */
const reaches = async (client: RemoteClient, port: number, server = client.hostV4) =>
  (await client.exec(['timeout', '3', 'bash', '-c', `exec 3<>/dev/tcp/${server}/${port}`])).code === 0;

async function bans(): Promise<{ address: string; reason: string; secondsLeft: number; count: number }[]> {
  const r = await cli(['bans', '--json']);
  if (r.code !== 0) throw new Error(show(r));
  return JSON.parse(r.stdout);
}

test.before(async () => {
  await removeProject(PROJECT);
  a = await remoteClient('mctC', 203);
  b = await remoteClient('mctD', 204);
  writeFileSync(join(zoneDir, 'spf.conf'), 'txt-record=outside.test,"v=spf1 ?all"\n');
  const up = await cli(['up']);
  if (up.code !== 0) throw new Error(show(up));
  const rigUp = await compose(['up', '-d', '--build', 'dns']);
  if (rigUp.code !== 0) throw new Error(show(rigUp));
  for (const user of [`alice@${DOMAIN}`, `bob@${DOMAIN}`, `carol@${OTHER}`, `bulk@${DOMAIN}`]) {
    const added = await cli(['add-user', user, '--password-stdin'], `${PASSWORD}\n`);
    if (added.code !== 0) throw new Error(show(added));
  }
  const alias = await cli(['add-alias', `team@${DOMAIN}`, `alice@${DOMAIN}`, `bob@${DOMAIN}`]);
  if (alias.code !== 0) throw new Error(show(alias));
});
test.after.always(async () => {
  await cli(['down']);
  await compose(['down', '--volumes', '--remove-orphans']);
  await removeProject(PROJECT);
  await removeRemoteClient('mctC');
  await removeRemoteClient('mctD');
});
test.afterEach.always(async (t) => {
  if (!t.passed) t.log(await dumpLogs([`dev.mailctl.project=${PROJECT}`]));
});

test.serial('submission: alice cannot send as bob, as another local domain, as an outside address, or with From: bob', async (t) => {
  const alice = `alice@${DOMAIN}`;
  for (const from of [`bob@${DOMAIN}`, `carol@${OTHER}`, 'someone@gmail.example', `BOB@${DOMAIN.toUpperCase()}`]) {
    const r = await submit(a, alice, from);
    t.is(r.code, 554, `${from}: ${show(r)}`);
    t.regex(r.reply, /5\.7\.1 alice@abuse\.test may not send as .* \(envelope sender\)/);
  }
  const header = await submit(a, alice, alice, ['--header', `From: Bob <bob@${DOMAIN}>`]);
  t.is(header.code, 554, show(header));
  t.regex(header.reply, /\(header From\)/);
  // Two From addresses, one of them someone else's; and the display-name trick with a second bare address.
  t.is((await submit(a, alice, alice, ['--header', `From: ${alice}, bob@${DOMAIN}`])).code, 554);
  t.is((await submit(a, alice, alice, ['--header', `From: <${alice}> bob@${DOMAIN}`])).code, 554);
  // The same over 465 (TLS from the start), with msmtp, a client of its own.
  const msmtp = await a.exec(['msmtp', '--host', a.hostV4, '--port', String(SUBMISSIONS), '--tls=on', '--tls-starttls=off', '--tls-certcheck=off',
    '--auth=plain', `--user=${alice}`, '--passwordeval=echo ' + PASSWORD, `--from=bob@${DOMAIN}`, `alice@${DOMAIN}`],
    `From: bob@${DOMAIN}\nSubject: msmtp-spoof\n\nhello\n`);
  t.not(msmtp.code, 0);
  t.regex(msmtp.stderr, /554 5\.7\.1 alice@abuse\.test may not send as bob@abuse\.test/, show(msmtp));
});

test.serial('submission: her own address (any case, +tag), her alias and an allowed address are accepted and delivered', async (t) => {
  const alice = `alice@${DOMAIN}`;
  const allow = await cli(['allow-sender', alice, 'alice@outside.test']);
  t.is(allow.code, 0, show(allow));
  for (const [from, subject] of [[alice, 'own'], [`Alice+lists@${DOMAIN.toUpperCase()}`, 'tagged'], [`team@${DOMAIN}`, 'alias'], ['alice@outside.test', 'allowed']]) {
    const r = await submit(a, alice, from, ['--header', `From: Alice <${from}>`, '--header', `Subject: sender-${subject}`]);
    t.is(r.code, 250, `${from}: ${show(r)}`);
    t.true(await delivered(alice, PASSWORD, `sender-${subject}`), `sender-${subject} delivered`);
  }
  const msmtp = await a.exec(['msmtp', '--host', a.hostV4, '--port', String(SUBMISSIONS), '--tls=on', '--tls-starttls=off', '--tls-certcheck=off',
    '--auth=plain', `--user=${alice}`, '--passwordeval=echo ' + PASSWORD, `--from=${alice}`, alice], `From: ${alice}\nSubject: msmtp-own\n\nhello\n`);
  t.is(msmtp.code, 0, show(msmtp));
  const users = JSON.parse((await cli(['list-users', '--json'])).stdout) as { address: string; senders: { address: string; via: string }[] }[];
  t.deepEqual(users.find((u) => u.address === alice)?.senders, [
    { address: alice, via: 'own' }, { address: `postmaster@${DOMAIN}`, via: 'alias' }, { address: `abuse@${DOMAIN}`, via: 'alias' },
    { address: `team@${DOMAIN}`, via: 'alias' },
    // The first account is every domain's postmaster (MAIL_POSTMASTER unset).
    { address: `postmaster@${OTHER}`, via: 'alias' }, { address: `abuse@${OTHER}`, via: 'alias' },
    { address: 'alice@outside.test', via: 'allowed' },
  ]);
  // Taken back: the allowance, and the alias.
  t.is((await cli(['deny-sender', alice, 'alice@outside.test'])).code, 0);
  t.is((await cli(['deny-sender', alice, `team@${DOMAIN}`])).code, 0);
  t.is((await submit(a, alice, 'alice@outside.test')).code, 554);
  t.is((await submit(a, alice, `team@${DOMAIN}`)).code, 554);
  t.is((await submit(a, `bob@${DOMAIN}`, `team@${DOMAIN}`, ['--header', `From: team@${DOMAIN}`])).code, 250, 'bob keeps team@');
  const bad = await cli(['allow-sender', alice, '|/bin/sh@x']);
  t.is(bad.code, 2, show(bad));
  const notUser = await cli(['allow-sender', `nobody@${DOMAIN}`, 'x@outside.test']);
  t.is(notUser.code, 2);
  t.regex(notUser.stderr, /nobody@abuse\.test is not an account/);
});

test.serial('port 25: mail from outside is delivered whatever its From; logins are not taken there', async (t) => {
  const r = await a.exec(['swaks', '--server', a.hostV4, '--port', String(SMTP), '--timeout', '20', '--from', 'someone@outside.test',
    '--to', `alice@${DOMAIN}`, '--header', `From: bob@${DOMAIN}`, '--header', 'Subject: inbound-spoofed-from']);
  t.is(r.code, 0, show(r));
  t.true(await delivered(`alice@${DOMAIN}`, PASSWORD, 'inbound-spoofed-from'));
  const auth = await a.exec(['swaks', '--server', a.hostV4, '--port', String(SMTP), '-tls', '--timeout', '20', '--auth', 'PLAIN',
    '--auth-user', `alice@${DOMAIN}`, '--auth-password', PASSWORD, '--from', `bob@${DOMAIN}`, '--to', 'someone@gmail.example']);
  t.not(auth.code, 0);
  t.regex(auth.stdout, /454 4\.7\.0/, show(auth));
});

test.serial(`the daily sending limit: ${SEND_LIMIT} messages, then a temporary refusal`, async (t) => {
  const bulk = `bulk@${DOMAIN}`;
  for (let i = 1; i <= SEND_LIMIT; i++) {
    const r = await submit(b, bulk, bulk, ['--header', `Subject: bulk-${i}`]);
    t.is(r.code, 250, `message ${i}: ${show(r)}`);
  }
  const over = await submit(b, bulk, bulk);
  t.is(over.code, 451, show(over));
  t.regex(over.reply, /has sent 12 of 12 messages today/);
  t.is((await submit(b, `alice@${DOMAIN}`, `alice@${DOMAIN}`)).code, 250, 'other accounts are not affected');
});

test.serial('guessing from A (SMTP AUTH and IMAP, distinct passwords) gets A dropped in seconds; B logs in throughout; unban lifts it', async (t) => {
  t.deepEqual(await bans(), []);
  const started = Date.now();
  const guesses = await Promise.all([
    smtpLogin(a, 'guess-1'), smtpLogin(a, 'guess-2'), smtpLogin(a, 'guess-3'),
    imapLogin(a, 'guess-4'), imapLogin(a, 'guess-5'),
  ]);
  t.true(guesses.every((g) => ('exit' in g ? g.exit : g.code) !== 0), 'every guess failed');
  const fifth = Date.now();
  let dropped = -1;
  for (let i = 0; i < 40 && dropped < 0; i++) {
    if (!(await reaches(a, IMAPS))) dropped = (Date.now() - fifth) / 1000;
    else await sleep(250);
  }
  t.log(`guesses took ${((fifth - started) / 1000).toFixed(1)} s; A dropped ${dropped.toFixed(1)} s after the last`);
  t.true(dropped >= 0 && dropped < 10, 'A is dropped within seconds');
  t.false(await reaches(a, SUBMISSION), 'every mail port');
  t.false(await reaches(a, SMTP));
  t.true(await reaches(a, IMAPS, a.hostV6), 'the ban is for the address that guessed (A\'s IPv6 is another)');
  const good = await imapLogin(b, PASSWORD);
  t.is(good.code, 0, `B logs in: ${show(good)}`);
  t.is((await smtpLogin(b, PASSWORD)).exit, 0, 'B logs in to submission');
  const listed = await bans();
  t.deepEqual(listed.map((x) => x.address), [a.v4]);
  t.regex(listed[0].reason, /5 failed logins in 600s \((imap\/pop3, smtp|smtp, imap\/pop3)\) for alice@abuse\.test/);
  t.true(listed[0].secondsLeft > 3500 && listed[0].secondsLeft <= 3600);
  const text = await cli(['bans']);
  t.regex(text.stdout, new RegExp(`^${a.v4.replace(/\./g, '\\.')} +(59|60) min left`, 'm'));
  const lifted = await cli(['unban', a.v4]);
  t.is(lifted.code, 0, show(lifted));
  t.true(await reaches(a, IMAPS));
  t.is((await imapLogin(a, PASSWORD)).code, 0, 'A logs in again');
  t.deepEqual(await bans(), []);
  const again = await cli(['unban', a.v4]);
  t.is(again.code, 2);
  t.regex(again.stderr, /is not banned/);
  t.is((await cli(['unban', '999.1.1.1'])).code, 2);
});

test.serial('twenty tries of one wrong password (a phone with an old one) ban nobody; nor can a user name frame B', async (t) => {
  const stale = 'my-old-password';
  for (let round = 0; round < 4; round++) {
    await Promise.all([smtpLogin(a, stale), smtpLogin(a, stale), smtpLogin(a, stale), imapLogin(a, stale), imapLogin(a, stale)]);
  }
  // POP3 too, same old password.
  await a.exec(['curl', '-sS', '-k', '--max-time', '25', `pop3s://${a.hostV4}:${POP3S}/`, '-u', `alice@${DOMAIN}:${stale}`]);
  await sleep(1500);
  t.deepEqual(await bans(), [], 'one wrong password counts once');
  t.true(await reaches(a, IMAPS));
  // A user name made to look like B's address in dovecot's log line must not count against B.
  await Promise.all([1, 2, 3, 4, 5, 6].map((i) => smtpLogin(a, `frame-${i}`, `x,${b.v4},sasl:plain`)));
  await sleep(1500);
  const listed = await bans();
  t.false(listed.some((x) => x.address === b.v4), `B is not framed: ${JSON.stringify(listed)}`);
  t.true(listed.some((x) => x.address === a.v4), 'the one who guessed is');
  t.is((await cli(['unban', a.v4])).code, 0);
});

test.serial('a burst of parallel guesses gets few answers: replies to a banned address are dropped too (found by a break-it session)', async (t) => {
  const results = await Promise.all(Array.from({ length: 40 }, (_, i) => a.exec(['curl', '-sS', '-k', '--max-time', '20',
    `imaps://${a.hostV4}:${IMAPS}/`, '-u', `bob@${DOMAIN}:burst-${i}`, '-X', 'NOOP'])));
  const answered = results.filter((r) => r.code === 67).length;
  t.log(`40 parallel wrong passwords: ${answered} answered "no", ${results.filter((r) => r.code === 28).length} never answered`);
  t.true(answered < 20, `the guesser learns about few of them (${answered})`);
  t.true((await bans()).some((x) => x.address === a.v4));
  t.is((await cli(['unban', a.v4])).code, 0);
});

test.serial('a restarted guard keeps its bans and its counts (found by a break-it session)', async (t) => {
  await Promise.all([1, 2, 3].map((i) => imapLogin(a, `restart-${i}`)));
  await sleep(1500);
  await docker.getContainer(`${PROJECT}-guard`).restart({ t: 10 });
  await Promise.all([4, 5].map((i) => imapLogin(a, `restart-${i}`)));
  let listed: Awaited<ReturnType<typeof bans>> = [];
  for (let i = 0; i < 30 && !listed.some((x) => x.address === a.v4); i++) {
    await sleep(500);
    listed = await bans().catch(() => []);
  }
  t.true(listed.some((x) => x.address === a.v4), 'three before the restart and two after make five');
  await docker.getContainer(`${PROJECT}-guard`).restart({ t: 10 });
  t.false(await reaches(a, IMAPS), 'still dropped right after another restart');
  t.is((await cli(['unban', a.v4])).code, 0);
});

test.serial('IPv6: guesses over IPv6 ban the /64, shown as such; down leaves nothing in the host firewall', async (t) => {
  await Promise.all([1, 2, 3, 4, 5].map((i) => imapLogin(a, `v6-guess-${i}`, a.hostV6)));
  const prefix = `${a.v6.replace(/::2$/, '::')}/64`;
  let banned = false;
  for (let i = 0; i < 20 && !banned; i++) {
    banned = (await bans()).some((x) => x.address === prefix);
    if (!banned) await sleep(500);
  }
  t.true(banned, `A's IPv6 /64 (${prefix}) is banned`);
  t.false(await reaches(a, IMAPS, a.hostV6));
  t.true(await reaches(a, IMAPS, a.hostV4), 'its IPv4 address is another client');
  const guard = await docker.getContainer(`${PROJECT}-guard`).inspect();
  t.deepEqual(guard.HostConfig.CapAdd, ['NET_ADMIN']);
  t.deepEqual(guard.HostConfig.CapDrop, ['ALL']);
  t.deepEqual(guard.HostConfig.SecurityOpt, ['no-new-privileges']);
  t.true(guard.HostConfig.Mounts!.filter((m) => m.Type === 'bind').every((m) => m.ReadOnly), 'the logs are read-only to it');
  const image = guard.Config.Image;
  const tables = () => run('docker', ['run', '--rm', '--network', 'host', '--cap-drop', 'ALL', '--cap-add', 'NET_ADMIN', '--entrypoint', 'nft', image, 'list', 'tables']);
  t.regex((await tables()).stdout, /mailctl_mctest14/);
  const down = await cli(['down']);
  t.is(down.code, 0, show(down));
  t.notRegex((await tables()).stdout, /mailctl_mctest14/, 'the stack\'s table went with it');
});
