/**
 * Certificates against a real ACME server: pebble (Debian's) in the rig, real
 * http-01 over the stack's network to the web service (which serves the
 * challenges certbot writes to their shared volume); the sidecar exports the
 * certificate, reloads dovecot and nginx and restarts chasquid through the
 * Docker API proxy. A domain added later extends the certificate.
 */
import test from 'ava';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pebbleTls, PROXY_CLIENT } from '../helpers/pebble.js';
import { docker, dumpLogs, gatewayOf, hardeningProblems, mailctl, removeProject, run, siteWithEnv, rig, show } from '../helpers/e2e.js';

const PROJECT = 'mctest4';
const OTHER = 'mctest4-other';
const DNS_IP = '172.29.54.53';
const HOSTNAME = 'mail.example.test';
const CHASQUID = `${PROJECT}-chasquid`;
const DOVECOT = `${PROJECT}-dovecot`;
const CERTBOT = `${PROJECT}-certbot`;
const tls = pebbleTls();
const site = siteWithEnv({
  MAIL_DOMAIN: 'example.test', CERT_MODE: 'acme', MAILCTL_PROJECT: PROJECT, MAIL_BIND: gatewayOf('172.29.54.0/24'),
  ACME_SERVER: 'https://pebble:14000/dir', ACME_CA_BUNDLE: tls.ca, ACME_EMAIL: 'admin@example.test',
  MAIL_SUBNET: '172.29.54.0/24', MAIL_DNS: DNS_IP,
});
mkdirSync(join(site, 'certs', PROJECT), { recursive: true });
const { compose, tester } = rig({ project: PROJECT, dnsIp: DNS_IP, caDir: join(site, 'certs', PROJECT), PEBBLE_TLS_DIR: tls.dir });

/** The serial served on host:port (STARTTLS where given), verified against pebble's root and MAIL_HOSTNAME. */
async function servedSerial(host: string, port: number, starttls?: string): Promise<{ ok: boolean; serial: string; out: string }> {
  const sclient = `openssl s_client -connect ${host}:${port} ${starttls ? `-starttls ${starttls}` : ''} -servername ${HOSTNAME} -CAfile /tmp/pebble-root.pem -verify_hostname ${HOSTNAME} -verify_return_error </dev/null 2>/tmp/sclient.err`;
  const r = await tester(['sh', '-c', `${sclient} | openssl x509 -noout -serial; echo "verify: $(grep -c 'Verify return code: 0' /tmp/sclient.err || true) $(grep -o 'verify error.*' /tmp/sclient.err | head -1)"`]);
  const out = `${r.stdout}${r.stderr}`;
  return { ok: /serial=/.test(r.stdout) && !/verify error/.test(out), serial: /serial=([0-9A-F]+)/.exec(r.stdout)?.[1] ?? '', out };
}

const ENDPOINTS: [string, number, string | undefined][] = [[CHASQUID, 465, undefined], [CHASQUID, 587, 'smtp'], [DOVECOT, 993, undefined], [DOVECOT, 143, 'imap']];

async function servedEverywhere(t: import('ava').ExecutionContext): Promise<string> {
  const serials = new Set<string>();
  for (const [host, port, starttls] of ENDPOINTS) {
    const served = await servedSerial(host, port, starttls);
    t.true(served.ok, `${host}:${port} serves a certificate from pebble for ${HOSTNAME}: ${served.out}`);
    serials.add(served.serial);
  }
  t.is(serials.size, 1, 'the same certificate on all four');
  return [...serials][0];
}

async function sidecarHttp(method: string, path: string): Promise<number> {
  const code = `${PROXY_CLIENT}print(call("${method}", "${path}")[0])`;
  const r = await run('docker', ['exec', CERTBOT, 'python3', '-c', code]);
  return Number(r.stdout.trim());
}

test.before(async () => {
  await Promise.all([removeProject(PROJECT), removeProject(OTHER)]);
});
test.after.always(async () => {
  await compose(['--profile', 'acme', 'down', '--volumes', '--remove-orphans']);
  await Promise.all([removeProject(PROJECT), removeProject(OTHER)]);
});
test.afterEach.always(async (t) => {
  if (!t.passed) t.log(await dumpLogs([`dev.mailctl.project=${PROJECT}`, 'dev.mailctl.rig=true']));
});

test.serial('before any certificate (ACME unreachable): the mail services come up healthy on a temporary one', async (t) => {
  const up = await mailctl(site, ['up']);
  t.is(up.code, 0, show(up));
  const status = JSON.parse((await mailctl(site, ['status', '--json'])).stdout);
  t.deepEqual(status.services.map((s: { service: string; state: string }) => [s.service, s.state]),
    [['certbot', 'running'], ['chasquid', 'running'], ['dockerproxy', 'running'], ['dovecot', 'running'], ['guard', 'running'], ['web', 'running']]);
  t.regex(status.served.issuer, /mailctl local CA/);
  const hardened = await hardeningProblems(PROJECT);
  t.deepEqual(hardened.services, ['certbot', 'chasquid', 'dockerproxy', 'dovecot', 'guard', 'web']);
  t.deepEqual(hardened.problems, [], 'capabilities, no-new-privileges, memory, pids and log rotation as specified');
  // pebble is not there yet: the sidecar's first run failed, and it says so.
  for (let i = 0; i < 30 && !status.acme?.lastError; i++) {
    await new Promise((r) => setTimeout(r, 1000));
    Object.assign(status, JSON.parse((await mailctl(site, ['status', '--json'])).stdout));
  }
  t.truthy(status.acme?.lastError, 'status shows the last ACME error');
  t.is((await docker.getContainer(CERTBOT).inspect()).RestartCount, 0, 'no crash loop');
});

test.serial('renew: the pebble-issued certificate is served on 465, 587, 993 and 143', async (t) => {
  const rig = await compose(['--profile', 'acme', 'up', '-d', '--build', 'dns', 'tester', 'pebble']);
  t.is(rig.code, 0, show(rig));
  const renewed = await mailctl(site, ['renew', '--json']);
  t.is(renewed.code, 0, show(renewed));
  const result = JSON.parse(renewed.stdout);
  t.true(result.renewed);
  t.regex(result.after.issuer, /Pebble/i);
  t.deepEqual(result.restarted, [CHASQUID], 'chasquid reads certificates only at start');
  t.deepEqual(result.reloaded, [DOVECOT], 'dovecot re-read its certificate on SIGHUP');
  const root = await tester(['python3', '-c', 'import ssl,urllib.request as u;open("/tmp/pebble-root.pem","wb").write(u.urlopen("https://pebble:15000/roots/0",context=ssl._create_unverified_context()).read())']);
  t.is(root.code, 0, show(root));
  await servedEverywhere(t);
});

test.serial('renew --force: a new serial on all four, dovecot reloaded without refusing a connection, chasquid restarted, mail intact', async (t) => {
  await mailctl(site, ['add-user', 'alice@example.test', '--password-stdin'], 'alice-secret-1\n');
  const before = await tester(['swaks', '--server', CHASQUID, '--from', 'x@sender.test', '--to', 'alice@example.test', '--header', 'Subject: before-renewal']);
  t.is(before.code, 0, show(before));
  const oldSerial = await servedEverywhere(t);
  const started = async () => Promise.all([CHASQUID, DOVECOT].map(async (n) => (await docker.getContainer(n).inspect()).State.StartedAt));
  const startedBefore = await started();

  const probe = tester(['mailcheck', 'probe', '45', `${CHASQUID}:25`, `${DOVECOT}:993`, `${DOVECOT}:143`]);
  const t0 = Date.now();
  const renewed = await mailctl(site, ['renew', '--force', '--json']);
  const renewSeconds = (Date.now() - t0) / 1000;
  t.is(renewed.code, 0, show(renewed));
  const newSerial = await servedEverywhere(t);
  t.not(newSerial, oldSerial);
  const startedAfter = await started();
  t.not(startedAfter[0], startedBefore[0], 'chasquid restarted');
  t.is(startedAfter[1], startedBefore[1], 'dovecot reloaded, not restarted');
  const after = await tester(['swaks', '--server', CHASQUID, '--from', 'x@sender.test', '--to', 'alice@example.test', '--header', 'Subject: after-renewal']);
  t.is(after.code, 0, show(after));
  for (const subject of ['before-renewal', 'after-renewal']) {
    const r = await tester(['env', 'MAILCHECK_CA=/tmp/pebble-root.pem', 'mailcheck', 'fetch', 'imaps', DOVECOT, 'alice@example.test', subject], 'alice-secret-1\n');
    t.is(r.code, 0, show(r));
  }
  const gaps = JSON.parse((await probe).stdout);
  t.is(gaps[`${DOVECOT}:993`].refused, 0, `no connection to 993 refused: ${JSON.stringify(gaps)}`);
  t.is(gaps[`${DOVECOT}:993`].failures, 0, 'every probe of 993 greeted');
  t.is(gaps[`${DOVECOT}:143`].failures, 0, 'every probe of 143 greeted');
  t.log(`renew --force took ${renewSeconds.toFixed(1)}s until the new certificate was served; IMAP: ${gaps[`${DOVECOT}:993`].probes} probes of 993, none refused; SMTP gap ${gaps[`${CHASQUID}:25`].longest_ms} ms (${gaps[`${CHASQUID}:25`].refused} refused)`);
});

test.serial('a domain added later extends the certificate with its autoconfig, autodiscover and mta-sts, served by the web service on 443', async (t) => {
  const added = await mailctl(site, ['add-domain', 'Second.Test']);
  t.is(added.code, 0, show(added));
  t.regex(added.stderr, new RegExp(`recreating ${CERTBOT}: the domains changed`));
  // The sidecar, made again with the new names, asks for them at once (http-01 for each, through the web service).
  let names: string[] = [];
  for (let i = 0; i < 120 && !names.includes('mta-sts.second.test'); i++) {
    await new Promise((r) => setTimeout(r, 1000));
    names = JSON.parse((await mailctl(site, ['status', '--json'])).stdout).served?.names ?? [];
  }
  t.deepEqual([...names].sort(), ['autoconfig.example.test', 'autoconfig.second.test', 'autodiscover.example.test', 'autodiscover.second.test', 'mail.example.test', 'mta-sts.example.test', 'mta-sts.second.test'], 'chasquid serves the extended certificate');
  await servedEverywhere(t);
  // nginx was reloaded by the deploy hook: the same certificate, verified by name, on the web port.
  for (const name of ['mta-sts.second.test', 'autoconfig.example.test']) {
    const r = await tester(['sh', '-c', `openssl s_client -connect ${gatewayOf('172.29.54.0/24')}:443 -servername ${name} -CAfile /tmp/pebble-root.pem -verify_hostname ${name} -verify_return_error </dev/null 2>&1 | grep -E 'Verification|verify error'`]);
    t.regex(r.stdout, /Verification: OK/, `${name}: ${show(r)}`);
  }
  const policy = await tester(['python3', '-c', `import ssl,socket
ctx = ssl.create_default_context(cafile="/tmp/pebble-root.pem")
s = ctx.wrap_socket(socket.create_connection(("${gatewayOf('172.29.54.0/24')}", 443)), server_hostname="mta-sts.second.test")
s.sendall(b"GET /.well-known/mta-sts.txt HTTP/1.0\\r\\nHost: mta-sts.second.test\\r\\n\\r\\n")
data = b""
while chunk := s.recv(4096): data += chunk
print(data.decode().split("\\r\\n\\r\\n", 1)[1], end="")`]);
  t.is(policy.stdout, 'version: STSv1\r\nmode: testing\r\nmx: mail.example.test\r\nmax_age: 86400\r\n', show(policy));
});

test.serial('the sidecar\'s Docker API: restart of its own chasquid and SIGHUP to its own dovecot only', async (t) => {
  t.is(await sidecarHttp('POST', `/v1.41/containers/${CHASQUID}/restart`), 204, 'restarting chasquid works');
  t.is(await sidecarHttp('POST', `/v1.41/containers/${DOVECOT}/kill?signal=SIGHUP`), 204, 'reloading dovecot works');
  t.is(await sidecarHttp('POST', `/v1.41/containers/${DOVECOT}/kill?signal=SIGKILL`), 403, 'any other signal is denied');
  t.is(await sidecarHttp('POST', `/v1.41/containers/${DOVECOT}/restart`), 403, 'dovecot needs no restart');
  t.is(await sidecarHttp('POST', '/v1.41/containers/create'), 403, 'create is denied');
  t.is(await sidecarHttp('POST', `/v1.41/containers/${CHASQUID}/exec`), 403, 'exec is denied');
  t.is(await sidecarHttp('GET', '/v1.41/images/json'), 403, 'images are denied');
  t.is(await sidecarHttp('GET', '/v1.41/volumes'), 403, 'volumes are denied');
  const other = await docker.createContainer({
    name: `${OTHER}-chasquid`, Image: (await docker.getContainer(CHASQUID).inspect()).Config.Image, Cmd: ['true'],
    Labels: { 'dev.mailctl.managed': 'true', 'dev.mailctl.project': OTHER, 'dev.mailctl.service': 'chasquid' },
  });
  t.is(await sidecarHttp('POST', `/v1.41/containers/${other.id}/restart`), 403, 'another stack\'s container is denied');
  t.is(await sidecarHttp('GET', `/v1.41/containers/${other.id}/json`), 403, 'and cannot even be inspected');
  const list = await run('docker', ['exec', CERTBOT, 'python3', '-c', `${PROXY_CLIENT}import json\nprint(" ".join(sorted(c["Names"][0] for c in json.loads(call("GET", "/v1.41/containers/json?all=1")[1]))))`]);
  t.is(list.stdout.trim(), `/${CERTBOT} /${CHASQUID} /${PROJECT}-dockerproxy /${DOVECOT} /${PROJECT}-guard /${PROJECT}-web`);
  // Nothing else reaches the proxy: it has no port, and its socket is on a volume only the sidecar shares.
  const fromTester = await tester(['python3', '-c', `import socket\ntry:\n  socket.create_connection(("${PROJECT}-dockerproxy", 2375), timeout=5); print("reached")\nexcept OSError as e:\n  print("unreachable", e)`]);
  t.regex(fromTester.stdout, /^unreachable/, 'a container on the stack network cannot reach the proxy');
  const proxyLog = (await docker.getContainer(`${PROJECT}-dockerproxy`).logs({ stdout: true, stderr: true })).toString();
  t.regex(proxyLog, /denied: POST \/containers\/create is not allowed/);
});

test.serial('ACME server down during renew: the old certificate stays, status reports the error, mail flows', async (t) => {
  const serial = await servedEverywhere(t);
  await compose(['--profile', 'acme', 'stop', 'pebble']);
  const renewed = await mailctl(site, ['renew', '--force'], undefined, { MAILCTL_DEBUG: '' });
  t.is(renewed.code, 1);
  // certbot certonly (which also sees a changed list of names) says why on the line after its first.
  t.regex(renewed.stderr, /^mailctl: certbot could not renew; the current certificate stays in use: An unexpected error occurred: requests\.exceptions\.ConnectionError: .*pebble/m);
  t.is(await servedEverywhere(t), serial);
  const status = JSON.parse((await mailctl(site, ['status', '--json'])).stdout);
  t.truthy(status.acme.lastError);
  t.is(status.served.serial, status.certificate.serial);
  const sent = await tester(['swaks', '--server', CHASQUID, '--from', 'x@sender.test', '--to', 'alice@example.test', '--header', 'Subject: while-acme-down']);
  t.is(sent.code, 0, show(sent));
});
