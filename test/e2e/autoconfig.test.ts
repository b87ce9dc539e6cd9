/**
 * The web service (issue 17) on a running stack with two domains: what
 * Thunderbird, Outlook and an iPhone fetch, and what a sending MTA fetches
 * for MTA-STS, asked with curl as they would (by name, through --resolve to
 * the published port, verified against the local CA); the records `dns`
 * prints for them, checked against a real DNS server (the rig's dnsmasq);
 * doctor; a renewal; and hostile requests.
 */
import test from 'ava';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DnsRecord } from '../../src/dns/records.js';
import { dnsmasqZone, docker, dumpLogs, gatewayOf, hardeningProblems, mailctl, portsFrom, removeProject, rig, run, show, siteWithEnv } from '../helpers/e2e.js';

const PROJECT = 'mctest17';
const SUBNET = '172.29.72.0/24';
const BIND = gatewayOf(SUBNET);
const DNS_IP = '172.29.72.53';
const PORTS = portsFrom(40000);
const HTTPS = Number(PORTS.MAIL_PORT_HTTPS);
const HTTP = Number(PORTS.MAIL_PORT_HTTP);
const WEB = `${PROJECT}-web`;
const zoneDir = mkdtempSync(join(tmpdir(), 'mailctl-zone17-'));
const site = siteWithEnv({
  MAIL_DOMAIN: 'first.test', CERT_MODE: 'selfsigned', MAILCTL_PROJECT: PROJECT, MAIL_BIND: BIND, MAIL_SUBNET: SUBNET,
  MAIL_DNS: DNS_IP, MAIL_IPV4: '198.51.100.17', ...PORTS,
});
const CA = join(site, 'certs', PROJECT, 'ca.crt');
const { compose } = rig({ project: PROJECT, dnsIp: DNS_IP, caDir: join(site, 'certs', PROJECT), DNS_ZONE_DIR: zoneDir });
const cli = (args: string[], stdin?: string, env: NodeJS.ProcessEnv = {}) => mailctl(site, args, stdin, { MAILCTL_DEBUG: '', ...env });

/** curl as a client that resolved `name` to the stack: SNI, Host and verification by name, against the local CA. */
async function fetch(name: string, path: string, extra: string[] = [], port = HTTPS): Promise<{ status: number; headers: string; body: string; code: number; stderr: string }> {
  const scheme = port === HTTP ? 'http' : 'https';
  const r = await run('curl', ['-sS', '--max-time', '10', '--resolve', `${name}:${port}:${BIND}`, '--cacert', CA, '-D', '-', ...extra, `${scheme}://${name}:${port}${path}`]);
  const split = r.stdout.indexOf('\r\n\r\n');
  const headers = split >= 0 ? r.stdout.slice(0, split) : r.stdout;
  return { status: Number(/^HTTP\/[\d.]+ (\d{3})/.exec(headers)?.[1] ?? 0), headers, body: split >= 0 ? r.stdout.slice(split + 4) : '', code: r.code, stderr: r.stderr };
}

test.before(async () => {
  await removeProject(PROJECT);
  const up = await cli(['up']);
  if (up.code !== 0) throw new Error(show(up));
  const dns = await compose(['up', '-d', '--build', 'dns']);
  if (dns.code !== 0) throw new Error(show(dns));
});
test.after.always(async () => {
  await compose(['down', '--volumes', '--remove-orphans']);
  await removeProject(PROJECT);
});
test.afterEach.always(async (t) => {
  if (!t.passed) t.log(await dumpLogs([`dev.mailctl.project=${PROJECT}`, 'dev.mailctl.rig=true']));
});

test.serial('the web container: healthy, no capability, read-only root, not root, no Docker socket; its size and memory', async (t) => {
  // up ran the probe itself; the engine's own first one comes within its interval.
  let info = await docker.getContainer(WEB).inspect();
  for (let i = 0; i < 60 && info.State.Health?.Status !== 'healthy'; i++) {
    await new Promise((r) => setTimeout(r, 500));
    info = await docker.getContainer(WEB).inspect();
  }
  t.is(info.State.Health?.Status, 'healthy');
  t.true(info.HostConfig.ReadonlyRootfs);
  t.deepEqual(info.HostConfig.CapAdd ?? [], []);
  const id = await run('docker', ['exec', WEB, 'id']);
  t.regex(id.stdout, /^uid=2502\(mailctl-web\) gid=2500\(chasquid\)/);
  t.false(info.Mounts.some((m) => /docker\.sock/.test(m.Source ?? '')), 'no Docker socket');
  t.deepEqual((await hardeningProblems(PROJECT)).problems, []);
  const size = async (ref: string) => (await docker.getImage(ref).inspect()).Size;
  const over = (await size(info.Config.Image)) - (await size('debian:trixie-slim'));
  t.true(over < 30e6, `the web image is ${(over / 1e6).toFixed(1)} MB over the base`);
  const stats = await docker.getContainer(WEB).stats({ stream: false });
  t.log(`web image ${(over / 1e6).toFixed(1)} MB over debian:trixie-slim; idle memory ${(stats.memory_stats.usage / 2 ** 20).toFixed(1)} MiB`);
});

test.serial('a second domain (mixed case, dotted account) gets its own site and certificate names; the CA is made again to cover it', async (t) => {
  t.is((await cli(['add-user', 'admin@first.test', '--password-stdin'], 'admin-pass-17\n')).code, 0);
  const before = readFileSync(CA, 'utf8');
  const added = await cli(['add-user', 'Bob.Smith@Second.TEST', '--password-stdin'], 'bob-pass-17\n');
  t.is(added.code, 0, show(added));
  t.regex(added.stderr, /recreating mctest17-web: the domains changed/);
  t.regex(added.stderr, /made a new local CA to cover every domain/);
  t.not(readFileSync(CA, 'utf8'), before);
  const served = await run('sh', ['-c', `openssl s_client -connect ${BIND}:${HTTPS} -servername autoconfig.second.test -CAfile ${CA} -verify_hostname autoconfig.second.test -verify_return_error </dev/null 2>&1`]);
  t.regex(served.stdout, /Verification: OK/, served.stdout.slice(-400));
  const imaps = await run('sh', ['-c', `openssl s_client -connect ${BIND}:${PORTS.MAIL_PORT_IMAPS} -CAfile ${CA} -verify_hostname mail.first.test -verify_return_error </dev/null 2>&1`]);
  t.regex(imaps.stdout, /Verification: OK/, 'dovecot serves the new certificate from the new CA');
});

for (const domain of ['first.test', 'second.test']) {
  test.serial(`Thunderbird's autoconfig for ${domain} names the server, its ports and socket types`, async (t) => {
    const r = await fetch(`autoconfig.${domain}`, '/mail/config-v1.1.xml');
    t.is(r.status, 200, `${r.stderr}${r.headers}`);
    t.regex(r.headers, /content-type: text\/xml/i);
    t.regex(r.body, new RegExp(`<emailProvider id="${domain}">\\s*<domain>${domain}</domain>`));
    const servers = [...r.body.matchAll(/<(incoming|outgoing)Server type="(\w+)">\s*<hostname>([^<]+)<\/hostname>\s*<port>(\d+)<\/port>\s*<socketType>(\w+)<\/socketType>/g)].map((m) => m.slice(2).join(' '));
    t.deepEqual(servers, [
      `imap mail.first.test ${PORTS.MAIL_PORT_IMAPS} SSL`, `imap mail.first.test ${PORTS.MAIL_PORT_IMAP} STARTTLS`, `pop3 mail.first.test ${PORTS.MAIL_PORT_POP3S} SSL`,
      `smtp mail.first.test ${PORTS.MAIL_PORT_SUBMISSIONS} SSL`, `smtp mail.first.test ${PORTS.MAIL_PORT_SUBMISSION} STARTTLS`,
    ]);
    t.regex(r.body, /<username>%EMAILADDRESS%<\/username>/);
    // Parsed as XML by a parser nobody here wrote, as Thunderbird does before it reads a field.
    const parsed = await run('python3', ['-c', 'import sys, xml.etree.ElementTree as E; r = E.fromstring(sys.stdin.buffer.read()); print(" ".join(s.get("type") + ":" + s.findtext("port") for s in r.iter() if s.tag.endswith("Server")))'], { stdin: r.body });
    t.is(parsed.stdout.trim(), `imap:${PORTS.MAIL_PORT_IMAPS} imap:${PORTS.MAIL_PORT_IMAP} pop3:${PORTS.MAIL_PORT_POP3S} smtp:${PORTS.MAIL_PORT_SUBMISSIONS} smtp:${PORTS.MAIL_PORT_SUBMISSION}`, show(parsed));
    const wellKnown = await fetch(`autoconfig.${domain}`, '/.well-known/autoconfig/mail/config-v1.1.xml');
    t.is(wellKnown.body, r.body);
    // The domain's own name is served too (its certificate is the domain's website's business: -k).
    const bare = await fetch(domain, '/.well-known/autoconfig/mail/config-v1.1.xml', ['-k']);
    t.is(bare.body, r.body);
  });
}

test.serial('Outlook\'s autodiscover POST (any case of the path) answers the settings; other methods are refused', async (t) => {
  const request = '<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"><Request><EMailAddress>bob.smith@second.test</EMailAddress><AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request></Autodiscover>';
  for (const path of ['/autodiscover/autodiscover.xml', '/Autodiscover/Autodiscover.xml']) {
    const r = await fetch('autodiscover.second.test', path, ['-X', 'POST', '-H', 'Content-Type: text/xml', '--data-binary', request]);
    t.is(r.status, 200, `${path}: ${r.headers}`);
    t.regex(r.body, /responseschema\/2006a/);
    t.regex(r.body, new RegExp(`<Type>IMAP</Type>\\s*<Server>mail\\.first\\.test</Server>\\s*<Port>${PORTS.MAIL_PORT_IMAPS}</Port>`));
    t.regex(r.body, new RegExp(`<Type>SMTP</Type>\\s*<Server>mail\\.first\\.test</Server>\\s*<Port>${PORTS.MAIL_PORT_SUBMISSIONS}</Port>`));
  }
  t.is((await fetch('autodiscover.second.test', '/autodiscover/autodiscover.xml', ['-X', 'PUT', '--data', 'x'])).status, 405);
  t.is((await fetch('autodiscover.second.test', '/autodiscover/autodiscover.xml', ['-X', 'POST', '--data-binary', 'x'.repeat(40_000)])).status, 413, 'no large bodies');
  t.is((await fetch('autodiscover.second.test', '/autodiscover.xml')).status, 404, 'the internal name is not reachable from outside');
});

test.serial('the MTA-STS policy is exact, and MTA_STS_MODE changes it and its id', async (t) => {
  const r = await fetch('mta-sts.second.test', '/.well-known/mta-sts.txt');
  t.is(r.status, 200);
  t.regex(r.headers, /content-type: text\/plain/i);
  t.is(r.body, 'version: STSv1\r\nmode: testing\r\nmx: mail.first.test\r\nmax_age: 86400\r\n');
  const id = (records: DnsRecord[]) => records.find((x) => x.name === '_mta-sts.second.test.')?.value;
  const testing = id(JSON.parse((await cli(['dns', '--json'])).stdout));
  const enforce = id(JSON.parse((await cli(['dns', '--json'], undefined, { MTA_STS_MODE: 'enforce' })).stdout));
  t.regex(testing ?? '', /^v=STSv1; id=[0-9a-f]{20}$/);
  t.regex(enforce ?? '', /^v=STSv1; id=[0-9a-f]{20}$/);
  t.not(testing, enforce, 'the id changes with the policy');
  const bad = await cli(['dns'], undefined, { MTA_STS_MODE: 'strict' });
  t.is(bad.code, 2);
  t.regex(bad.stderr, /MTA_STS_MODE "strict" is not one of testing, enforce, none/);
  const port = await cli(['dns'], undefined, { MAIL_PORT_HTTPS: PORTS.MAIL_PORT_IMAPS });
  t.is(port.code, 2);
  t.regex(port.stderr, /MAIL_PORT_HTTPS and MAIL_PORT_IMAPS are both 40993/);
  t.is((await cli(['dns'], undefined, { MAIL_PORT_HTTPS: '443x' })).code, 2);
});

test.serial('the Apple profile for an address (a +tag dropped, any case) parses as a plist, with no password', async (t) => {
  const r = await fetch('autoconfig.second.test', '/email.mobileconfig?email=Bob.Smith%2Bphone@second.test');
  t.is(r.status, 200, r.headers);
  t.regex(r.headers, /content-type: application\/x-apple-aspen-config/i);
  t.regex(r.headers, /content-disposition: attachment; filename="second\.test\.mobileconfig"/i);
  const parsed = await run('python3', ['-c', `
import plistlib, sys, json
p = plistlib.loads(sys.stdin.buffer.read())
a = p["PayloadContent"][0]
print(json.dumps({k: a[k] for k in ["EmailAddress", "IncomingMailServerHostName", "IncomingMailServerPortNumber", "IncomingMailServerUseSSL", "OutgoingMailServerPortNumber", "IncomingMailServerUsername", "PayloadType"]}))
print(json.dumps([k for k in a if "Password" in k and k != "OutgoingPasswordSameAsIncomingPassword"]))`], { stdin: r.body });
  t.is(parsed.code, 0, show(parsed));
  const [fields, passwords] = parsed.stdout.trim().split('\n').map((l) => JSON.parse(l));
  t.deepEqual(fields, {
    EmailAddress: 'Bob.Smith@second.test', IncomingMailServerHostName: 'mail.first.test', IncomingMailServerPortNumber: Number(PORTS.MAIL_PORT_IMAPS),
    IncomingMailServerUseSSL: true, OutgoingMailServerPortNumber: Number(PORTS.MAIL_PORT_SUBMISSIONS), IncomingMailServerUsername: 'Bob.Smith@second.test', PayloadType: 'com.apple.mail.managed',
  });
  t.deepEqual(passwords, [], 'no password key');
  t.regex(r.body, /<key>IncomingMailServerAuthentication<\/key>\s*<string>EmailAuthPassword<\/string>/);
});

test.serial('hostile requests: foreign or malformed addresses, unknown names, paths outside the site', async (t) => {
  for (const email of ['', 'bob@first.test', 'bob@second.test.evil', '<script>@second.test', 'a%22b@second.test', 'a%0d%0aX:y@second.test', 'bob@second%2etest', `${'a'.repeat(65)}@second.test`, 'bob@@second.test']) {
    const r = await fetch('autoconfig.second.test', `/email.mobileconfig?email=${email}`);
    t.is(r.status, 400, `email=${email}`);
    t.notRegex(r.body, /<plist/);
  }
  const unknown = await fetch('autoconfig.evil.test', '/mail/config-v1.1.xml', ['-k']);
  t.is(unknown.status, 421, 'a name this server does not serve gets nothing');
  const spoofed = await fetch('autoconfig.second.test', '/mail/config-v1.1.xml', ['-H', 'Host: autoconfig.evil.test']);
  t.is(spoofed.status, 421, 'the Host header, not only SNI, picks the site');
  for (const path of ['/nginx.conf', '/../nginx.conf', '/%2e%2e/nginx.conf', '/first.test/config-v1.1.xml', '/.well-known/../../nginx.conf']) {
    const r = await fetch('autoconfig.second.test', path, ['--path-as-is']);
    t.true([400, 404].includes(r.status), `${path}: ${r.status}`);
    t.notRegex(r.body, /worker_processes/);
  }
});

test.serial('port 80: a redirect to HTTPS on MAIL_PORT_HTTPS, and the ACME challenges from their volume', async (t) => {
  const r = await fetch('autoconfig.first.test', '/mail/config-v1.1.xml?x=1', [], HTTP);
  t.is(r.status, 301);
  t.regex(r.headers, new RegExp(`^location: https://autoconfig\\.first\\.test:${HTTPS}/mail/config-v1\\.1\\.xml\\?x=1\\r?$`, 'im'));
  // What certbot's webroot run leaves in the volume, served as the ACME server fetches it.
  const token = 'tok-17_abc';
  const put = await run('docker', ['run', '--rm', '-v', `${PROJECT}-acme-challenge:/w`, 'debian:trixie-slim', 'sh', '-c', `mkdir -p /w/.well-known/acme-challenge && echo ${token}.key > /w/.well-known/acme-challenge/${token}`]);
  t.is(put.code, 0, show(put));
  const challenge = await fetch('mail.first.test', `/.well-known/acme-challenge/${token}`, [], HTTP);
  t.is(challenge.status, 200);
  t.is(challenge.body, `${token}.key\n`);
  t.is((await fetch('mail.first.test', '/.well-known/acme-challenge/nothing', [], HTTP)).status, 404);
});

async function serveZone(text: string): Promise<void> {
  writeFileSync(join(zoneDir, 'zone.conf'), text);
  await compose(['restart', 'dns']);
}

test.serial('dns prints SRV, the three names, MTA-STS and TLS-RPT for both domains; --check passes against them and names each missing one', async (t) => {
  const printed = await cli(['dns']);
  t.is(printed.code, 0, show(printed));
  t.log(`mailctl dns for a two-domain site:\n${printed.stdout}`);
  for (const d of ['first', 'second']) {
    t.regex(printed.stdout, new RegExp(`^_submissions\\._tcp\\.${d}\\.test\\.\\s+IN SRV\\s+0 1 ${PORTS.MAIL_PORT_SUBMISSIONS} mail\\.first\\.test\\.$`, 'm'));
    t.regex(printed.stdout, new RegExp(`^_imaps\\._tcp\\.${d}\\.test\\.\\s+IN SRV\\s+0 1 ${PORTS.MAIL_PORT_IMAPS} mail\\.first\\.test\\.$`, 'm'));
    t.regex(printed.stdout, new RegExp(`^autoconfig\\.${d}\\.test\\.\\s+IN CNAME mail\\.first\\.test\\.$`, 'm'));
    t.regex(printed.stdout, new RegExp(`^_smtp\\._tls\\.${d}\\.test\\.\\s+IN TXT\\s+"v=TLSRPTv1; rua=mailto:postmaster@${d}\\.test"$`, 'm'));
  }
  const records = JSON.parse((await cli(['dns', '--json'])).stdout) as DnsRecord[];
  for (const d of ['first.test', 'second.test']) {
    const names = records.filter((r) => r.domain === d).map((r) => `${r.type} ${r.name}`);
    for (const k of ['SRV _submissions._tcp', 'SRV _submission._tcp', 'SRV _imaps._tcp', 'SRV _imap._tcp', 'SRV _pop3s._tcp', 'CNAME autoconfig', 'CNAME autodiscover', 'CNAME mta-sts', 'TXT _mta-sts', 'TXT _smtp._tls']) {
      t.true(names.includes(`${k}.${d}.`), `${d}: ${k}`);
    }
  }
  await serveZone(dnsmasqZone(records));
  const good = await cli(['dns', '--check', '--resolver', DNS_IP, '--json']);
  t.is(good.code, 0, show(good));
  t.deepEqual(JSON.parse(good.stdout).filter((r: { status: string }) => r.status !== 'ok'), []);

  await serveZone(dnsmasqZone(records, (r) => {
    if (r.domain !== 'second.test') return r;
    if (r.name.startsWith('_imaps.') || r.name.startsWith('mta-sts.') || r.name.startsWith('_mta-sts.')) return undefined;
    if (r.name.startsWith('_smtp._tls.')) return { ...r, value: 'v=TLSRPTv1; rua=mailto:reports@elsewhere.example' };
    if (r.name.startsWith('_submission._tcp')) return { ...r, value: '10 1 2525 mail.first.test.' };
    return r;
  }));
  const bad = await cli(['dns', '--check', '--resolver', DNS_IP]);
  t.is(bad.code, 1, show(bad));
  t.regex(bad.stdout, /^missing _imaps\._tcp\.second\.test\. SRV/m);
  t.regex(bad.stdout, /^missing mta-sts\.second\.test\. CNAME/m);
  t.regex(bad.stdout, /^missing _mta-sts\.second\.test\. TXT: expected v=STSv1; id=/m);
  t.regex(bad.stdout, /^wrong\s+_smtp\._tls\.second\.test\. TXT: expected v=TLSRPTv1; rua=mailto:postmaster@second\.test, found v=TLSRPTv1; rua=mailto:reports@elsewhere\.example$/m);
  t.regex(bad.stdout, /^wrong\s+_submission\._tcp\.second\.test\. SRV: expected 10 1 40587 mail\.first\.test\., found 10 1 2525 mail\.first\.test\.$/m);
  t.regex(bad.stdout, /^ok\s+_imaps\._tcp\.first\.test\. SRV$/m);
  t.regex(bad.stderr, /5 of \d+ DNS records are missing or wrong/);
});

test.serial('doctor: every autoconfig, autodiscover and mta-sts name is served with a certificate naming it', async (t) => {
  const r = await cli(['doctor', '--resolver', DNS_IP, '--json']);
  const checks = JSON.parse(r.stdout).checks as { name: string; status: string; detail: string }[];
  const web = checks.filter((c) => c.name.startsWith('web '));
  t.deepEqual(web.map((c) => `${c.name} ${c.status}`).sort(), ['first.test', 'second.test'].flatMap((d) => ['autoconfig', 'autodiscover', 'mta-sts'].map((l) => `web ${l}.${d} ok`)).sort());
  t.true(checks.some((c) => c.name === `port ${HTTPS} (MAIL_PORT_HTTPS) on IPv4` && c.status === 'ok'), JSON.stringify(checks.filter((c) => /port 4044/.test(c.name))));
});

test.serial('renew --force: nginx reloads (no restart) and serves the new certificate', async (t) => {
  const started = (await docker.getContainer(WEB).inspect()).State.StartedAt;
  const serial = async () => (await run('sh', ['-c', `openssl s_client -connect ${BIND}:${HTTPS} -servername mta-sts.first.test </dev/null 2>/dev/null | openssl x509 -noout -serial`])).stdout.trim();
  const before = await serial();
  const r = await cli(['renew', '--force']);
  t.is(r.code, 0, show(r));
  t.regex(r.stderr, /reloading mctest17-web \(SIGHUP\)/);
  let after = before;
  for (let i = 0; i < 20 && after === before; i++) {
    await new Promise((res) => setTimeout(res, 250));
    after = await serial();
  }
  t.not(after, before);
  t.is((await docker.getContainer(WEB).inspect()).State.StartedAt, started, 'reloaded, not restarted');
});

test.serial('down and up: the web service still serves both domains (chasquid, which knows them, starts after it)', async (t) => {
  t.is((await cli(['down'])).code, 0);
  const up = await cli(['up']);
  t.is(up.code, 0, show(up));
  t.is((await fetch('autoconfig.second.test', '/mail/config-v1.1.xml')).status, 200, up.stderr);
  const again = await cli(['up', '--dry-run', '--json']);
  t.deepEqual(JSON.parse(again.stdout).steps.filter((s: { action: string }) => s.action !== 'keep'), [], 'a second up touches nothing');
});

test.serial('del-domain: the removed domain is no longer served; a second up touches nothing', async (t) => {
  t.is((await cli(['del-user', 'bob.smith@second.test', '--purge'])).code, 0);
  const del = await cli(['del-domain', 'second.test']);
  t.is(del.code, 0, show(del));
  t.is((await fetch('autoconfig.second.test', '/mail/config-v1.1.xml', ['-k'])).status, 421);
  t.is((await fetch('autoconfig.first.test', '/mail/config-v1.1.xml')).status, 200);
  const again = await cli(['up', '--dry-run', '--json']);
  t.deepEqual(JSON.parse(again.stdout).steps.filter((s: { action: string }) => s.action !== 'keep'), []);
});
