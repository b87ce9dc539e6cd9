/**
 * Accounts, domains, aliases and DNS records on a running stack, with real
 * clients (swaks, imaplib) from the rig and a real DNS server (dnsmasq) for
 * `dns --check`.
 */
import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DnsRecord } from '../../src/dns/records.js';
import { dnsmasqZone, docker, dumpLogs, gatewayOf, mailctl, removeProject, run, siteWithEnv, rig, show } from '../helpers/e2e.js';

const PROJECT = 'mctest6';
const DNS_IP = '172.29.56.53';
const DOMAIN = 'alpha.test';
const CHASQUID = `${PROJECT}-chasquid`;
const DOVECOT = `${PROJECT}-dovecot`;
const zoneDir = mkdtempSync(join(tmpdir(), 'mailctl-zone-'));
const site = siteWithEnv({
  MAIL_DOMAIN: DOMAIN, CERT_MODE: 'selfsigned', MAILCTL_PROJECT: PROJECT, MAIL_BIND: gatewayOf('172.29.56.0/24'),
  MAIL_IPV4: '198.51.100.7', MAIL_SUBNET: '172.29.56.0/24', MAIL_DNS: DNS_IP, DKIM_SELECTOR: 'sel1',
});
const { compose, tester } = rig({ project: PROJECT, dnsIp: DNS_IP, caDir: join(site, 'certs', PROJECT), DNS_ZONE_DIR: zoneDir });
const cli = (args: string[], stdin?: string) => mailctl(site, args, stdin, { MAILCTL_DEBUG: '' });
const passwdFile = async () => (await run('docker', ['exec', DOVECOT, 'cat', '/etc/mailctl/users/passwd'])).stdout;
const startedAt = async (name: string) => (await docker.getContainer(name).inspect()).State.StartedAt;
const login = (user: string, password: string) => tester(['mailcheck', 'login', 'imaps', DOVECOT, user], `${password}\n`);

test.before(async () => {
  await removeProject(PROJECT);
  const up = await cli(['up']);
  if (up.code !== 0) throw new Error(show(up));
  const rig = await compose(['up', '-d', '--build', 'dns', 'tester']);
  if (rig.code !== 0) throw new Error(show(rig));
  // The first account: postmaster@ and abuse@ deliver to it, so the others can come and go.
  const admin = await cli(['add-user', 'admin@alpha.test', '--password-stdin'], 'admin-pass-123\n');
  if (admin.code !== 0) throw new Error(show(admin));
});
test.after.always(async () => {
  await compose(['down', '--volumes', '--remove-orphans']);
  await removeProject(PROJECT);
});
test.afterEach.always(async (t) => {
  if (!t.passed) t.log(await dumpLogs([`dev.mailctl.project=${PROJECT}`, 'dev.mailctl.rig=true']));
});

test.serial('users: add, passwd, del keeps the mail, del --purge removes it', async (t) => {
  t.is((await cli(['add-user', 'u1@alpha.test', '--password-stdin'], 'first-pass-1\n')).code, 0);
  t.is((await login('u1@alpha.test', 'first-pass-1')).code, 0);
  const sent = await tester(['swaks', '--server', CHASQUID, '--from', 'x@sender.test', '--to', 'u1@alpha.test', '--header', 'Subject: for-u1']);
  t.is(sent.code, 0, show(sent));
  t.is((await tester(['mailcheck', 'fetch', 'imaps', DOVECOT, 'u1@alpha.test', 'for-u1'], 'first-pass-1\n')).code, 0);

  const changed = await cli(['passwd', 'U1@alpha.test', '--password-stdin'], 'second-pass-2\n');
  t.is(changed.code, 0, show(changed));
  t.not((await login('u1@alpha.test', 'first-pass-1')).code, 0, 'the old password no longer works');
  t.is((await login('u1@alpha.test', 'second-pass-2')).code, 0, 'the new one does, at once');

  const deleted = await cli(['del-user', 'u1@alpha.test', '--json']);
  t.is(deleted.code, 0, show(deleted));
  t.false((await passwdFile()).includes('u1@alpha.test'));
  const kept = JSON.parse(deleted.stdout).setAside as string;
  t.regex(kept, /^\/var\/mail\/\.deleted\/alpha\.test\/u1\.\d{8}T\d{6}Z\.\d+$/, 'del-user says where the mail went');
  t.is((await run('docker', ['exec', DOVECOT, 'test', '-d', `${kept}/Maildir`])).code, 0, 'mail kept');
  t.is((await cli(['add-user', 'u1@alpha.test', '--password-stdin'], 'third-pass-3\n')).code, 0);
  const count = await tester(['mailcheck', 'count', 'imaps', DOVECOT, 'u1@alpha.test'], 'third-pass-3\n');
  t.is(count.stdout.trim(), '0', 'a new account of the same address does not get the old one\'s mail');
  t.is((await cli(['del-user', 'u1@alpha.test', '--purge'])).code, 0);
  t.not((await run('docker', ['exec', DOVECOT, 'test', '-e', '/var/mail/alpha.test/u1'])).code, 0, 'mail purged');
  const missing = await cli(['del-user', 'nobody@alpha.test']);
  t.is(missing.code, 2);
  t.regex(missing.stderr, /nobody@alpha\.test does not exist/);
});

test.serial('bad input gets a clear error and writes nothing', async (t) => {
  const before = await passwdFile();
  const cases: [string[], string | undefined, RegExp][] = [
    [['add-user', 'a/b@alpha.test', '--password-stdin'], 'long-enough-1\n', /not a valid mail address/],
    [['add-user', 'x@alpha..test', '--password-stdin'], 'long-enough-1\n', /not a valid/],
    [['add-user', 'sp ace@alpha.test', '--password-stdin'], 'long-enough-1\n', /not a valid mail address/],
    [['add-user', `${'l'.repeat(65)}@alpha.test`, '--password-stdin'], 'long-enough-1\n', /not a valid mail address/],
    [['add-user', 'ok@alpha.test', '--password-stdin'], '\n', /password is empty/],
    [['add-user', 'ok@alpha.test', '--password-stdin'], 'short\n', /too short/],
    [['add-user', 'ok@alpha.test'], undefined, /no terminal to ask for the password/],
    [['add-domain', 'bad_domain'], undefined, /not a valid domain name/],
    [['add-alias', 'info@alpha.test', 'not-an-address'], undefined, /not a mail address/],
  ];
  for (const [args, stdin, message] of cases) {
    const r = await cli(args, stdin);
    t.is(r.code, 2, `${args.join(' ')}: ${show(r)}`);
    t.regex(r.stderr, message);
    t.is(r.stderr.trim().split('\n').length, 1, 'one line');
  }
  t.is(await passwdFile(), before, 'nothing written');
});

test.serial('internationalised domains: unicode in, punycode stored', async (t) => {
  const r = await cli(['add-user', 'Jo@Bücher.test', '--password-stdin'], 'idn-pass-123\n');
  t.is(r.code, 0, show(r));
  t.regex(r.stdout, /added jo@xn--bcher-kva\.test \(jo@bücher\.test\) \(and its new domain\)/);
  t.true((await passwdFile()).includes('jo@xn--bcher-kva.test:'));
  const domains = JSON.parse((await cli(['list-domains', '--json'])).stdout);
  t.deepEqual(domains.map((d: { domain: string }) => d.domain), ['alpha.test', 'xn--bcher-kva.test']);
});

test.serial('20 add-user at the same moment: 20 users, an intact passwd-file', async (t) => {
  const users = Array.from({ length: 20 }, (_, i) => `load${i}@alpha.test`);
  const results = await Promise.all(users.map((u, i) => cli(['add-user', u, '--password-stdin'], `password-number-${i}\n`)));
  t.deepEqual(results.map((r) => r.code), users.map(() => 0), results.map(show).filter((s) => !s.startsWith('exit 0')).join('\n'));
  const lines = (await passwdFile()).trim().split('\n');
  for (const u of users) t.is(lines.filter((l) => l.startsWith(`${u}:`)).length, 1, u);
  const wellFormed = (l: string) => /^[^:]+@[^:]+:\{ARGON2ID\}\$argon2id\$[^:]+::::::$/.test(l) || /^[^:]+@[^:]+:\{ARGON2ID\}\$argon2id\$[^:]+::::\/var\/mail\/[^:]+::user=[^:]+$/.test(l);
  t.true(lines.every(wellFormed), 'every line well formed');
  t.is((await login('load7@alpha.test', 'password-number-7')).code, 0);
});

test.serial('domains: add (with a DKIM key), no restart when nothing changes, del refuses while users remain', async (t) => {
  const before = await startedAt(CHASQUID);
  t.is((await cli(['add-domain', 'second.test'])).code, 0);
  const afterAdd = await startedAt(CHASQUID);
  t.not(afterAdd, before, 'chasquid restarted for the new domain');
  const again = await cli(['add-domain', 'second.test']);
  t.regex(again.stdout, /already served/);
  t.is(await startedAt(CHASQUID), afterAdd, 'no restart when the list did not change');
  const listed = JSON.parse((await cli(['list-domains', '--json'])).stdout);
  t.deepEqual(listed.find((d: { domain: string }) => d.domain === 'second.test'), { domain: 'second.test', main: false, dkimSelectors: ['sel1'] });

  t.is((await cli(['add-user', 'v@second.test', '--password-stdin'], 'second-user-1\n')).code, 0);
  const refused = await cli(['del-domain', 'second.test']);
  t.is(refused.code, 2);
  t.regex(refused.stderr, /still has 1 user\(s\) \(v@second\.test\).*--force/);
  const forced = await cli(['del-domain', 'second.test', '--force', '--json']);
  t.is(forced.code, 0, show(forced));
  t.deepEqual(JSON.parse(forced.stdout).removedUsers, ['v@second.test']);
  t.false((await passwdFile()).includes('v@second.test'));
  const main = await cli(['del-domain', DOMAIN]);
  t.is(main.code, 2);
  t.regex(main.stderr, /is MAIL_DOMAIN/);
});

test.serial('aliases: mail to an alias and to the catch-all reaches the targets', async (t) => {
  t.is((await cli(['add-user', 'u2@alpha.test', '--password-stdin'], 'u2-password-1\n')).code, 0);
  t.is((await cli(['add-user', 'u3@alpha.test', '--password-stdin'], 'u3-password-1\n')).code, 0);
  const set = await cli(['add-alias', 'Info@alpha.test', 'u2@alpha.test', 'u3@alpha.test']);
  t.is(set.code, 0, show(set));
  const toAlias = await tester(['swaks', '--server', CHASQUID, '--from', 'x@sender.test', '--to', 'info@alpha.test', '--header', 'Subject: via-alias']);
  t.is(toAlias.code, 0, show(toAlias));
  for (const [user, pw] of [['u2@alpha.test', 'u2-password-1'], ['u3@alpha.test', 'u3-password-1']]) {
    t.is((await tester(['mailcheck', 'fetch', 'imaps', DOVECOT, user, 'via-alias'], `${pw}\n`)).code, 0, user);
  }
  const unknownBefore = await tester(['swaks', '--server', CHASQUID, '--from', 'x@sender.test', '--to', 'whatever@alpha.test']);
  t.not(unknownBefore.code, 0, 'no catch-all yet: unknown user refused');
  t.is((await cli(['add-alias', '*@alpha.test', 'u2@alpha.test'])).code, 0);
  const caught = await tester(['swaks', '--server', CHASQUID, '--from', 'x@sender.test', '--to', 'whatever@alpha.test', '--header', 'Subject: via-catch-all']);
  t.is(caught.code, 0, show(caught));
  t.is((await tester(['mailcheck', 'fetch', 'imaps', DOVECOT, 'u2@alpha.test', 'via-catch-all'], 'u2-password-1\n')).code, 0);
  const own = async () => (JSON.parse((await cli(['list-aliases', '--json'])).stdout) as { alias: string; targets: string[] }[])
    .filter((a) => a.alias.endsWith('@alpha.test') && !/^(postmaster|abuse)@/.test(a.alias)).map(({ alias, targets }) => ({ alias, targets }));
  t.deepEqual(await own(), [
    { alias: 'info@alpha.test', targets: ['u2@alpha.test', 'u3@alpha.test'] },
    { alias: '*@alpha.test', targets: ['u2@alpha.test'] },
  ]);
  t.is((await cli(['del-alias', '*@alpha.test'])).code, 0);
  t.is((await cli(['del-alias', '*@alpha.test'])).code, 2, 'already gone');
  t.is((await own()).length, 1);
});

async function serveZone(text: string): Promise<void> {
  writeFileSync(join(zoneDir, 'zone.conf'), text);
  await compose(['restart', 'dns']);
}

test.serial('dns prints the records; --check says ok against a correct zone and names what a broken one gets wrong', async (t) => {
  const printed = await cli(['dns', '--domain', DOMAIN]);
  t.is(printed.code, 0, show(printed));
  t.regex(printed.stdout, /^mail\.alpha\.test\.\s+IN A\s+198\.51\.100\.7$/m);
  t.regex(printed.stdout, /^alpha\.test\.\s+IN MX\s+10 mail\.alpha\.test\.$/m);
  t.regex(printed.stdout, /^alpha\.test\.\s+IN TXT\s+"v=spf1 mx -all"$/m);
  t.regex(printed.stdout, /^sel1\._domainkey\.alpha\.test\.\s+IN TXT\s+"v=DKIM1; k=rsa; p=/m);
  t.regex(printed.stdout, /^_dmarc\.alpha\.test\.\s+IN TXT\s+"v=DMARC1; p=quarantine"$/m);
  t.regex(printed.stdout, /PTR.*198\.51\.100\.7 to mail\.alpha\.test/);
  const records = JSON.parse((await cli(['dns', '--domain', DOMAIN, '--json'])).stdout) as DnsRecord[];

  await serveZone(dnsmasqZone(records));
  const good = await cli(['dns', '--check', '--domain', DOMAIN, '--resolver', DNS_IP, '--json']);
  t.is(good.code, 0, show(good));
  t.deepEqual(JSON.parse(good.stdout).map((r: { status: string }) => r.status), records.map(() => 'ok'));

  await serveZone(dnsmasqZone(records, (r) => {
    if (r.name.startsWith('_dmarc')) return undefined; // missing
    if (r.type === 'TXT' && r.value?.startsWith('v=spf1')) return { ...r, value: 'v=spf1 +all' }; // wrong
    if (r.type === 'MX') return { ...r, value: '10 other.example.' }; // wrong
    return r;
  }));
  const bad = await cli(['dns', '--check', '--domain', DOMAIN, '--resolver', DNS_IP]);
  t.is(bad.code, 1, show(bad));
  t.regex(bad.stdout, /^ok\s+mail\.alpha\.test\. A$/m);
  t.regex(bad.stdout, /^wrong\s+alpha\.test\. MX: expected 10 mail\.alpha\.test\., found 10 other\.example\.$/m);
  t.regex(bad.stdout, /^wrong\s+alpha\.test\. TXT: expected v=spf1 mx -all, found v=spf1 \+all$/m);
  t.regex(bad.stdout, /^missing _dmarc\.alpha\.test\. TXT/m);
  t.regex(bad.stdout, /^ok\s+sel1\._domainkey\.alpha\.test\. TXT$/m);
  t.regex(bad.stderr, /3 of 15 DNS records are missing or wrong/);
});
