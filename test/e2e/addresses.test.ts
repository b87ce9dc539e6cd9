/**
 * Every address shape people have, end to end with clients nobody here wrote:
 * curl (SMTP on 25 with SMTPUTF8, IMAP, POP3), msmtp (submission on 587 with
 * AUTH PLAIN), swaks (465). Either `add-user` refuses an address with exit 2
 * and a reason, or the address receives mail and logs in everywhere.
 */
import test from 'ava';
import { docker, dumpLogs, gatewayOf, mailctl, removeProject, rig, run, show, siteWithEnv } from '../helpers/e2e.js';

const PROJECT = 'mctest12';
const DNS_IP = '172.29.63.53';
const DOMAIN = 'addr.test';
const HOSTNAME = `mail.${DOMAIN}`;
const CHASQUID = `${PROJECT}-chasquid`;
const DOVECOT = `${PROJECT}-dovecot`;
const BOSS = 'boss@addr.test';
const site = siteWithEnv({
  MAIL_DOMAIN: DOMAIN, CERT_MODE: 'selfsigned', MAILCTL_PROJECT: PROJECT, MAIL_BIND: gatewayOf('172.29.63.0/24'),
  MAIL_SUBNET: '172.29.63.0/24', MAIL_DNS: DNS_IP, MAIL_POSTMASTER: BOSS,
});
const { compose, tester } = rig({ project: PROJECT, dnsIp: DNS_IP, caDir: `${site}/certs/${PROJECT}` });
const cli = (args: string[], stdin?: string) => mailctl(site, args, stdin, { MAILCTL_DEBUG: '' });
const passwdFile = async () => (await run('docker', ['exec', DOVECOT, 'cat', '/etc/mailctl/users/passwd'])).stdout;
const PASSWORD = 'address-test-pw-1';

// TLS is verified against the local CA and the server's name, whichever container answers.
const TLS = `--cacert /ca/ca.crt --connect-to ${HOSTNAME}:993:${DOVECOT}:993 --connect-to ${HOSTNAME}:995:${DOVECOT}:995`;

/** Mail on port 25 with curl (it says SMTPUTF8 when an address needs it). */
const sendOn25 = (to: string, subject: string) => tester(['env', `TO=${to}`, `SUBJECT=${subject}`, 'sh', '-c',
  `printf 'From: x@sender.test\\r\\nTo: someone\\r\\nSubject: %s\\r\\n\\r\\nhello\\r\\n' "$SUBJECT" | curl -sS smtp://${CHASQUID}:25 --mail-from x@sender.test --mail-rcpt "$TO" -T -`]);

/** Submission on 587 (STARTTLS, AUTH PLAIN) with msmtp, as USER. */
const submitOn587 = (user: string, password: string, to: string) => tester(['env', `U=${user}`, `P=${password}`, `TO=${to}`, 'sh', '-c',
  `printf 'Subject: submitted\\r\\n\\r\\nx\\r\\n' | msmtp --host=${CHASQUID} --port=587 --tls=on --tls-starttls=on --tls-trust-file=/ca/ca.crt --tls-host-override=${HOSTNAME} --auth=plain --user="$U" --passwordeval='printf %s "$P"' --from="$U" "$TO"`]);

/** Poll IMAP (curl: AUTHENTICATE PLAIN, SEARCH) until a message with SUBJECT is in USER's inbox. */
const imapHas = (user: string, password: string, subject: string) => tester(['env', `U=${user}`, `P=${password}`, `S=${subject}`, 'sh', '-c',
  `for i in $(seq 30); do out=$(curl -sS ${TLS} "imaps://${HOSTNAME}/INBOX?SUBJECT%20$S" -u "$U:$P" 2>&1); case "$out" in *"SEARCH "[0-9]*) exit 0;; esac; sleep 0.5; done; echo "$out"; exit 1`]);

/** POP3 (curl): some message of USER's has SUBJECT. */
const pop3Has = (user: string, password: string, subject: string) => tester(['env', `U=${user}`, `P=${password}`, `S=${subject}`, 'sh', '-c',
  `n=$(curl -sS ${TLS} "pop3s://${HOSTNAME}/" -u "$U:$P" | wc -l) || exit 1; for i in $(seq 1 "$n"); do curl -sS ${TLS} "pop3s://${HOSTNAME}/$i" -u "$U:$P" | grep -q "^Subject: $S" && exit 0; done; echo "not among $n messages"; exit 1`]);

test.before(async () => {
  await removeProject(PROJECT);
  const up = await cli(['up']);
  if (up.code !== 0) throw new Error(show(up));
  const rigUp = await compose(['up', '-d', '--build', 'dns', 'tester']);
  if (rigUp.code !== 0) throw new Error(show(rigUp));
  const boss = await cli(['add-user', BOSS, '--password-stdin'], `${PASSWORD}\n`);
  if (boss.code !== 0) throw new Error(show(boss));
});
test.after.always(async () => {
  await compose(['down', '--volumes', '--remove-orphans']);
  await removeProject(PROJECT);
});
test.afterEach.always(async (t) => {
  if (!t.passed) t.log(await dumpLogs([`dev.mailctl.project=${PROJECT}`, 'dev.mailctl.rig=true']));
});

/**
 * [typed at add-user, the canonical account, spellings mail and every login use,
 * spellings only SMTP takes]. dovecot lower-cases ASCII only: a capital
 * non-ASCII letter (JOSÉ) works for RCPT and SMTP AUTH (chasquid's PRECIS
 * folds it) but not for an IMAP or POP3 login (the README says so).
 */
const ACCEPTED: [string, string, string[], string[]?][] = [
  ['plain@addr.test', 'plain@addr.test', ['plain@addr.test']],
  ['first.last@addr.test', 'first.last@addr.test', ['first.last@addr.test', 'First.Last@ADDR.test']],
  ['mary-jane@addr.test', 'mary-jane@addr.test', ['mary-jane@addr.test']],
  ['under_score@addr.test', 'under_score@addr.test', ['under_score@addr.test']],
  ['user42@addr.test', 'user42@addr.test', ['user42@addr.test']],
  ['Mixed.Case@Addr.Test', 'mixed.case@addr.test', ['mixed.case@addr.test', 'MIXED.case@addr.test']],
  ['idn@bücher.test', 'idn@xn--bcher-kva.test', ['idn@bücher.test', 'idn@xn--bcher-kva.test']],
  ['puny@xn--bcher-kva.test', 'puny@xn--bcher-kva.test', ['puny@bücher.test', 'puny@xn--bcher-kva.test']],
  ['josé@addr.test', 'josé@addr.test', ['josé@addr.test', 'JOSé@addr.test'], ['JOSÉ@addr.test']],
  // Greek: chasquid folds a capital sigma to σ, and keeps a typed word-final ς.
  ['ΟΔΥΣΣΕΑΣ@addr.test', 'οδυσσεασ@addr.test', ['οδυσσεασ@addr.test', 'οδυσσεας@addr.test'], ['ΟΔΥΣΣΕΑΣ@addr.test']],
];

for (const [typed, canonical, spellings, smtpOnly = []] of ACCEPTED) {
  test.serial(`${typed}: added, receives on 25 in every spelling, reads over IMAP and POP3, submits on 587`, async (t) => {
    const added = await cli(['add-user', typed, '--password-stdin'], `${PASSWORD}\n`);
    t.is(added.code, 0, show(added));
    t.regex(added.stdout, new RegExp(`^added ${canonical.replace(/[.+]/g, '\\$&')}`));
    for (const [i, spelling] of spellings.entries()) {
      const subject = `to-${canonical.replace(/[^a-z0-9]/g, '')}-${i}`;
      const sent = await sendOn25(spelling, subject);
      t.is(sent.code, 0, `RCPT ${spelling}: ${show(sent)}`);
      t.is((await imapHas(spelling, PASSWORD, subject)).code, 0, `IMAP login as ${spelling}`);
      t.is((await pop3Has(spelling, PASSWORD, subject)).code, 0, `POP3 login as ${spelling}`);
      const submitted = await submitOn587(spelling, PASSWORD, BOSS);
      t.is(submitted.code, 0, `AUTH on 587 as ${spelling}: ${show(submitted)}`);
    }
    for (const spelling of smtpOnly) {
      t.is((await sendOn25(spelling, `smtp-only-${canonical.length}`)).code, 0, `RCPT ${spelling}`);
      t.is((await imapHas(spellings[0], PASSWORD, `smtp-only-${canonical.length}`)).code, 0);
      t.is((await submitOn587(spelling, PASSWORD, BOSS)).code, 0, `AUTH on 587 as ${spelling}`);
    }
  });
}

test.serial('+tag delivers to the account; 465 takes AUTH too', async (t) => {
  t.is((await sendOn25('plain+news@addr.test', 'tagged-mail')).code, 0);
  t.is((await imapHas('plain@addr.test', PASSWORD, 'tagged-mail')).code, 0);
  const tls = await tester(['swaks', '--server', CHASQUID, '--port', '465', '--tlsc', '--auth', 'PLAIN', '--auth-user', 'first.last@addr.test',
    '--auth-password', PASSWORD, '--from', 'first.last@addr.test', '--to', BOSS]);
  t.is(tls.code, 0, show(tls));
});

const REFUSED: [string, RegExp][] = [
  ['shop+x@addr.test', /suffix separator/],
  ["o'brien@addr.test", /"'" is not allowed/],
  ['a$b@addr.test', /"\$" is not allowed/],
  ['a|b@addr.test', /"\|" is not allowed/],
  ['a*b@addr.test', /"\*" is not allowed/],
  ['#hash@addr.test', /"#" is not allowed/],
  ['a%b@addr.test', /"%" is not allowed/],
  ['a..b@addr.test', /dots/],
  ['ｆｕｌｌ@addr.test', /compatibility character/],
  ['smile😀@addr.test', /not allowed/],
  // chasquid's PRECIS profile and dovecot's LMTP refuse these after add-user would have said yes.
  ['shalomשלום@addr.test', /right-to-left/],
  ['١٢٣@addr.test', /right-to-left/],
  ['x\u034fy@addr.test', /invisible/],
  ['ok@über.test', /"über" starts with a non-ASCII character/],
];

test.serial('every refused shape: exit 2, one line with the reason, nothing written', async (t) => {
  const before = await passwdFile();
  for (const [address, reason] of REFUSED) {
    const r = await cli(['add-user', address, '--password-stdin'], `${PASSWORD}\n`);
    t.is(r.code, 2, `${address}: ${show(r)}`);
    t.regex(r.stderr, reason, address);
    t.is(r.stderr.trim().split('\n').length, 1, `${address}: one line`);
  }
  t.is(await passwdFile(), before);
});

test.serial('postmaster@ and abuse@ of two domains reach MAIL_POSTMASTER, can be redirected, never left pointing nowhere', async (t) => {
  t.is((await cli(['add-domain', 'second.test'])).code, 0);
  const aliases = JSON.parse((await cli(['list-aliases', '--json'])).stdout) as { alias: string; targets: string[] }[];
  for (const domain of [DOMAIN, 'second.test']) {
    for (const role of ['postmaster', 'abuse']) {
      t.deepEqual(aliases.find((a) => a.alias === `${role}@${domain}`)?.targets, [BOSS], `${role}@${domain}`);
      const subject = `role-${role}-${domain.replace('.', '')}`;
      t.is((await sendOn25(`${role}@${domain}`, subject)).code, 0);
      t.is((await imapHas(BOSS, PASSWORD, subject)).code, 0, `${role}@${domain} reached ${BOSS}`);
    }
  }
  const refused = await cli(['del-user', BOSS]);
  t.is(refused.code, 2);
  t.regex(refused.stderr, /MAIL_POSTMASTER/);
  const delRole = await cli(['del-alias', 'postmaster@second.test']);
  t.is(delRole.code, 2);
  t.regex(delRole.stderr, /required/);
  t.is((await cli(['add-alias', 'postmaster@second.test', 'plain@addr.test'])).code, 0, 'redirected');
  t.is((await sendOn25('postmaster@second.test', 'redirected-pm')).code, 0);
  t.is((await imapHas('plain@addr.test', PASSWORD, 'redirected-pm')).code, 0);
  const moved = await cli(['del-user', 'plain@addr.test']);
  t.is(moved.code, 0, show(moved));
  t.regex(moved.stdout, /postmaster@second\.test -> boss@addr\.test \(re-pointed to boss@addr\.test\)/);

  // An account named abuse@ replaces the alias; when it goes, the alias comes back at once.
  t.is((await cli(['add-user', 'abuse@second.test', '--password-stdin'], `${PASSWORD}\n`)).code, 0);
  const gone = await cli(['del-user', 'abuse@second.test']);
  t.is(gone.code, 0, show(gone));
  t.regex(gone.stdout, /abuse@second\.test -> boss@addr\.test \(made again/);
  t.is((await sendOn25('abuse@second.test', 'abuse-back')).code, 0);
  t.is((await imapHas(BOSS, PASSWORD, 'abuse-back')).code, 0);

  // MAIL_POSTMASTER an alias of the account being removed, postmaster@ through it: refused at once (this hung once).
  t.is((await cli(['add-user', 'temp@addr.test', '--password-stdin'], `${PASSWORD}\n`)).code, 0);
  t.is((await cli(['add-alias', 'zl@addr.test', 'temp@addr.test'])).code, 0);
  t.is((await cli(['add-alias', 'postmaster@addr.test', 'zl@addr.test'])).code, 0);
  const viaAlias = await mailctl(site, ['del-user', 'temp@addr.test'], undefined, { MAILCTL_DEBUG: '', MAIL_POSTMASTER: 'zl@addr.test' });
  t.is(viaAlias.code, 2, show(viaAlias));
  t.regex(viaAlias.stderr, /MAIL_POSTMASTER zl@addr\.test, which goes too/);
  t.is((await cli(['add-alias', 'postmaster@addr.test', BOSS])).code, 0);
  t.is((await cli(['del-alias', 'zl@addr.test'])).code, 0);
  t.is((await cli(['del-user', 'temp@addr.test'])).code, 0);
  // MAIL_POSTMASTER not an account yet: the new domain's role aliases wait, and add-domain says so.
  const waiting = await mailctl(site, ['add-domain', 'third.test'], undefined, { MAILCTL_DEBUG: '', MAIL_POSTMASTER: 'nobody@addr.test' });
  t.is(waiting.code, 0, show(waiting));
  t.regex(waiting.stderr, /postmaster@third\.test, abuse@third\.test not made yet: MAIL_POSTMASTER nobody@addr\.test/);
});

test.serial('an IMAP session opened before del-user cannot read the next account of that address', async (t) => {
  t.is((await cli(['add-user', 'old@addr.test', '--password-stdin'], 'old-owner-pass-1\n')).code, 0);
  const session = tester(['python3', '-c', `
import imaplib, os, ssl, time
ctx = ssl.create_default_context(cafile="/ca/ca.crt"); ctx.check_hostname = False
m = imaplib.IMAP4_SSL("${DOVECOT}", 993, ssl_context=ctx); m.login("old@addr.test", "old-owner-pass-1")
while not os.path.exists("/tmp/go-old"): time.sleep(0.2)
try:
    m.select("INBOX"); print("still open:", m.search(None, "ALL")[1])
except Exception as e:
    print("closed:", type(e).__name__)
`]);
  await new Promise((r) => setTimeout(r, 3000));
  t.is((await cli(['del-user', 'old@addr.test'])).code, 0);
  t.is((await cli(['add-user', 'old@addr.test', '--password-stdin'], 'new-owner-pass-2\n')).code, 0);
  t.is((await sendOn25('old@addr.test', 'NEW-OWNER-SECRET')).code, 0);
  t.is((await imapHas('old@addr.test', 'new-owner-pass-2', 'NEW-OWNER-SECRET')).code, 0);
  await tester(['touch', '/tmp/go-old']);
  const old = await session;
  t.regex(old.stdout, /^closed:/m, show(old));
});

test.serial('unsafe aliases are refused: pipes, comments, loops, self-reference, dead ends, shadowing an account', async (t) => {
  t.is((await cli(['add-alias', 'a@addr.test', 'user42@addr.test'])).code, 0);
  const cases: [string[], RegExp][] = [
    [['add-alias', 'c@addr.test', '|cat@addr.test'], /addresses only/],
    [['add-alias', '#x@addr.test', 'user42@addr.test'], /"#" is not allowed/],
    [['add-alias', 'user42@addr.test', 'a@addr.test'], /is an account/],
    [['add-alias', 'b@addr.test', 'b+x@addr.test'], /its own target/],
    [['add-alias', 'b@addr.test', 'nobody@addr.test'], /neither an account nor an alias/],
  ];
  for (const [args, reason] of cases) {
    const r = await cli(args);
    t.is(r.code, 2, show(r));
    t.regex(r.stderr, reason);
  }
  t.is((await cli(['add-alias', 'b@addr.test', 'a@addr.test'])).code, 0);
  const loop = await cli(['add-alias', 'a@addr.test', 'b@addr.test']);
  t.is(loop.code, 2);
  t.regex(loop.stderr, /loop \(a@addr\.test -> b@addr\.test -> a@addr\.test\)/);
  const list = await cli(['list-aliases']);
  t.regex(list.stdout, /^b@addr\.test -> a@addr\.test {3}\(ends at user42@addr\.test\)$/m, 'where the chain ends');

  // Removing an alias may not loop the catch-all or strand another alias.
  for (const args of [['l2@addr.test', 'user42@addr.test'], ['l1@addr.test', 'l2@addr.test'], ['*@addr.test', 'l1@addr.test']]) {
    t.is((await cli(['add-alias', args[0], args[1]])).code, 0, args.join(' -> '));
  }
  const looping = await cli(['del-alias', 'l2@addr.test']);
  t.is(looping.code, 2, show(looping));
  t.regex(looping.stderr, /loop/);
  t.is((await cli(['add-alias', 'g1@addr.test', 'ghost9@addr.test'])).code, 0, 'delivered through the catch-all');
  const stranding = await cli(['del-alias', '*@addr.test']);
  t.is(stranding.code, 2, show(stranding));
  t.regex(stranding.stderr, /g1@addr\.test would deliver to ghost9@addr\.test/);
  for (const alias of ['g1@addr.test', '*@addr.test']) t.is((await cli(['del-alias', alias])).code, 0, alias);
  const chasquidAliases = (await run('docker', ['exec', CHASQUID, 'cat', '/var/lib/chasquid/domains/addr.test/aliases'])).stdout;
  t.notRegex(chasquidAliases, /\||#x/);
});

test.serial('twenty add-user at once across two new domains: all succeed, files intact', async (t) => {
  const users = Array.from({ length: 20 }, (_, i) => `c${i}@${i % 2 ? 'new-one.test' : 'new-two.test'}`);
  const results = await Promise.all(users.map((u) => cli(['add-user', u, '--password-stdin'], `${PASSWORD}\n`)));
  t.deepEqual(results.map((r) => r.code), users.map(() => 0), results.filter((r) => r.code !== 0).map(show).join('\n'));
  const lines = (await passwdFile()).trim().split('\n');
  for (const u of users) t.is(lines.filter((l) => l.startsWith(`${u}:`)).length, 1, u);
  const domains = JSON.parse((await cli(['list-domains', '--json'])).stdout).map((d: { domain: string }) => d.domain);
  t.true(domains.includes('new-one.test') && domains.includes('new-two.test'));
  const aliases = JSON.parse((await cli(['list-aliases', '--json'])).stdout).map((a: { alias: string }) => a.alias);
  for (const d of ['new-one.test', 'new-two.test']) t.true(aliases.includes(`postmaster@${d}`) && aliases.includes(`abuse@${d}`), d);
  t.is((await sendOn25('c3@new-one.test', 'after-the-rush')).code, 0);
  t.is((await imapHas('c3@new-one.test', PASSWORD, 'after-the-rush')).code, 0);
  t.is((await docker.getContainer(CHASQUID).inspect()).State.Running, true);
});
