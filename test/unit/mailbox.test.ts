/** Mailboxes: the .env keys, dovecot's special-use/Sieve/quota configuration, msmtp's, quota sizes and dovecot's quota table. */
import test from 'ava';
import { formatSize, humanSize, parseSize } from '../../src/config/mailbox.js';
import { parseQuotaTable, quotaArgument } from '../../src/accounts/quota.js';
import { renderDovecotConf } from '../../src/render/dovecot.js';
import { renderMailboxConf } from '../../src/render/mailbox.js';
import { renderMsmtprc } from '../../src/render/sieve-sender.js';
import { stackSpecs } from '../../src/plan/services.js';
import { configFrom } from '../helpers/config.js';

test('sizes: units of 1024 as dovecot reads them; 0 is no limit; nonsense, negatives and tiny sizes refused', (t) => {
  t.is(parseSize('5G'), 5 * 1024 ** 3);
  t.is(parseSize('500M'), 500 * 1024 ** 2);
  t.is(parseSize('100k'), 102400);
  t.is(parseSize('100 KiB'), 102400);
  t.is(parseSize('2048'), 2048);
  t.is(parseSize('0'), 0);
  for (const bad of ['', '5X', '-1', '1.5G', '512', '5G5', 'G', '99999T', '1e9', ' 5 G ; rm']) t.is(parseSize(bad), undefined, bad);
  t.is(formatSize(5 * 1024 ** 3), '5G');
  t.is(formatSize(1536 * 1024), '1536k');
  t.is(formatSize(1000), '1000');
  t.is(humanSize(0), '0 B');
  t.is(humanSize(1.5 * 1024 ** 3), '1.5 GiB');
  t.is(humanSize(312 * 1024), '312 KiB');
});

test('MAIL_QUOTA and the spam scores: defaults, values, and one clear problem each', (t) => {
  t.deepEqual(configFrom().mailbox, { quotaBytes: 5 * 1024 ** 3, spamTagScore: 5, spamRejectScore: 10 });
  t.deepEqual(configFrom({ MAIL_QUOTA: '0', SPAM_TAG_SCORE: '3.5', SPAM_REJECT_SCORE: '15' }).mailbox, { quotaBytes: 0, spamTagScore: 3.5, spamRejectScore: 15 });
  t.throws(() => configFrom({ MAIL_QUOTA: 'lots' }), { message: /MAIL_QUOTA "lots" is not a size such as 5G/ });
  t.throws(() => configFrom({ SPAM_TAG_SCORE: 'high' }), { message: /SPAM_TAG_SCORE "high" is not a SpamAssassin score/ });
  t.throws(() => configFrom({ SPAM_TAG_SCORE: '8', SPAM_REJECT_SCORE: '8' }), { message: /SPAM_REJECT_SCORE \(8\) must be above SPAM_TAG_SCORE \(8\)/ });
  t.throws(() => configFrom({ MAIL_PORT_MANAGESIEVE: '993' }), { message: /MAIL_PORT_MANAGESIEVE and MAIL_PORT_IMAPS are both 993/ });
  t.is(configFrom({ MAIL_PORT_MANAGESIEVE: '14190' }).ports.managesieve, 14190);
});

test('dovecot: the five special-use folders, created and subscribed; Sieve at LMTP; ManageSieve on its port', (t) => {
  const conf = renderDovecotConf(configFrom({ MAIL_PORT_MANAGESIEVE: '14190' }));
  for (const name of ['Drafts', 'Sent', 'Trash', 'Junk', 'Archive']) {
    t.regex(conf, new RegExp(`mailbox ${name} \\{\\n {4}special_use = \\\\${name}\\n {4}auto = subscribe\\n {2}\\}`));
  }
  t.regex(conf, /^protocols = imap pop3 lmtp sieve$/m);
  t.regex(conf, /^protocol lmtp \{\n {2}mail_plugins \{\n {4}sieve = yes/m);
  t.regex(conf, /^service managesieve-login \{\n {2}inet_listener sieve \{\n {4}port = 14190\n/m);
  t.regex(conf, /^recipient_delimiter = \+$/m);
  t.regex(conf, /^sieve_quota_script_count = 32\nsieve_quota_storage_size = 1M\nsieve_max_script_size = 256k$/m, 'scripts are bounded: they are outside the mail quota');
  t.regex(conf, /^auth_allow_cleartext = no$/m, 'ManageSieve too: no password before STARTTLS');
});

test('dovecot: quota from MAIL_QUOTA (0: unlimited), temporary refusal at RCPT, one warning at 90%', (t) => {
  const conf = renderMailboxConf(configFrom({ MAIL_QUOTA: '2G' }));
  t.regex(conf, /^quota_storage_size = 2G$/m);
  t.regex(renderMailboxConf(configFrom({ MAIL_QUOTA: '0' })), /^quota_storage_size = unlimited$/m);
  t.regex(conf, /^lmtp_rcpt_check_quota = yes$/m);
  t.regex(conf, /^quota_full_tempfail = yes$/m);
  t.regex(conf, /warning warn-90 \{\n {4}quota_storage_percentage = 90\n {4}execute quota-warning \{\n {6}args = 90 %\{user\}/);
  t.regex(conf, /executable = script \/usr\/local\/bin\/mailctl-quota-warning/);
  t.regex(conf, /^protocol imap \{\n {2}mail_plugins \{\n {4}imap_quota = yes/m);
});

test('spam to Junk: the global before script only with SpamAssassin on', (t) => {
  t.notRegex(renderMailboxConf(configFrom()), /spam-to-junk/);
  t.regex(renderMailboxConf(configFrom({ SPAMASSASSIN: 'on' })), /sieve_script spam-to-junk \{\n {2}type = before\n {2}driver = file\n {2}path = \/etc\/dovecot\/sieve\/spam-to-junk\.sieve/);
  const hook = stackSpecs(configFrom({ SPAMASSASSIN: 'on', SPAM_TAG_SCORE: '4', SPAM_REJECT_SCORE: '12.5' }), { images: { chasquid: 'c', dovecot: 'd', spamassassin: 's', web: 'w' } })
    .find((s) => s.service === 'chasquid')!.files.find((f) => f.path === '/etc/chasquid/hooks/post-data')!.content!;
  t.regex(hook, /exit !\(s >= 12\.5\)/);
  t.regex(hook, /exit !\(s >= 4\)/);
});

test('the Sieve sender: its own passdb, kept apart from the accounts by username filters; msmtp logs in as it over STARTTLS', (t) => {
  const config = configFrom({ MAIL_HOSTNAME: 'mx.example.com', MAIL_BIND: '192.0.2.7', MAIL_PORT_SUBMISSION: '2587' });
  const conf = renderDovecotConf(config);
  t.regex(conf, /^passdb sieve-sender \{\n {2}driver = passwd-file\n {2}passwd_file_path = \/etc\/mailctl\/users\/sieve-sender\.passwd\n {2}passdb_username_filter = mailctl\+sieve@\*\n\}/m);
  t.regex(conf, /^ {2}passdb_username_filter = \* !mailctl\+sieve@\*$/m);
  // The accounts' passdb is the last: a failed login is one line ending in the hash, as the guard reads it.
  t.true(conf.indexOf('passdb sieve-sender') < conf.indexOf('passdb passwd-file'));
  t.is(conf.match(/^passdb /gm)?.length, 2);
  t.notRegex(conf.slice(conf.indexOf('userdb')), /sieve-sender\.passwd\n[^]*userdb/, 'no userdb reads its file');
  t.regex(conf, /^sendmail_path = \/usr\/local\/bin\/mailctl-sendmail$/m);
  const rc = renderMsmtprc(config);
  t.regex(rc, /^host 192\.0\.2\.7$/m);
  t.regex(rc, /^port 2587$/m);
  t.regex(rc, /^tls_starttls on$/m);
  t.regex(rc, /^user mailctl\+sieve@mx\.example\.com$/m);
  t.regex(rc, /^passwordeval cat \/etc\/mailctl\/users\/sieve-sender\.secret$/m);
  t.notRegex(rc, /^password /m, 'no password in the file');
  const dovecot = stackSpecs(config, { images: { chasquid: 'c', dovecot: 'd', web: 'w' } }).find((s) => s.service === 'dovecot')!;
  t.deepEqual(dovecot.files.map((f) => [f.path, f.mode]), [['/etc/dovecot/dovecot.conf', 0o644], ['/etc/mailctl/msmtprc', 0o644]]);
  t.true(dovecot.ports.some((p) => p.container === 4190 && p.key === 'MAIL_PORT_MANAGESIEVE'));
});

test("dovecot's quota table: STORAGE rows in KiB, '-' for no limit", (t) => {
  const table = [
    'Username\tQuota name\tType\tValue\tLimit\t%',
    'alice@example.test\tUser quota\tSTORAGE\t7\t51200\t0',
    'alice@example.test\tUser quota\tMESSAGE\t6\t-\t0',
    'bob@example.test\tUser quota\tSTORAGE\t146\t160\t91',
    'bob@example.test\tUser quota\tMESSAGE\t3\t-\t0',
    'carol@example.test\tUser quota\tSTORAGE\t12\t-\t0',
    '',
  ].join('\n');
  t.deepEqual(parseQuotaTable(table), [
    { address: 'alice@example.test', usedBytes: 7 * 1024, limitBytes: 51200 * 1024, percent: 0 },
    { address: 'bob@example.test', usedBytes: 146 * 1024, limitBytes: 160 * 1024, percent: 91 },
    { address: 'carol@example.test', usedBytes: 12 * 1024 },
  ]);
  t.deepEqual(parseQuotaTable(''), []);
});

test('mailctl quota SIZE: stored as dovecot reads it; "default" and 0 have their own words; bad sizes are usage errors', (t) => {
  t.is(quotaArgument('100k'), '100k');
  t.is(quotaArgument('1024M'), '1G');
  t.is(quotaArgument('0'), 'unlimited');
  t.is(quotaArgument('Default'), 'default');
  for (const bad of ['5X', '-1', '512', 'unlimited', '1G;reboot']) t.throws(() => quotaArgument(bad), { message: /is not a size such as 5G/ }, bad);
});

test('Sieve without enotify: its notify :from would send as anyone through the Sieve sender (found by a break-it session)', (t) => {
  t.regex(renderMailboxConf(configFrom()), /sieve_extensions \{\n {2}enotify = no\n\}/);
});
