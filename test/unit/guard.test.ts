import test from 'ava';
import { FailureReader, parseJsonLogEntry, type Failure } from '../../src/abuse/auth-log.js';
import { BanBook, banSubject } from '../../src/abuse/ban-book.js';
import { canonicalIp, inNetwork, parseBanTarget } from '../../src/names/ip.js';
import { addBans, dropTable, removeBan, renderTable, tableName } from '../../src/abuse/nft.js';
import { configFrom } from '../helpers/config.js';
import { guardSpec } from '../../src/plan/services.js';

// Lines as dovecot 2.4.1 and chasquid 1.19 wrote them on this machine.
const DOVECOT_IMAP = 'Nov 27 17:57:51 auth(alice@example.test,198.18.1.2,sasl:plain)<MI35y0VhEJ5/AAAB>: Info: passwd-file: Password mismatch (SHA1 of given password: d0d81a)';
const DOVECOT_UNKNOWN = 'Nov 27 18:04:51 auth(nobody@example.test,fd00:c9::2,sasl:plain)<0BZ95UVhEN5/AAAB>: Info: passwd-file: unknown user (SHA1 of given password: 11f6ad)';
const DOVECOT_SMTP = 'Nov 27 18:03:01 auth(alice@example.test,sasl:plain): Info: passwd-file: Password mismatch (SHA1 of given password: ff92b8)';
const CHASQUID_USER = '2026-11-27 18:03:03.175173 198.18.1.2:59836 auth failed for alice@example.test';
const CHASQUID_535 = '_ conn.go:320        SMTP.Conn 198.18.1.2:59836: error: AUTH failed: 535  5.7.8 Incorrect user or password';
const CHASQUID_454 = '_ conn.go:320        SMTP.Conn 198.18.1.2:59836: error: AUTH failed: 454  4.7.0 Temporary authentication failure';

test('dovecot: a failed IMAP/POP3 login with its address and password hash; unknown users count too', (t) => {
  const r = new FailureReader();
  t.deepEqual(r.dovecot(DOVECOT_IMAP, 1), [{ ip: '198.18.1.2', user: 'alice@example.test', fingerprint: 'd0d81a', service: 'imap/pop3', at: 1 }]);
  t.deepEqual(r.dovecot(DOVECOT_UNKNOWN, 2).map((f) => [f.ip, f.user]), [['fd00:c9::2', 'nobody@example.test']]);
  t.deepEqual(r.dovecot('Nov 27 17:57:53 imap-login: Info: Login aborted: Connection closed (auth failed, 1 attempts in 2 secs)', 3), []);
});

test('chasquid: a 535 joined with its user line (either order) borrows dovecot\'s hash; a 454 (port 25) is no guess', (t) => {
  const r = new FailureReader();
  t.deepEqual(r.dovecot(DOVECOT_SMTP, 1000), [], 'no address in this line: kept for the SMTP failure');
  t.deepEqual(r.chasquid(CHASQUID_535, 3000), []);
  t.deepEqual(r.chasquid(CHASQUID_USER, 3000), [{ ip: '198.18.1.2', user: 'alice@example.test', fingerprint: 'ff92b8', service: 'smtp', at: 3000 }]);
  t.deepEqual(r.chasquid(CHASQUID_USER, 4000), []);
  t.deepEqual(r.chasquid(CHASQUID_454, 4000), [], 'AUTH on port 25 answers 454: not a wrong password');
  const v6 = new FailureReader();
  v6.chasquid('2026-11-27 18:03:03.175173 [fd00:c9::2]:41000 auth failed for bob@example.test', 1);
  t.deepEqual(v6.chasquid('_ conn.go:320 SMTP.Conn [fd00:c9::2]:41000: error: AUTH failed: 535  5.7.8 Incorrect', 2), [{ ip: 'fd00:c9::2', user: 'bob@example.test', service: 'smtp', at: 2 }], 'no hash found: it counts on its own');
});

test('a long name, shortened by dovecot in its log, still pairs with chasquid\'s line (found by a break-it session)', (t) => {
  const r = new FailureReader();
  const long = 'aaaaaaaaaa.bbbbbbbbbb.cccccccccc.dddddddddd.eeeeeeeeee.ffffffffff.gggg@example.test';
  r.dovecot('Nov 27 18:41:14 auth(aaaaaaaaaa.bbbbbbbbbb.cccccccccc.dddddddddd.eeeeeeeeee.ffffff...,sasl:plain): Info: passwd-file: Password mismatch (SHA1 of given password: 11f6ad)', 1);
  r.chasquid(`2026-11-27 18:41:16.1 198.18.1.2:5 auth failed for ${long}`, 2);
  t.deepEqual(r.chasquid('_ conn.go:320 SMTP.Conn 198.18.1.2:5: error: AUTH failed: 535  5.7.8 Incorrect', 2), [{ ip: '198.18.1.2', user: long, fingerprint: '11f6ad', service: 'smtp', at: 2 }]);
});

test('a user name cannot frame another address or pass for another kind of line', (t) => {
  const r = new FailureReader();
  // Sent over SMTP (no address in dovecot's line): it must not read as a failure from 6.6.6.6.
  t.deepEqual(r.dovecot('Nov 27 18:03:01 auth(x,6.6.6.6,sasl:plain): Info: passwd-file: unknown user (SHA1 of given password: aaaaaa)', 1), []);
  const crafted = 'Nov 27 18:03:01 auth(x,6.6.6.6,sasl:plain)<s>: Info: passwd-file: Password mismatch (SHA1 of given password: aaaaaa),198.18.1.2,sasl:plain)<AbC>: Info: passwd-file: Password mismatch (SHA1 of given password: bbbbbb)';
  t.deepEqual(r.dovecot(crafted, 2).map((f) => f.ip), ['198.18.1.2'], 'the address is the one dovecot appended');
  t.deepEqual(r.chasquid('2026-11-27 18:03:03.1 198.18.1.2:1 auth failed for a\n2026-11-27 18:03:03.1 6.6.6.6:1 auth failed for b', 3), [], 'one line at a time');
  t.is(parseJsonLogEntry(JSON.stringify({ log: 'one\ntwo\n', time: '2026-11-27T18:00:00Z' })), undefined, 'an entry is one line');
  t.deepEqual(parseJsonLogEntry(JSON.stringify({ log: `${DOVECOT_IMAP}\n`, stream: 'stdout', time: '2026-11-27T18:00:00.5Z' })), { text: DOVECOT_IMAP, at: Date.parse('2026-11-27T18:00:00.5Z') });
  t.is(parseJsonLogEntry('{not json'), undefined);
});

const f = (ip: string, fingerprint: string | undefined, at: number, user = 'alice@x.test'): Failure => ({ ip, user, fingerprint, service: 'imap/pop3', at });
const policy = { failures: 5, windowSeconds: 600, banSeconds: 3600 };

test('five distinct wrong passwords in the window ban the address for the ban time', (t) => {
  const book = new BanBook(policy, () => false);
  for (let i = 1; i <= 4; i++) t.is(book.failure(f('192.0.2.9', `h${i}`, i), i * 1000), undefined);
  const ban = book.failure(f('192.0.2.9', 'h5', 5), 5000)!;
  t.is(ban.address, '192.0.2.9');
  t.is(ban.until - ban.since, 3600_000);
  t.regex(ban.reason, /5 failed logins in 600s \(imap\/pop3\) for alice@x\.test/);
  t.true(book.banned('192.0.2.9', 6000));
  t.deepEqual(book.list(6000).map((b) => b.address), ['192.0.2.9']);
  t.deepEqual(book.list(3600_000 + 5001), [], 'expired');
});

test('the same wrong password counts once; failures outside the window fall away; trusted addresses are never banned', (t) => {
  const book = new BanBook(policy, (ip) => ip === '198.51.100.1');
  for (let i = 0; i < 50; i++) t.is(book.failure(f('192.0.2.9', 'same', i), i * 1000), undefined);
  for (let i = 0; i < 4; i++) book.failure(f('192.0.2.10', `h${i}`, i), i * 1000);
  t.is(book.failure(f('192.0.2.10', 'late', 0), 700_000), undefined, 'the first four are older than 10 minutes');
  for (let i = 0; i < 10; i++) t.is(book.failure(f('198.51.100.1', `h${i}`, i), i), undefined);
  // Another user with the same password hash is another guess.
  const other = new BanBook({ ...policy, failures: 2 }, () => false);
  other.failure(f('192.0.2.11', 'same', 0, 'a@x.test'), 0);
  t.truthy(other.failure(f('192.0.2.11', 'same', 1, 'b@x.test'), 1));
});

test('repeat offenders are banned twice as long each time, up to a week; unban starts the count again; the book survives a restart', (t) => {
  const book = new BanBook({ ...policy, failures: 1 }, () => false);
  let now = 0;
  const lengths: number[] = [];
  for (let i = 0; i < 4; i++) {
    const ban = book.failure(f('192.0.2.9', `h${i}`, now), now)!;
    lengths.push((ban.until - ban.since) / 3600_000);
    now = ban.until + 1;
  }
  t.deepEqual(lengths, [1, 2, 4, 8]);
  const again = new BanBook({ ...policy, failures: 1 }, () => false, book.toJSON(now));
  const next = again.failure(f('192.0.2.9', 'x', now), now)!;
  t.is(next.count, 5, 'the history came along');
  t.is((next.until - next.since) / 3600_000, 16);
  const capped = new BanBook({ failures: 1, windowSeconds: 600, banSeconds: 5 * 86400 }, () => false);
  capped.failure(f('192.0.2.8', 'a', 0), 0);
  const second = capped.failure(f('192.0.2.8', 'b', 6 * 86400_000), 6 * 86400_000)!;
  t.is(second.until - second.since, 7 * 86400_000, 'never longer than a week');
  t.truthy(again.unban('192.0.2.9'));
  t.false(again.banned('192.0.2.9', now));
  t.is(again.unban('192.0.2.9'), undefined);
});

test('IPv6: a /64 is one subject, counted and banned as one (found by a break-it session)', (t) => {
  t.is(banSubject('fd00:d3::11'), 'fd00:d3::/64');
  t.is(banSubject('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
  t.is(banSubject('192.0.2.9'), '192.0.2.9');
  const book = new BanBook(policy, () => false);
  for (let i = 1; i <= 4; i++) t.is(book.failure(f(`fd00:d3::1${i}`, `h${i}`, i), i), undefined);
  const ban = book.failure(f('fd00:d3::15', 'h5', 5), 5)!;
  t.is(ban.address, 'fd00:d3::/64');
  t.true(book.banned('fd00:d3::99', 6));
  t.false(book.banned('fd00:d4::1', 6));
  t.truthy(book.unban('fd00:d3::abcd'), 'any address of the /64 lifts it');
});

test('counts survive a restart of the guard (found by a break-it session)', (t) => {
  const book = new BanBook(policy, () => false);
  for (let i = 1; i <= 4; i++) book.failure(f('192.0.2.9', `h${i}`, i * 1000), i * 1000);
  const again = new BanBook(policy, () => false, JSON.parse(JSON.stringify(book.toJSON(5000))));
  t.truthy(again.failure(f('192.0.2.9', 'h5', 5000), 5000), 'the fifth after the restart bans');
});

test('addresses: one spelling, and network membership for both families', (t) => {
  t.is(canonicalIp('FD00:00c9:0::2'), 'fd00:c9::2');
  t.is(canonicalIp('198.018.1.2'), '198.18.1.2');
  t.is(canonicalIp('256.1.1.1'), undefined);
  t.is(canonicalIp('example.com'), undefined);
  t.is(canonicalIp('1.2.3.4/24'), undefined);
  t.is(parseBanTarget(' fd00:d3::/64 '), 'fd00:d3::', 'a /64 as bans lists it');
  t.is(parseBanTarget('198.18.1.2'), '198.18.1.2');
  t.is(parseBanTarget('198.18.1.0/64'), undefined, 'IPv4 has no /64');
  t.is(parseBanTarget('; flush ruleset'), undefined);
  t.true(inNetwork('192.0.2.77', '192.0.2.0/24'));
  t.false(inNetwork('192.0.3.1', '192.0.2.0/24'));
  t.true(inNetwork('2001:db8::1', '2001:db8::/32'));
  t.false(inNetwork('2001:db9::1', '2001:db8::/32'));
  t.false(inNetwork('192.0.2.1', '::/0'), 'families never mix');
  t.true(inNetwork('::ffff:192.0.2.1', '::ffff:0:0/96'));
});

test('nftables: a table of the stack\'s own, sets that expire, drops on the mail ports only', (t) => {
  t.is(tableName('my-stack'), 'mailctl_my_stack');
  const table = renderTable('p', [993, 25, 587, 25]);
  t.regex(table, /^table inet mailctl_p\ndelete table inet mailctl_p\n/, 'made fresh, whether or not it was there');
  t.regex(table, /set banned4 \{ type ipv4_addr; flags timeout; \}/);
  t.regex(table, /set banned6 \{ type ipv6_addr; flags interval, timeout; \}/, 'IPv6 bans are /64s');
  t.regex(table, /ip daddr @banned4 tcp sport \{ 25, 587, 993 \} drop/, 'answers to a banned address are dropped too (found by a break-it session)');
  t.regex(renderTable('p', [25], [{ address: 'fd00:1::/64', seconds: 60 }]), /\}\nadd element inet mailctl_p banned6 \{ fd00:1::\/64 timeout 60s \}\n$/, 'the bans in force go in with the table, in one transaction');
  t.regex(table, /ip saddr @banned4 tcp dport \{ 25, 587, 993 \} drop/);
  t.regex(table, /ip6 saddr @banned6 tcp dport \{ 25, 587, 993 \} drop/);
  t.notRegex(table, /\b22\b/);
  t.is(addBans('p', [{ address: '192.0.2.9', seconds: 3599.2 }, { address: 'fd00::2', seconds: 0.1 }]),
    'add element inet mailctl_p banned4 { 192.0.2.9 timeout 3600s }\nadd element inet mailctl_p banned6 { fd00::2 timeout 1s }\n');
  t.is(removeBan('p', 'fd00::2'), 'delete element inet mailctl_p banned6 { fd00::2 }\n');
  t.is(dropTable('p'), 'table inet mailctl_p\ndelete table inet mailctl_p\n');
});

test('the guard\'s spec: host network, NET_ADMIN only, the two mail logs read-only, the policy in its environment', (t) => {
  const config = configFrom({ MAIL_BAN_FAILURES: '3', MAIL_TRUSTED_NETWORKS: '192.0.2.0/24', MAIL_PORT_IMAPS: '1993' });
  const spec = guardSpec(config, 'mailctl/guard:x', { chasquid: '/var/lib/docker/containers/c1/c1-json.log', dovecot: '/d/containers/d1/d1-json.log' });
  t.true(spec.hostNetwork);
  t.deepEqual(spec.privileges, { capabilities: ['NET_ADMIN'], noNewPrivileges: true });
  t.deepEqual(spec.mounts.slice(0, 2), [
    { bind: '/var/lib/docker/containers/c1', target: '/var/log/mailctl/chasquid', readOnly: true },
    { bind: '/d/containers/d1', target: '/var/log/mailctl/dovecot', readOnly: true },
  ]);
  t.is(spec.env.GUARD_LOGS, 'chasquid=/var/log/mailctl/chasquid/c1-json.log dovecot=/var/log/mailctl/dovecot/d1-json.log');
  t.is(spec.env.GUARD_PORTS, '25 587 465 143 1993 110 995 4190');
  t.is(spec.env.GUARD_FAILURES, '3');
  t.is(spec.env.GUARD_TRUSTED, '192.0.2.0/24');
  t.deepEqual(spec.logs, { maxSize: '10m', maxFiles: 3 });
});
