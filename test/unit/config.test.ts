import test from 'ava';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildConfig } from '../../src/config/config.js';
import { loadConfig } from '../../src/config/load.js';
import { UsageError } from '../../src/core/errors.js';
import { configFrom } from '../helpers/config.js';

const tempDir = () => mkdtempSync(join(tmpdir(), 'mailctl-config-'));

test('no .env at all: the local sandbox on 127.0.0.1 with a self-signed certificate', (t) => {
  const config = loadConfig({ cwd: tempDir(), env: {} });
  t.true(config.sandbox);
  t.is(config.domain, 'example.test');
  t.is(config.hostname, 'mail.example.test');
  t.is(config.certMode, 'selfsigned');
  t.deepEqual(config.binds, ['127.0.0.1', '::1'], 'this host only, IPv4 and IPv6');
  t.is(config.project, 'mailctl');
  t.deepEqual(config.ports, { smtp: 25, submission: 587, submissions: 465, imap: 143, imaps: 993, pop3: 110, pop3s: 995, http: 80, managesieve: 4190, https: 443 });
});

test('.env values, with real environment variables on top', (t) => {
  const dir = tempDir();
  writeFileSync(join(dir, '.env'), 'MAIL_DOMAIN=Example.COM\nMAIL_PORT_SMTP=2525\nMAILCTL_PROJECT=one\nCERT_MODE=manual\n');
  const config = loadConfig({ cwd: dir, env: { MAILCTL_PROJECT: 'two', UNRELATED: 'x' } });
  t.false(config.sandbox);
  t.is(config.domain, 'example.com');
  t.is(config.hostname, 'mail.example.com');
  t.is(config.ports.smtp, 2525);
  t.is(config.project, 'two');
  t.deepEqual(config.binds, ['0.0.0.0', '::'], 'every address, IPv4 and IPv6');
  t.is(config.siteDir, dir);
});

test('a missing --env-file is a usage error that names the file', (t) => {
  const err = t.throws(() => loadConfig({ cwd: tempDir(), envFile: 'nope.env', env: {} }), { instanceOf: UsageError });
  t.regex(err!.message, /nope\.env does not exist/);
});

test('every problem is reported at once, each naming its key', (t) => {
  const err = t.throws(() => configFrom({
    MAIL_DOMAIN: 'not a domain', MAIL_IPV4: '300.1.1.1', MAIL_PORT_IMAP: '70000', CERT_MODE: 'magic', MAIL_DNS: 'dns.example', MAILCTL_PROJECT: 'Bad Name',
  }), { instanceOf: UsageError });
  for (const key of ['MAIL_DOMAIN', 'MAIL_IPV4', 'MAIL_PORT_IMAP', 'CERT_MODE', 'MAIL_DNS', 'MAILCTL_PROJECT']) {
    t.true(err!.message.includes(key), `mentions ${key}`);
  }
  t.regex(err!.message, /6 problem/);
});

test('MAIL_DOMAIN is required outside the sandbox', (t) => {
  const dir = tempDir();
  writeFileSync(join(dir, '.env'), 'CERT_MODE=selfsigned\n');
  t.throws(() => loadConfig({ cwd: dir, env: {} }), { instanceOf: UsageError, message: /MAIL_DOMAIN is not set/ });
});

test('two services on one port are refused', (t) => {
  t.throws(() => configFrom({ MAIL_PORT_IMAP: '25' }), { message: /MAIL_PORT_IMAP and MAIL_PORT_SMTP are both 25/ });
});

test('MAIL_DNS takes several resolvers; the config is frozen', (t) => {
  const config = configFrom({ MAIL_DNS: '192.0.2.53, 2001:db8::53' });
  t.deepEqual(config.dns, ['192.0.2.53', '2001:db8::53']);
  t.true(Object.isFrozen(config));
  t.is(config.acme.server, 'https://acme-v02.api.letsencrypt.org/directory');
});

test('MAIL_POSTMASTER: an address, normalised; not a role address itself', (t) => {
  t.is(configFrom({ MAIL_POSTMASTER: 'Boss@Bücher.test' }).postmaster, 'boss@xn--bcher-kva.test');
  t.is(configFrom({}).postmaster, undefined);
  t.throws(() => configFrom({ MAIL_POSTMASTER: 'not an address' }), { message: /MAIL_POSTMASTER|not a mail address/ });
  t.throws(() => configFrom({ MAIL_POSTMASTER: 'postmaster@example.com' }), { message: /a person's address/ });
});

test('MAIL_BIND: a list of addresses; anything else is named', (t) => {
  t.deepEqual(configFrom({ MAIL_BIND: '198.51.100.7, 2001:db8::7' }).binds, ['198.51.100.7', '2001:db8::7']);
  t.throws(() => configFrom({ MAIL_BIND: '127.0.0.1,localhost' }), { message: /MAIL_BIND "localhost" is not an IP address/ });
  t.throws(() => configFrom({ MAIL_BIND: ',' }), { message: /MAIL_BIND is empty/ });
});

test('a host without IPv6: the default MAIL_BIND is IPv4 only, and an IPv6 address there is refused', (t) => {
  const where = { sandbox: false, envFile: '/site/.env', siteDir: '/site', ipv6: false };
  t.deepEqual(buildConfig({ MAIL_DOMAIN: 'example.com' }, where).binds, ['0.0.0.0']);
  t.deepEqual(buildConfig({ MAIL_DOMAIN: 'example.com' }, { ...where, sandbox: true }).binds, ['127.0.0.1']);
  t.throws(() => buildConfig({ MAIL_DOMAIN: 'example.com', MAIL_BIND: '0.0.0.0,::' }, where), { message: /MAIL_BIND "::" is IPv6, but this host has IPv6 switched off/ });
});

test('MAIL_BIND: one spelling per address; IPv4-mapped addresses refused (found by a break-it session)', (t) => {
  t.deepEqual(configFrom({ MAIL_BIND: '0:0:0:0:0:0:0:0' }).binds, ['::'], 'a wildcard however written');
  t.deepEqual(configFrom({ MAIL_BIND: '::0,::' }).binds, ['::']);
  t.deepEqual(configFrom({ MAIL_BIND: '2001:DB8:0::7' }).binds, ['2001:db8::7']);
  t.throws(() => configFrom({ MAIL_BIND: '127.0.0.1,::ffff:127.0.0.1' }), { message: /IPv4-mapped/ });
});

test('up refuses a MAIL_BIND address this host does not have (the daemons would crash-loop)', async (t) => {
  const { foreignBindAddresses, checkBindAddresses } = await import('../../src/stack/host.js');
  const nic = (address: string, family: 'IPv4' | 'IPv6') => ({ address, family, netmask: '', mac: '', internal: false, cidr: null, ...(family === 'IPv6' ? { scopeid: 0 } : {}) }) as never;
  const interfaces = { lo: [nic('127.0.0.1', 'IPv4'), nic('::1', 'IPv6')], eth0: [nic('198.51.100.7', 'IPv4'), nic('fe80::1', 'IPv6')] };
  t.deepEqual(foreignBindAddresses(['0.0.0.0', '::', '127.0.0.1', 'fe80::1%eth0', '203.0.113.9'], interfaces), ['203.0.113.9']);
  t.deepEqual(foreignBindAddresses(['172.29.54.1', '172.29.55.1'], interfaces, '172.29.54.0/24'), ['172.29.55.1'], 'the stack network\'s gateway is made by up');
  t.throws(() => checkBindAddresses(configFrom({ MAIL_BIND: '203.0.113.9' }), undefined, interfaces), { message: /MAIL_BIND 203\.0\.113\.9 is not an address of this host/ });
  t.notThrows(() => checkBindAddresses(configFrom({ MAIL_BIND: '203.0.113.9' }), 'tcp://engine.example:2376', interfaces), 'a remote engine: not this host\'s business');
});

test('a key mailctl does not read is an error naming the nearest one; unrelated environment variables are not', (t) => {
  const dir = tempDir();
  writeFileSync(join(dir, '.env'), 'MAIL_DOMAIN=example.com\nCERT_MOD=selfsigned\nFROBNICATE=1\n');
  const err = t.throws(() => loadConfig({ cwd: dir, env: { PATH: '/bin', HOME: '/root' } }), { instanceOf: UsageError });
  t.regex(err!.message, /CERT_MOD is not a setting mailctl knows: did you mean CERT_MODE\?/);
  t.regex(err!.message, /FROBNICATE is not a setting mailctl knows \(remove it/);
  t.notRegex(err!.message, /FROBNICATE.*did you mean/);
});

test('a .env that is a directory is one clear line', (t) => {
  const dir = tempDir();
  mkdirSync(join(dir, '.env'));
  t.throws(() => loadConfig({ cwd: dir, env: {} }), { instanceOf: UsageError, message: /\.env is a directory: it must be a file of KEY=value lines/ });
});

test('MAIL_SUBNET: a network a bridge can use', (t) => {
  t.is(configFrom({ MAIL_SUBNET: '172.29.53.0/24' }).subnet, '172.29.53.0/24');
  for (const [value, why] of [['999.1.1.1/99', /not an IPv4 subnet|above 255/], ['10.0.0.0/31', /between \/8 and \/29/], ['10.0.0.5/24', /host bits set/], ['300.1.1.0/24', /above 255/], ['10.0.0.0', /not an IPv4 subnet/]] as const) {
    t.throws(() => configFrom({ MAIL_SUBNET: value }), { instanceOf: UsageError, message: why }, value);
  }
});

test('.env lines dotenv would skip or take twice, odd files, and wide or unbounded values are refused (found by a break-it session)', (t) => {
  const load = (text: string | Buffer) => {
    const dir = tempDir();
    writeFileSync(join(dir, '.env'), text);
    return () => loadConfig({ cwd: dir, env: {} });
  };
  const err = t.throws(load('MAIL_DOMAIN=example.com\nCERT_MODE\nCERT_MODE=selfsigned\nCERT_MODE=acme\n'), { instanceOf: UsageError });
  t.regex(err!.message, /line 2: CERT_MODE has no value: write CERT_MODE=VALUE/);
  t.regex(err!.message, /CERT_MODE is set twice \(lines 3 and 4\)/);
  // KEY= would quietly be the default (found by a break-it session).
  t.throws(load('MAIL_DOMAIN=example.com\nMAIL_QUOTA=\nDKIM_SELECTOR=  \n'), { message: /line 2: MAIL_QUOTA is empty: give it a value, or remove the line .*line 3: DKIM_SELECTOR is empty/s });
  t.throws(load(Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 1, 2])), { message: /\.env is not a text file/ });
  t.throws(load('#'.repeat(70 * 1024)), { message: /is 70 KiB: a \.env is a few lines/ });
  const many = t.throws(load(`MAIL_DOMAIN=example.com\n${Array.from({ length: 3000 }, (_, i) => `UNKNOWN_${i}=1`).join('\n')}\n`));
  t.regex(many!.message, /has 3000 problem\(s\)/);
  t.regex(many!.message, /\.\.\. and 2980 more$/);
  const dangling = tempDir();
  symlinkSync(join(dangling, 'missing.env'), join(dangling, '.env'));
  t.throws(() => loadConfig({ cwd: dangling, env: {} }), { message: /is a link to a file that does not exist/ });
  for (const [raw, why] of [
    [{ MAIL_TRUSTED_NETWORKS: '0.0.0.0/0' }, /trusts a large part of the internet: to switch bans off, write MAIL_BAN=off/],
    [{ MAIL_TRUSTED_NETWORKS: '10.0.0.1/8' }, /host bits set/],
    [{ MAIL_BAN_TIME: '1s' }, /MAIL_BAN_TIME "1s" is out of range: from 1m to 30d/],
    [{ MAIL_BAN_WINDOW: '100000d' }, /out of range/],
    [{ ACME_SERVER: 'http://acme.example/dir' }, /is not an https URL/],
    [{ MAILCTL_BASE_IMAGE: 'debian;rm -rf /' }, /is not an image reference/],
    [{ MAIL_SUBNET: '127.0.0.0/24' }, /loopback, link-local or not unicast/],
    [{ MAIL_SUBNET: '010.0.0.0/24' }, /leading zero/],
    [{ MAIL_BIND: 'fe80::1%eth0' }, /has a zone index/],
    [{ MAIL_MEMORY: 'dovecot=1g,dovecot=2g' }, /MAIL_MEMORY names dovecot twice/],
  ] as const) {
    t.throws(() => configFrom(raw as Record<string, string>), { instanceOf: UsageError, message: why }, JSON.stringify(raw));
  }
});
