import test from 'ava';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { restoreEnvFile, withoutTrustKeys } from '../../src/ops/restore.js';
import { doctor } from '../../src/doctor/run.js';
import { greet, GREETINGS } from '../../src/doctor/greeting.js';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { parse, stringify } from 'yaml';
import { parse as parseDotenv } from 'dotenv';
import { composeDocument } from '../../src/model/compose-file.js';
import { createOptions } from '../../src/docker/create-options.js';
import { certificateExpiry, dnsblQueryName, dnsblVerdict, ptrVerdict, anyFailed } from '../../src/doctor/judge.js';
import { maildirMessageOwner, parseManifest, volumeOfEntry } from '../../src/ops/manifest.js';
import { configHash, specAspects } from '../../src/model/hash.js';
import { stackSpecs } from '../../src/plan/services.js';
import { DEFAULT_LIMITS, PRIVILEGES } from '../../src/model/limits.js';
import { configFrom } from '../helpers/config.js';
import { FakeEngine } from '../helpers/fake-engine.js';
import { projectLabels } from '../../src/model/labels.js';

const images = { chasquid: 'mailctl/chasquid:aaa', dovecot: 'mailctl/dovecot:bbb', certbot: 'mailctl/certbot:ccc', dockerproxy: 'mailctl/dockerproxy:ddd', spamassassin: 'mailctl/spamassassin:eee', web: 'mailctl/web:fff' };

test('manifest: a good one parses; a foreign format or unknown volume is a clear error', (t) => {
  const good = { format: 'mailctl-backup/1', project: 'p', domain: 'example.com', hostname: 'mail.example.com', volumes: ['users', 'mail'], site: ['.env'] };
  t.deepEqual(parseManifest(JSON.stringify(good), 'f').volumes, ['users', 'mail']);
  t.throws(() => parseManifest('{', 'f'), { message: /f: the manifest is not JSON/ });
  t.throws(() => parseManifest(JSON.stringify({ ...good, format: 'other/9' }), 'f'), { message: /format other\/9, not mailctl-backup\/1/ });
  t.throws(() => parseManifest(JSON.stringify({ ...good, volumes: ['mail', 'etc'] }), 'f'), { message: /unknown volumes \(etc\)/ });
});

test('archive entries: which volume, and which mailbox a message file belongs to (never tmp/)', (t) => {
  t.is(volumeOfEntry('mailctl-backup/volumes/chasquid-state/queue/m:1'), 'chasquid-state');
  t.is(volumeOfEntry('mailctl-backup/site/.env'), undefined);
  t.is(volumeOfEntry('mailctl-backup/volumes/elsewhere/x'), undefined);
  t.is(maildirMessageOwner('mailctl-backup/volumes/mail/example.com/ann/Maildir/cur/1.M2P3.dovecot,S=10:2,S'), 'ann@example.com');
  t.is(maildirMessageOwner('mailctl-backup/volumes/mail/example.com/ann/Maildir/.Sent/new/1.M2'), 'ann@example.com');
  t.is(maildirMessageOwner('mailctl-backup/volumes/mail/example.com/ann/Maildir/tmp/1.M2'), undefined);
  t.is(maildirMessageOwner('mailctl-backup/volumes/mail/example.com/ann/Maildir/dovecot-uidlist'), undefined);
});

test('doctor: certificate expiry is ok, warn under 14 days, fail when expired', (t) => {
  t.is(certificateExpiry(90, '2027-01-01', 'renew').status, 'ok');
  t.is(certificateExpiry(14, '2027-01-01', 'renew').status, 'ok');
  const soon = certificateExpiry(13, '2027-01-01', 'run renew');
  t.is(soon.status, 'warn');
  t.is(soon.fix, 'run renew');
  t.is(certificateExpiry(-1, '2026-01-01', 'renew').status, 'fail');
});

test('doctor: DNSBL names and answers (RFC 5782; Spamhaus refusal codes are not a listing)', (t) => {
  t.is(dnsblQueryName('198.51.100.7', 'zen.spamhaus.org'), '7.100.51.198.zen.spamhaus.org');
  t.is(dnsblVerdict('198.51.100.7', 'bl.test', 'nxdomain').status, 'ok');
  const listed = dnsblVerdict('198.51.100.7', 'bl.test', ['127.0.0.2']);
  t.is(listed.status, 'fail');
  t.regex(listed.detail, /is listed \(127\.0\.0\.2\)/);
  t.regex(listed.fix!, /delisting/);
  t.is(dnsblVerdict('198.51.100.7', 'zen.spamhaus.org', ['127.255.255.254']).status, 'warn');
  t.is(dnsblVerdict('198.51.100.7', 'bl.test', { error: 'ETIMEOUT' }).status, 'warn');
  t.true(anyFailed([listed]));
  t.false(anyFailed([dnsblVerdict('198.51.100.7', 'bl.test', 'nxdomain')]));
});

test('doctor: PTR must name MAIL_HOSTNAME (trailing dot and case do not matter)', (t) => {
  t.is(ptrVerdict('MAIL_IPV4', '192.0.2.1', ['Mail.Example.com.'], 'mail.example.com').status, 'ok');
  const wrong = ptrVerdict('MAIL_IPV4', '192.0.2.1', ['host-1.provider.net'], 'mail.example.com');
  t.is(wrong.status, 'fail');
  t.regex(wrong.detail, /host-1\.provider\.net, not mail\.example\.com/);
  t.is(ptrVerdict('MAIL_IPV6', '2001:db8::1', { error: 'ENOTFOUND' }, 'mail.example.com').status, 'fail');
});

test('config: DNSBL_ZONES has defaults, can be set or turned off, and is checked', (t) => {
  t.deepEqual(configFrom().dnsblZones, ['zen.spamhaus.org', 'bl.spamcop.net', 'psbl.surriel.com']);
  t.deepEqual(configFrom({ DNSBL_ZONES: 'bl.test, Other.Test' }).dnsblZones, ['bl.test', 'other.test']);
  t.deepEqual(configFrom({ DNSBL_ZONES: 'off' }).dnsblZones, []);
  t.throws(() => configFrom({ DNSBL_ZONES: 'bad_zone' }), { message: /DNSBL_ZONES/ });
});

function composeFor(raw: Record<string, string> = {}) {
  const config = configFrom({ MAILCTL_PROJECT: 'p', MAIL_BIND: '127.0.0.1', ...raw });
  const specs = stackSpecs(config, { images }).map((spec) => ({ spec, aspects: specAspects(spec, `sha256:${spec.service}`) }));
  return { specs, out: composeDocument({ project: 'p', network: 'p-net', subnet: config.subnet, specs, filesDir: '/site/p-files' }) };
}

test('compose: same images, ports, volumes, healthchecks and config hash as the specs', (t) => {
  const { specs, out } = composeFor({ MAIL_PORT_SMTP: '2525' });
  const doc = parse(stringify(out.document)) as { services: Record<string, any>; volumes: Record<string, any>; networks: any };
  t.deepEqual(Object.keys(doc.services), ['dovecot', 'chasquid', 'web']);
  const chasquid = doc.services.chasquid;
  t.is(chasquid.image, 'mailctl/chasquid:aaa');
  t.is(chasquid.container_name, 'p-chasquid');
  t.is(chasquid.network_mode, 'host', 'chasquid listens on the host\'s addresses itself: real client addresses');
  t.is(chasquid.ports, undefined);
  t.is(chasquid.networks, undefined);
  t.is(chasquid.environment.MAILCTL_PROBE_PORTS, '2525 587', 'both chasquid instances are probed');
  t.deepEqual(chasquid.healthcheck, { test: ['CMD', '/usr/local/bin/mailctl-healthcheck'], interval: '10s', timeout: '5s', start_period: '60s', retries: 3 });
  t.is(chasquid.labels['dev.mailctl.config-hash'], configHash(specs[1].aspects));
  t.deepEqual(chasquid.volumes[0], { type: 'volume', source: 'p-chasquid-state', target: '/var/lib/chasquid' });
  t.deepEqual(chasquid.volumes.at(-1), { type: 'bind', source: '/site/p-files/chasquid/etc/chasquid/submission/chasquid.conf', target: '/etc/chasquid/submission/chasquid.conf', read_only: true });
  t.deepEqual(doc.volumes['p-mail'], { external: true, name: 'p-mail' });
  t.is(doc.networks.default.name, 'p-net');
  // The domain's directory lives on the state volume: written there by mailctl, not bind-mounted.
  t.deepEqual(out.volumeFiles.map((v) => [v.spec.service, v.files.map((f) => f.path)]).slice(0, 1), [['chasquid', ['/var/lib/chasquid/submission', '/var/lib/chasquid/domains/example.com']]]);
  // The web service's read-only root takes its files on its volume, written there too.
  t.deepEqual(out.volumeFiles[1].files.map((f) => f.path).filter((p) => p.endsWith('.conf') || p.endsWith('.txt')), ['/srv/mailctl-web/nginx.conf', '/srv/mailctl-web/example.com/.well-known/mta-sts.txt']);
  t.deepEqual(doc.services.web.ports, ['127.0.0.1:80:80', '127.0.0.1:443:443']);
  t.is(doc.services.web.read_only, true);
  t.deepEqual(doc.services.web.tmpfs, ['/run:rw,nosuid,nodev,noexec,size=1m,uid=2502,gid=2500']);
  t.deepEqual(out.files.map((f) => f.path), ['dovecot/etc/dovecot/dovecot.conf', 'dovecot/etc/mailctl/msmtprc', 'chasquid/etc/chasquid/chasquid.conf', 'chasquid/etc/chasquid/submission/chasquid.conf']);
});

test('compose: acme adds the proxy (with the socket) and certbot (with its aliases); filters add the hook file', (t) => {
  const { out } = composeFor({ CERT_MODE: 'acme', ACME_EMAIL: 'a@example.com', SPAMASSASSIN: 'on', MAIL_SUBNET: '172.29.99.0/24' });
  const doc = out.document as { services: Record<string, any>; networks: any };
  t.deepEqual(Object.keys(doc.services), ['dovecot', 'chasquid', 'dockerproxy', 'certbot', 'spamassassin', 'web']);
  t.deepEqual(doc.services.dockerproxy.volumes[0], { type: 'bind', source: '/var/run/docker.sock', target: '/var/run/docker.sock' });
  t.is(doc.services.certbot.networks.default, null, 'http-01 goes through the web service');
  t.deepEqual(doc.services.web.networks.default.aliases, ['mail.example.com', 'autoconfig.example.com', 'autodiscover.example.com', 'mta-sts.example.com']);
  t.deepEqual(doc.networks.default.ipam, { config: [{ subnet: '172.29.99.0/24' }] });
  t.true(out.files.some((f) => f.path === 'chasquid/etc/chasquid/hooks/post-data' && f.mode === 0o755));
});

test('containers get the spec\'s healthcheck, in nanoseconds', (t) => {
  const { specs } = composeFor();
  const options = createOptions(specs[0].spec, 'p', 'p-net', specs[0].aspects);
  t.deepEqual(options.Healthcheck, { Test: ['CMD', '/usr/local/bin/mailctl-healthcheck'], Interval: 10e9, Timeout: 5e9, StartPeriod: 60e9, Retries: 3 });
});

test('restore: the backup\'s .env is written only where there is none', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mailctl-restore-env-'));
  const contents = {
    manifest: parseManifest(JSON.stringify({ format: 'mailctl-backup/1', project: 'p', domain: 'example.com', hostname: 'mail.example.com', volumes: ['mail'] }), 'f'),
    site: new Map([['.env', { content: Buffer.from('MAIL_DOMAIN=example.com\n'), mode: 0o600 }]]),
    files: {}, messages: {},
  };
  const fresh = configFrom();
  const config = { ...fresh, envFile: join(dir, '.env'), siteDir: dir };
  t.is(restoreEnvFile(contents, config).written, join(dir, '.env'));
  t.deepEqual(parseDotenv(readFileSync(join(dir, '.env'), 'utf8')), { MAIL_DOMAIN: 'example.com' });
  t.is(statSync(join(dir, '.env')).mode & 0o777, 0o600);
  writeFileSync(join(dir, '.env'), 'MAIL_DOMAIN=mine.example\n');
  const kept = restoreEnvFile(contents, config);
  t.is(kept.written, undefined);
  t.is(readFileSync(join(dir, '.env'), 'utf8'), 'MAIL_DOMAIN=mine.example\n', 'an existing .env is never replaced');
  t.deepEqual(kept.differences, [{ key: 'MAIL_DOMAIN', here: 'mine.example', backup: 'example.com' }]);
});

test('restore: a backup does not choose the base image, the ACME server or the resolvers unless trusted', (t) => {
  const env = '# site\nMAIL_DOMAIN=example.com\nMAILCTL_BASE_IMAGE=evil/base:latest\nexport ACME_SERVER=https://acme.evil.example/dir\nMAIL_DNS=203.0.113.53\nMAIL_BIND=0.0.0.0\n';
  const { content, withheld } = withoutTrustKeys(env);
  t.deepEqual(parseDotenv(content), { MAIL_DOMAIN: 'example.com', MAIL_BIND: '0.0.0.0' });
  t.deepEqual(withheld.map((w) => w.key), ['MAILCTL_BASE_IMAGE', 'ACME_SERVER', 'MAIL_DNS']);
  // What dotenv reads is what is filtered: `KEY: value`, a lone CR, quotes (found by a break-it session).
  const sneaky = withoutTrustKeys("MAIL_DOMAIN=example.com\nMAIL_BAN: off\nMAILCTL_BASE_IMAGE: evil/base\nDKIM_SELECTOR=mail\rMAIL_TRUSTED_NETWORKS=0.0.0.0/0\n");
  t.deepEqual(parseDotenv(sneaky.content), { MAIL_DOMAIN: 'example.com', DKIM_SELECTOR: 'mail' });
  t.deepEqual(sneaky.withheld.map((w) => w.key).sort(), ['MAILCTL_BASE_IMAGE', 'MAIL_BAN', 'MAIL_TRUSTED_NETWORKS']);
  const quoted = withoutTrustKeys("A='x\"y'\nB=\"it's\"\nC=\"one\\ntwo\"\n");
  t.deepEqual(parseDotenv(quoted.content), { A: 'x"y', B: "it's" }, 'quotes round-trip');
  t.deepEqual(quoted.withheld.map((w) => w.key), ['C'], 'a value on two lines cannot be written back: withheld, and said');
  const dir = mkdtempSync(join(tmpdir(), 'mailctl-restore-'));
  const contents = { site: new Map([['.env', { content: Buffer.from(env), mode: 0o600 }]]) } as unknown as Parameters<typeof restoreEnvFile>[0];
  const config = { ...configFrom(), envFile: join(dir, '.env'), siteDir: dir };
  t.deepEqual(restoreEnvFile(contents, config).withheld.map((w) => w.key), ['MAILCTL_BASE_IMAGE', 'ACME_SERVER', 'MAIL_DNS']);
  t.notRegex(readFileSync(join(dir, '.env'), 'utf8'), /evil/);
  const trusted = { ...config, envFile: join(mkdtempSync(join(tmpdir(), 'mailctl-restore-')), '.env') };
  restoreEnvFile(contents, trusted, true);
  t.regex(readFileSync(trusted.envFile, 'utf8'), /MAILCTL_BASE_IMAGE=evil/, '--trust-backup adopts them');
});

test('doctor without an engine: that check fails with the fix, and the DNS checks still run', async (t) => {
  const checks = await doctor(configFrom({ MAIL_IPV4: '198.51.100.7', DNSBL_ZONES: 'off' }), {
    connect: async () => { throw new Error('no Docker engine answers at /var/run/docker.sock'); },
    resolver: '127.0.0.1:9',
  });
  const engine = checks.find((c) => c.name === 'docker engine')!;
  t.is(engine.status, 'fail');
  t.regex(engine.fix!, /make engine/);
  t.false(checks.some((c) => c.name.startsWith('service ')), 'no service checks without an engine');
  t.truthy(checks.find((c) => c.name === 'dns records' || c.name.startsWith('dns ')), 'DNS was still asked');
  t.truthy(checks.find((c) => c.name === 'reverse DNS of 198.51.100.7 (MAIL_IPV4)'));
});

test('doctor greets: a greeting passes; a port that accepts and says nothing (docker\'s proxy) fails', async (t) => {
  const sockets: Socket[] = [];
  const serve = (greeting?: string) => new Promise<Server>((resolve) => {
    const server = createServer((socket) => { sockets.push(socket); if (greeting) socket.write(greeting); });
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
  const port = (s: Server) => (s.address() as AddressInfo).port;
  const smtp = await serve('220 mail.example.com ESMTP\r\n');
  const silent = await serve();
  const wrong = await serve('-ERR go away\r\n');
  try {
    t.deepEqual(await greet('127.0.0.1', port(smtp), GREETINGS[25]), { ok: true, line: '220 mail.example.com ESMTP' });
    t.deepEqual(await greet('127.0.0.1', port(silent), GREETINGS[25], 300), { ok: false, line: 'no greeting' });
    t.false((await greet('127.0.0.1', port(wrong), GREETINGS[110])).ok);
  } finally {
    for (const socket of sockets) socket.destroy();
    for (const s of [smtp, silent, wrong]) s.close();
  }
});

test('doctor knows the greeting of every port a stack can publish', (t) => {
  const { specs } = composeFor({ CERT_MODE: 'acme', ACME_EMAIL: 'a@example.com', SPAMASSASSIN: 'on' });
  const ports = specs.flatMap((d) => d.spec.ports.map((p) => p.container));
  t.deepEqual(ports.filter((p) => !GREETINGS[p]), []);
  t.true(ports.length >= 8);
});

test('compose: the web service (on the stack network) is published on IPv4 and IPv6 for a wildcard MAIL_BIND; certbot not at all', (t) => {
  const { out } = composeFor({ CERT_MODE: 'acme', MAIL_BIND: '0.0.0.0,::' });
  const doc = parse(stringify(out.document)) as { services: Record<string, any> };
  t.deepEqual(doc.services.web.ports, ['0.0.0.0:80:80', '[::]:80:80', '0.0.0.0:443:443', '[::]:443:443']);
  t.is(doc.services.certbot.ports, undefined);
  t.is(doc.services.dovecot.network_mode, 'host');
});

test('host files: written by an unguessable exclusive temp name with their final mode, nothing left behind', async (t) => {
  const { mkdtempSync, readdirSync, statSync, readFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { tempPathFor, writeAtomic } = await import('../../src/core/files.js');
  const dir = mkdtempSync(join(tmpdir(), 'mailctl-files-'));
  const file = join(dir, 'backup.tar.gz');
  t.not(tempPathFor(file), tempPathFor(file), 'a new name each time: another local user cannot prepare it');
  t.true(tempPathFor(file).startsWith(join(dir, '.backup.tar.gz.')));
  writeAtomic(file, 'secret', 0o600);
  t.is(statSync(file).mode & 0o777, 0o600);
  t.is(readFileSync(file, 'utf8'), 'secret');
  t.deepEqual(readdirSync(dir), ['backup.tar.gz']);
});

test('every container: all capabilities dropped but its own, no-new-privileges, memory and pids limits, overridable', (t) => {
  const { specs } = composeFor({});
  for (const { spec } of specs) {
    t.deepEqual(spec.privileges, PRIVILEGES[spec.service as keyof typeof PRIVILEGES], spec.service);
    t.is(spec.limits.memoryBytes, DEFAULT_LIMITS[spec.service as keyof typeof DEFAULT_LIMITS].memoryBytes);
  }
  t.true(Object.entries(PRIVILEGES).every(([s, p]) => p.noNewPrivileges || s === 'chasquid'), 'only chasquid, whose file capability binds its ports');
  const config = configFrom({ MAIL_MEMORY: 'clamav=3g, dovecot=1024m', MAIL_PIDS: 'dovecot=2048' });
  t.is(config.limits.clamav.memoryBytes, 3 * 2 ** 30);
  t.is(config.limits.dovecot.memoryBytes, 2 ** 30);
  t.is(config.limits.dovecot.pids, 2048);
  t.is(config.limits.chasquid.pids, DEFAULT_LIMITS.chasquid.pids);
  const err = t.throws(() => configFrom({ MAIL_MEMORY: 'postfix=1g,dovecot=10m,clamav', MAIL_PIDS: 'dovecot=many' }));
  t.regex(err!.message, /MAIL_MEMORY "postfix=1g" is not SERVICE=VALUE/);
  t.regex(err!.message, /MAIL_MEMORY "dovecot=10m": a size of at least 32m/);
  t.regex(err!.message, /MAIL_MEMORY "clamav" is not SERVICE=VALUE/);
  t.regex(err!.message, /MAIL_PIDS "dovecot=many": a whole number of processes/);
  const options = createOptions(specs[0].spec, 'p', 'p-net', specs[0].aspects);
  t.deepEqual([options.HostConfig?.CapDrop, options.HostConfig?.Memory, options.HostConfig?.MemorySwap, options.HostConfig?.PidsLimit],
    [['ALL'], DEFAULT_LIMITS.dovecot.memoryBytes, DEFAULT_LIMITS.dovecot.memoryBytes, DEFAULT_LIMITS.dovecot.pids]);
  t.deepEqual(options.HostConfig?.LogConfig, { Type: 'json-file', Config: { 'max-size': '10m', 'max-file': '3' } });
});

test('doctor on a Swarm stack: the fixes say to redeploy the stack file, not `mailctl up` (which refuses one)', async (t) => {
  const config = configFrom({ MAILCTL_PROJECT: 'p', MAIL_IPV4: '198.51.100.7', DNSBL_ZONES: 'off' });
  const plain = new FakeEngine();
  const swarm = new FakeEngine();
  swarm.services.push({ id: 's1', name: 'p_dovecot', labels: { ...projectLabels('p', 'dovecot') } });
  const fixes = async (engine: FakeEngine) => (await doctor(config, { connect: async () => engine, resolver: '127.0.0.1:9' }))
    .filter((c) => c.name.startsWith('service ')).map((c) => c.fix ?? '');
  const plainFixes = await fixes(plain);
  t.true(plainFixes.length > 0 && plainFixes.every((f) => /`mailctl up`/.test(f)), plainFixes.join('\n'));
  const onSwarm = await fixes(swarm);
  t.true(onSwarm.length > 0 && onSwarm.every((f) => /mailctl compose --swarm -o FILE.*docker stack deploy --resolve-image never -c FILE p/.test(f) && !/mailctl up/.test(f)), onSwarm.join('\n'));
});
