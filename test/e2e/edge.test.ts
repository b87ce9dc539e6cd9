/**
 * The internet edge, from clients with addresses of their own (network
 * namespaces made here: 198.18.N.2 and fd00:N::2, never a gateway): every
 * port answers on IPv4 and IPv6, chasquid and dovecot see each client's real
 * address (Received header, logs, SPF, dovecot's failed-login penalty), and
 * chasquid issues no TLS session ticket.
 */
import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { docker, dumpLogs, mailctl, portsFrom, removeProject, rig, run, show, siteWithEnv } from '../helpers/e2e.js';
import { remoteClient, removeRemoteClient, type RemoteClient } from '../helpers/netns.js';

const PROJECT = 'mctest13';
const SUBNET = '172.29.64.0/24';
const DNS_IP = '172.29.64.53';
const DOMAIN = 'edge.test';
const HOSTNAME = `mail.${DOMAIN}`;
const PORTS = portsFrom(34000);
const SMTP = 34025;
const SUBMISSION = 34587;
const SUBMISSIONS = 34465;
const IMAPS = 34993;
const PASSWORD = 'edge-password-1';
const zoneDir = mkdtempSync(join(tmpdir(), 'mailctl-zone-edge-'));
// Every address of the host, both families: the default of a real server.
const site = siteWithEnv({
  MAIL_DOMAIN: DOMAIN, CERT_MODE: 'selfsigned', MAILCTL_PROJECT: PROJECT, MAIL_BIND: '0.0.0.0,::',
  MAIL_SUBNET: SUBNET, MAIL_DNS: DNS_IP, ...PORTS,
});
const ca = join(site, 'certs', PROJECT, 'ca.crt');
const { compose } = rig({ project: PROJECT, dnsIp: DNS_IP, caDir: join(site, 'certs', PROJECT), DNS_ZONE_DIR: zoneDir });
const cli = (args: string[], stdin?: string) => mailctl(site, args, stdin, { MAILCTL_DEBUG: '' });
const bracket = (address: string) => (address.includes(':') ? `[${address}]` : address);
let a: RemoteClient;
let b: RemoteClient;

const swaks = (client: RemoteClient, server: string, args: string[]) =>
  client.exec(['swaks', '--server', bracket(server), '--timeout', '20', ...(server.includes(':') ? ['-6'] : ['-4']), ...args]);

/** Mail in ALICE's inbox with this subject, read over IMAPS as a client from `client` would. */
async function message(client: RemoteClient, server: string, subject: string): Promise<string> {
  for (let i = 0; i < 40; i++) {
    const search = await client.exec(['curl', '-sS', '--cacert', ca, '--connect-to', `${HOSTNAME}:${IMAPS}:${bracket(server)}:${IMAPS}`,
      `imaps://${HOSTNAME}:${IMAPS}/INBOX?SUBJECT%20${subject}`, '-u', `alice@${DOMAIN}:${PASSWORD}`]);
    const uid = /SEARCH (\d+)/.exec(search.stdout)?.[1];
    if (uid) {
      const fetched = await client.exec(['curl', '-sS', '--cacert', ca, '--connect-to', `${HOSTNAME}:${IMAPS}:${bracket(server)}:${IMAPS}`,
        `imaps://${HOSTNAME}:${IMAPS}/INBOX;MAILINDEX=${uid}`, '-u', `alice@${DOMAIN}:${PASSWORD}`]);
      return fetched.stdout;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return '';
}

test.before(async () => {
  await removeProject(PROJECT);
  a = await remoteClient('mctA', 201);
  b = await remoteClient('mctB', 202);
  // A sender domain whose SPF allows only client A's IPv6 address.
  writeFileSync(join(zoneDir, 'spf.conf'), `txt-record=spf6.test,"v=spf1 ip6:${a.v6} -all"\ntxt-record=sender.test,"v=spf1 ?all"\n`);
  const up = await cli(['up']);
  if (up.code !== 0) throw new Error(show(up));
  const rigUp = await compose(['up', '-d', '--build', 'dns']);
  if (rigUp.code !== 0) throw new Error(show(rigUp));
  const added = await cli(['add-user', `alice@${DOMAIN}`, '--password-stdin'], `${PASSWORD}\n`);
  if (added.code !== 0) throw new Error(show(added));
});
test.after.always(async () => {
  await compose(['down', '--volumes', '--remove-orphans']);
  await removeProject(PROJECT);
  await removeRemoteClient('mctA');
  await removeRemoteClient('mctB');
});
test.afterEach.always(async (t) => {
  if (!t.passed) t.log(await dumpLogs([`dev.mailctl.project=${PROJECT}`]));
});

for (const family of ['IPv4', 'IPv6'] as const) {
  test.serial(`SMTP on 25 over ${family}: delivered; the Received header and chasquid's log name the client's own address`, async (t) => {
    const server = family === 'IPv4' ? a.hostV4 : a.hostV6;
    const client = family === 'IPv4' ? a.v4 : a.v6;
    const subject = `edge-${family}`;
    const sent = await swaks(a, server, ['--port', String(SMTP), '--from', 'x@sender.test', '--to', `alice@${DOMAIN}`, '--header', `Subject: ${subject}`]);
    t.is(sent.code, 0, show(sent));
    const raw = await message(a, server, subject);
    const literal = family === 'IPv4' ? `[${client}]` : `[IPv6:${client}]`;
    t.true(raw.includes(`Received: from `) && raw.includes(literal), `Received names ${literal}: ${raw.slice(0, 600)}`);
    t.false(/172\.29\.64\.1\b|172\.17\.0\.1\b/.test(raw), 'never the gateway');
    const logs = (await docker.getContainer(`${PROJECT}-chasquid`).logs({ stdout: true, stderr: true })).toString();
    t.true(logs.includes(`${family === 'IPv4' ? client : `[${client}]`}:`), `chasquid logged ${client}`);
  });
}

test.serial('SPF is judged on the real address: allowed from A (its IPv6), refused from B', async (t) => {
  const fromA = await swaks(a, a.hostV6, ['--port', String(SMTP), '--from', 'someone@spf6.test', '--to', `alice@${DOMAIN}`, '--header', 'Subject: spf-from-a']);
  t.is(fromA.code, 0, show(fromA));
  t.regex(await message(a, a.hostV6, 'spf-from-a'), /Received-SPF: pass/);
  const fromB = await swaks(b, b.hostV6, ['--port', String(SMTP), '--from', 'someone@spf6.test', '--to', `alice@${DOMAIN}`, '--header', 'Subject: spf-from-b']);
  t.not(fromB.code, 0, 'refused');
  t.regex(fromB.stdout, /<\*\* +5\d\d .*SPF/i, show(fromB));
});

test.serial('IMAP and submission from a namespace over IPv6', async (t) => {
  const submitted = await swaks(b, b.hostV6, ['--port', String(SUBMISSION), '-tls', '--auth', 'PLAIN', '--auth-user', `alice@${DOMAIN}`,
    '--auth-password', PASSWORD, '--from', `alice@${DOMAIN}`, '--to', `alice@${DOMAIN}`, '--header', 'Subject: submitted-v6']);
  t.is(submitted.code, 0, show(submitted));
  const onTls = await swaks(b, b.hostV6, ['--port', String(SUBMISSIONS), '--tlsc', '--auth', 'PLAIN', '--auth-user', `alice@${DOMAIN}`,
    '--auth-password', PASSWORD, '--from', `alice@${DOMAIN}`, '--to', `alice@${DOMAIN}`, '--header', 'Subject: submitted-v6-465']);
  t.is(onTls.code, 0, show(onTls));
  t.truthy(await message(b, b.hostV6, 'submitted-v6'), 'read back over IMAPS on IPv6');
  t.truthy(await message(b, b.hostV4, 'submitted-v6-465'));
});

test.serial('failed IMAP logins from A do not slow a good login from B', async (t) => {
  const login = (client: RemoteClient, password: string) => client.exec(['curl', '-sS', '--max-time', '40', '--cacert', ca,
    '--connect-to', `${HOSTNAME}:${IMAPS}:${bracket(client.hostV6)}:${IMAPS}`, `imaps://${HOSTNAME}:${IMAPS}/`, '-u', `alice@${DOMAIN}:${password}`,
    '-X', 'NOOP', '-w', '%{time_total}', '-o', '/dev/null']);
  const failures = await Promise.all(Array.from({ length: 6 }, () => login(a, 'wrong-password')));
  t.true(failures.every((f) => f.code !== 0), 'wrong passwords refused');
  const fromB = await login(b, PASSWORD);
  const fromA = await login(a, PASSWORD);
  t.is(fromB.code, 0, show(fromB));
  const secondsB = Number(fromB.stdout);
  const secondsA = Number(fromA.stdout);
  t.log(`good login after A's failures: from B ${secondsB.toFixed(2)} s, from A ${secondsA.toFixed(2)} s`);
  t.true(secondsB < 2, `B is not penalised for A's failures (${secondsB} s)`);
  t.true(secondsA > secondsB, 'A is: the penalty is per client address');
  const logs = (await docker.getContainer(`${PROJECT}-dovecot`).logs({ stdout: true, stderr: true })).toString();
  t.true(logs.includes(`rip=${a.v6}`), 'dovecot logs the real address');
});

test.serial('TLS 1.2 or newer with forward-secret ciphers on 465, 587, 993 and 995 (openssl from a namespace)', async (t) => {
  const ports: [number, string | undefined][] = [[SUBMISSIONS, undefined], [SUBMISSION, 'smtp'], [IMAPS, undefined], [34995, undefined]];
  const handshake = (port: number, starttls: string | undefined, args: string[]) => a.exec(['sh', '-c',
    `echo | timeout 10 openssl s_client -connect ${a.hostV4}:${port} ${starttls ? `-starttls ${starttls}` : ''} ${args.join(' ')} 2>&1`]);
  for (const [port, starttls] of ports) {
    for (const old of ['-tls1', '-tls1_1']) {
      const r = await handshake(port, starttls, [old, '-cipher', 'ALL@SECLEVEL=0']);
      t.regex(r.stdout, /^New, \(NONE\), Cipher is \(NONE\)$/m, `${port} ${old}: refused (${r.stdout.slice(0, 200)})`);
    }
    // Without forward secrecy (RSA key exchange). (This openssl has no 3DES left to offer.)
    for (const weak of ['AES128-SHA', 'AES256-GCM-SHA384']) {
      const r = await handshake(port, starttls, ['-tls1_2', '-cipher', `${weak}@SECLEVEL=0`]);
      t.regex(r.stdout, /^New, \(NONE\), Cipher is \(NONE\)$/m, `${port} ${weak}: refused`);
    }
    const modern = await handshake(port, starttls, ['-tls1_2']);
    t.regex(modern.stdout, /Cipher is ECDHE-[A-Z0-9-]+-(GCM-SHA\d+|CHACHA20-POLY1305)/, `${port}: TLS 1.2 with an AEAD cipher by default`);
  }
});

test.serial('no TLS session ticket from chasquid on 25, 587 or 465 (dovecot on 993 issues one: the probe can see them)', async (t) => {
  const ticketLines = async (port: number, starttls?: string) => {
    const file = `/tmp/mailctl-sess-${port}`;
    await run('rm', ['-f', file]);
    await a.exec(['sh', '-c', `(sleep 1; echo QUIT) | timeout 10 openssl s_client -connect ${bracket(a.hostV4)}:${port} ${starttls ? `-starttls ${starttls}` : ''} -sess_out ${file} >/dev/null 2>&1; true`]);
    const text = await run('sh', ['-c', `test -s ${file} && openssl sess_id -in ${file} -noout -text || true`]);
    return text.stdout.split('\n').filter((l) => /ticket/i.test(l));
  };
  t.deepEqual(await ticketLines(SMTP, 'smtp'), [], '25');
  t.deepEqual(await ticketLines(SUBMISSION, 'smtp'), [], '587');
  t.deepEqual(await ticketLines(SUBMISSIONS), [], '465');
  t.true((await ticketLines(IMAPS)).length > 0, 'the same probe sees dovecot\'s ticket');
});

test.serial('doctor: every port answers on IPv4 and on IPv6', async (t) => {
  const r = await cli(['doctor', '--json', '--resolver', DNS_IP]);
  const checks = JSON.parse(r.stdout).checks as { name: string; status: string }[];
  for (const family of ['IPv4', 'IPv6']) {
    for (const key of ['MAIL_PORT_SMTP', 'MAIL_PORT_SUBMISSION', 'MAIL_PORT_SUBMISSIONS', 'MAIL_PORT_IMAP', 'MAIL_PORT_IMAPS', 'MAIL_PORT_POP3', 'MAIL_PORT_POP3S']) {
      const check = checks.find((c) => c.name.includes(`(${key}) on ${family}`));
      t.is(check?.status, 'ok', `${key} on ${family}`);
    }
  }
});

// Found by a break-it session.
test.serial('dovecot, in the host\'s network, cannot open a raw socket (no sniffing or forging of the host\'s traffic)', async (t) => {
  const raw = await run('docker', ['exec', `${PROJECT}-dovecot`, 'perl', '-e', 'socket(my $s, 17, 3, 0) or die "refused: $!\\n"; print "open\\n"']);
  t.not(raw.code, 0, show(raw));
  t.regex(raw.stderr, /refused: Operation not permitted/);
  const chasquid = await docker.getContainer(`${PROJECT}-chasquid`).inspect();
  t.deepEqual([chasquid.HostConfig.CapDrop, chasquid.HostConfig.CapAdd], [['ALL'], ['NET_BIND_SERVICE']]);
});

test.serial('an address this host lacks is refused by up; a port taken makes up say so, and the next up recovers', async (t) => {
  const foreign = await mailctl(site, ['up'], undefined, { MAILCTL_DEBUG: '', MAIL_BIND: '203.0.113.9' });
  t.is(foreign.code, 2, show(foreign));
  t.regex(foreign.stderr, /MAIL_BIND 203\.0\.113\.9 is not an address of this host/);

  t.is((await cli(['down'])).code, 0);
  const { createServer } = await import('node:net');
  const squatter = createServer();
  await new Promise<void>((resolve) => squatter.listen(Number(PORTS.MAIL_PORT_POP3), '127.0.0.1', resolve));
  try {
    const taken = await cli(['up']);
    t.is(taken.code, 1, show(taken));
    t.regex(taken.stderr.split('\n').find((l) => l.startsWith('mailctl:')) ?? '', /dovecot stopped while starting.*(address already in use|bind)/i, 'the reason comes first');
  } finally {
    await new Promise((resolve) => squatter.close(resolve));
  }
  const recovered = await cli(['up']);
  t.is(recovered.code, 0, `the crash-looping container is replaced: ${show(recovered)}`);
});
