/** The web service's files, its records and its certificate names, as text (issue 17). */
import test from 'ava';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { caCovers, ensureLocalCa, issueCertificate } from '../../src/certs/selfsigned.js';
import { clientRecords } from '../../src/dns/client-records.js';
import { judge } from '../../src/dns/check.js';
import { zoneLines } from '../../src/dns/records.js';
import { classify, mayReload, mayRestart } from '../../src/sidecar/policy.js';
import { certificateNames, servedDomains } from '../../src/certs/names.js';
import { ADDRESS_PLACEHOLDER, appleProfile, autodiscoverXml, endpointsOf, nameUuid, thunderbirdAutoconfig } from '../../src/web/client-config.js';
import { mtaStsId, mtaStsPolicy, mtaStsTxt, tlsRptTxt } from '../../src/web/mta-sts.js';
import { renderNginxConf, webSiteFiles } from '../../src/web/nginx.js';
import { configFrom } from '../helpers/config.js';

const config = configFrom({ MAIL_PORT_IMAPS: '10993', MAIL_PORT_SUBMISSIONS: '10465' });
const mail = endpointsOf(config);

test('Thunderbird autoconfig: the domain, MAIL_HOSTNAME, implicit TLS first, the published ports, the address as login', (t) => {
  const xml = thunderbirdAutoconfig('second.example', mail);
  t.regex(xml, /^<\?xml version="1.0" encoding="UTF-8"\?>\n<clientConfig version="1.1">\n  <emailProvider id="second.example">\n    <domain>second.example<\/domain>/);
  t.is(xml.match(/<incomingServer type="imap">\n      <hostname>mail\.example\.com<\/hostname>\n      <port>10993<\/port>\n      <socketType>SSL<\/socketType>/g)?.length, 1);
  t.regex(xml, /<incomingServer type="imap">\n {6}<hostname>mail\.example\.com<\/hostname>\n {6}<port>143<\/port>\n {6}<socketType>STARTTLS<\/socketType>/);
  t.regex(xml, /<outgoingServer type="smtp">\n {6}<hostname>mail\.example\.com<\/hostname>\n {6}<port>10465<\/port>\n {6}<socketType>SSL<\/socketType>/);
  t.regex(xml, /<outgoingServer type="smtp">\n {6}<hostname>mail\.example\.com<\/hostname>\n {6}<port>587<\/port>\n {6}<socketType>STARTTLS<\/socketType>/);
  t.is(xml.match(/<username>%EMAILADDRESS%<\/username>/g)?.length, 5);
  t.notRegex(xml, /password-encrypted|plain"/, 'only password-cleartext, over TLS');
});

test('autodiscover: responseschema 2006a, IMAP/POP3/SMTP on MAIL_HOSTNAME with SSL', (t) => {
  const xml = autodiscoverXml(mail);
  t.regex(xml, /<Autodiscover xmlns="http:\/\/schemas\.microsoft\.com\/exchange\/autodiscover\/responseschema\/2006">/);
  t.regex(xml, /<Response xmlns="http:\/\/schemas\.microsoft\.com\/exchange\/autodiscover\/outlook\/responseschema\/2006a">/);
  t.deepEqual([...xml.matchAll(/<Type>(\w+)<\/Type>\s*<Server>([^<]+)<\/Server>\s*<Port>(\d+)<\/Port>/g)].map((m) => m.slice(1).join(' ')), ['IMAP mail.example.com 10993', 'POP3 mail.example.com 995', 'SMTP mail.example.com 10465']);
  t.is(xml.match(/<SSL>on<\/SSL>/g)?.length, 3);
});

test('Apple profile: the placeholder where the address goes, no password, stable UUIDs per domain', (t) => {
  const plist = appleProfile('example.com', mail);
  t.regex(plist, new RegExp(`<key>EmailAddress</key>\\s*<string>${ADDRESS_PLACEHOLDER}</string>`));
  t.regex(plist, /<key>IncomingMailServerPortNumber<\/key>\s*<integer>10993<\/integer>/);
  t.regex(plist, /<key>PayloadType<\/key>\s*<string>com\.apple\.mail\.managed<\/string>/);
  t.notRegex(plist, /<key>(Incoming|Outgoing)Password<\/key>/);
  t.is(appleProfile('example.com', mail), plist);
  t.regex(nameUuid('example.com/profile'), /^[0-9A-F]{8}-[0-9A-F]{4}-5[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$/);
  t.not(nameUuid('example.com/profile'), nameUuid('other.example/profile'));
});

test('MTA-STS: the policy text per mode (CRLF), an id that changes exactly with it; TLS-RPT to the postmaster', (t) => {
  t.is(mtaStsPolicy('testing', 'mail.example.com'), 'version: STSv1\r\nmode: testing\r\nmx: mail.example.com\r\nmax_age: 86400\r\n');
  t.is(mtaStsPolicy('enforce', 'mail.example.com'), 'version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmax_age: 1209600\r\n');
  t.is(mtaStsPolicy('none', 'mail.example.com'), 'version: STSv1\r\nmode: none\r\nmax_age: 86400\r\n');
  const id = mtaStsId(mtaStsPolicy('testing', 'mail.example.com'));
  t.regex(id, /^[0-9a-f]{20}$/, 'RFC 8461: 1 to 32 alphanumerics');
  t.is(mtaStsId(mtaStsPolicy('testing', 'mail.example.com')), id);
  t.not(mtaStsId(mtaStsPolicy('enforce', 'mail.example.com')), id);
  t.not(mtaStsId(mtaStsPolicy('testing', 'mx.example.com')), id);
  t.is(mtaStsTxt('x'), `v=STSv1; id=${mtaStsId('x')}`);
  t.is(tlsRptTxt('example.com'), 'v=TLSRPTv1; rua=mailto:postmaster@example.com');
});

test('MTA_STS_MODE and MAIL_PORT_HTTPS: checked like every key', (t) => {
  t.is(configFrom({ MTA_STS_MODE: 'Enforce' }).mtaStsMode, 'enforce');
  t.is(configFrom().mtaStsMode, 'testing');
  t.throws(() => configFrom({ MTA_STS_MODE: 'on' }), { message: /MTA_STS_MODE "on" is not one of testing, enforce, none/ });
  t.is(configFrom({ MAIL_PORT_HTTPS: '8443' }).ports.https, 8443);
  t.throws(() => configFrom({ MAIL_PORT_HTTPS: '0' }), { message: /MAIL_PORT_HTTPS "0" is not a port number/ });
  t.throws(() => configFrom({ MAIL_PORT_HTTPS: '80' }), { message: /MAIL_PORT_HTTPS and MAIL_PORT_HTTP are both 80/ });
});

test('dns: SRV (implicit TLS preferred), the three names, MTA-STS and TLS-RPT, as zone lines', (t) => {
  const text = zoneLines(clientRecords(config, 'second.example'));
  t.regex(text, /^_submissions\._tcp\.second\.example\. IN SRV  0 1 10465 mail\.example\.com\.$/m);
  t.regex(text, /^_submission\._tcp\.second\.example\. IN SRV  10 1 587 mail\.example\.com\.$/m);
  t.regex(text, /^_imaps\._tcp\.second\.example\. +IN SRV  0 1 10993 mail\.example\.com\.$/m);
  t.regex(text, /^_imap\._tcp\.second\.example\. +IN SRV  10 1 143 mail\.example\.com\.$/m);
  t.regex(text, /^_pop3s\._tcp\.second\.example\. +IN SRV  20 1 995 mail\.example\.com\.$/m);
  for (const l of ['autoconfig', 'autodiscover', 'mta-sts']) t.regex(text, new RegExp(`^${l}\\.second\\.example\\. +IN CNAME mail\\.example\\.com\\.$`, 'm'));
  t.regex(text, /^_mta-sts\.second\.example\. +IN TXT  "v=STSv1; id=[0-9a-f]{20}"$/m);
  t.regex(text, /^_smtp\._tls\.second\.example\. +IN TXT  "v=TLSRPTv1; rua=mailto:postmaster@second\.example"$/m);
});

test('dns --check: SRV and CNAME compared as resolved; MTA-STS and TLS-RPT TXT judged among TXT of their kind', (t) => {
  const [srv] = clientRecords(config, 'example.com');
  t.is(judge(srv, ['0 1 10465 mail.example.com.']), 'ok');
  t.is(judge(srv, ['0 1 465 mail.example.com.']), 'wrong');
  t.is(judge(srv, []), 'missing');
  const cname = clientRecords(config, 'example.com').find((r) => r.type === 'CNAME')!;
  t.is(judge(cname, ['MAIL.example.com.']), 'ok');
  const sts = clientRecords(config, 'example.com').find((r) => r.name.startsWith('_mta-sts'))!;
  t.is(judge(sts, ['v=spf1 -all']), 'missing', 'another kind of TXT is not it');
  t.is(judge(sts, ['v=STSv1; id=old']), 'wrong');
  const rpt = clientRecords(config, 'example.com').find((r) => r.name.startsWith('_smtp._tls'))!;
  t.is(judge(rpt, ['v=TLSRPTv1;rua=mailto:postmaster@example.com']), 'ok');
});

test('nginx.conf: one server per domain, the profile\'s address checked by a regex of that domain only, unknown names get nothing', (t) => {
  const conf = renderNginxConf(config, ['example.com', 'second-one.example']);
  t.regex(conf, /server_name example\.com autoconfig\.example\.com autodiscover\.example\.com mta-sts\.example\.com;\n\s+root \/srv\/mailctl-web\/example\.com;/);
  t.regex(conf, /if \(\$arg_email ~\* "\^\(\[a-z0-9\._-\]\{1,64\}\)\(\(\\\+\|%2B\)\[a-z0-9\._-\]\*\)\?\(@\|%40\)second\\-one\\\.example\$"\)/);
  t.regex(conf, /listen 443 ssl default_server;\n\s+server_name _;\n\s+return 421;/);
  t.regex(conf, /ssl_certificate \/etc\/mailctl\/certs\/mail\.example\.com\/fullchain\.pem;/);
  t.regex(conf, /location \/ \{ return 301 https:\/\/\$host\$request_uri; \}/, 'port 443: no port in the redirect');
  t.regex(renderNginxConf(configFrom({ MAIL_PORT_HTTPS: '8443' }), ['example.com']), /return 301 https:\/\/\$host:8443\$request_uri;/);
  t.notRegex(conf, /\buser\b\s+\w+;/, 'no user directive: the container runs it as its own user');
  const files = webSiteFiles(config, ['example.com']).map((f) => [f.path, f.mode]);
  t.deepEqual(files.filter(([p]) => String(p).startsWith('/srv/mailctl-web/example.com/')).map(([p]) => p), [
    '/srv/mailctl-web/example.com/config-v1.1.xml', '/srv/mailctl-web/example.com/autodiscover.xml', '/srv/mailctl-web/example.com/email.mobileconfig',
    '/srv/mailctl-web/example.com/.well-known', '/srv/mailctl-web/example.com/.well-known/mta-sts.txt',
  ]);
});

test('certificate names: MAIL_HOSTNAME, ACME_EXTRA_NAMES, then each domain\'s three names, the main domain first', (t) => {
  const c = configFrom({ ACME_EXTRA_NAMES: 'smtp.example.com' });
  t.deepEqual(servedDomains(c, ['zeta.example', 'example.com', 'alpha.example']), ['example.com', 'alpha.example', 'zeta.example']);
  t.deepEqual(certificateNames(c, ['b.example']), [
    'mail.example.com', 'smtp.example.com', 'autoconfig.example.com', 'autodiscover.example.com', 'mta-sts.example.com',
    'autoconfig.b.example', 'autodiscover.b.example', 'mta-sts.b.example',
  ]);
});

test('local CA: the server certificate names every domain\'s names; a new domain outside its scope makes a new CA', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mailctl-webca-'));
  const first = ensureLocalCa(dir, 'p', 'mail.example.com', false, 'example.com', ['autoconfig.example.com']);
  t.false(first.remade);
  t.true(new X509Certificate(first.server.certPem).checkHost('autoconfig.example.com') !== undefined);
  const same = ensureLocalCa(dir, 'p', 'mail.example.com', false, 'example.com', ['autoconfig.example.com']);
  t.false(same.remade);
  t.is(same.server.certPem, first.server.certPem);
  const wider = ensureLocalCa(dir, 'p', 'mail.example.com', false, 'example.com', ['autoconfig.example.com', 'autoconfig.b.example', 'mta-sts.b.example']);
  t.true(wider.remade);
  const cert = new X509Certificate(wider.server.certPem);
  t.true(cert.checkHost('mta-sts.b.example') !== undefined);
  t.false(ensureLocalCa(dir, 'p', 'mail.example.com', false, 'example.com', ['autoconfig.b.example']).remade, 'b.example is in scope now');
  rmSync(dir, { recursive: true });
});

test('local CA scope: a CA without constraints covers all; one made before ca.scope covers its domain and hostname', (t) => {
  const keyPem = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const open = issueCertificate({ subjectCN: 'old', keyPem, days: 10, ca: true });
  t.true(caCovers(open, undefined, 'mail.example.com', 'example.com', ['autoconfig.other.example']));
  const scoped = issueCertificate({ subjectCN: 'old', keyPem, days: 10, ca: true, permittedNames: ['example.com'] });
  t.true(caCovers(scoped, undefined, 'mail.example.com', 'example.com', ['autoconfig.example.com']));
  t.false(caCovers(scoped, undefined, 'mail.example.com', 'example.com', ['autoconfig.other.example']));
  t.true(caCovers(scoped, 'example.com\nother.example\n', 'mail.example.com', 'example.com', ['autoconfig.other.example']));
});

test('the Docker API proxy: the certbot sidecar may SIGHUP the web service (nginx reloads its certificate), nothing more', (t) => {
  const web = { 'dev.mailctl.managed': 'true', 'dev.mailctl.project': 'p', 'dev.mailctl.service': 'web' };
  t.true(mayReload(web, 'p'));
  t.false(mayRestart(web, 'p'));
  t.false(mayReload(web, 'other'));
  t.is(classify('POST', '/containers/p-web/kill?signal=SIGTERM').kind, 'denied');
});
