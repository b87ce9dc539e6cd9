/**
 * Two stacks on one engine talk like two servers on the internet: a DNS
 * server of the test's publishes both zones (MX, A, SPF, DKIM, DMARC from
 * `mailctl dns --json`), both stacks resolve through it, and mail submitted
 * on one is delivered by SMTP with STARTTLS to the other's MX, DKIM-signed.
 */
import test from 'ava';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { quoteTxt, type DnsRecord } from '../../src/dns/records.js';
import { docker, dumpLogs, mailctl, removeProject, ROOT, run, show, siteWithEnv } from '../helpers/e2e.js';

// Each stack has a public address of its own (added to lo by this test: outside every docker
// subnet, so no NAT rewrites what the other sees) and its network's gateway for the rig.
const A = { project: 'mctest7a', domain: 'one.test', subnet: '172.29.57', address: '198.18.57.1' };
const B = { project: 'mctest7b', domain: 'two.test', subnet: '172.29.58', address: '198.18.58.1' };
const RIG_LABEL = 'dev.mailctl.project=mctest7-rig';
const DNS = 'mctest7-dns';
const TESTER = 'mctest7-tester';
const zoneDir = mkdtempSync(join(tmpdir(), 'mailctl-zone2-'));

// Each stack listens on its own addresses on the protocols' own ports, as two servers on the
// internet do: MX delivery is always to port 25.
const sites = Object.fromEntries([A, B].map((s) => [s.project, siteWithEnv({
  MAIL_DOMAIN: s.domain, CERT_MODE: 'selfsigned', MAILCTL_PROJECT: s.project, MAIL_BIND: `${s.address},${s.subnet}.1`,
  MAIL_SUBNET: `${s.subnet}.0/24`, MAIL_DNS: `${s.subnet}.53`,
})]));
const cli = (s: typeof A, args: string[], stdin?: string) => mailctl(sites[s.project], args, stdin);
const exec = (args: string[], stdin?: string) => run('docker', ['exec', '-i', TESTER, ...args], { stdin });

function zoneLinesFor(records: DnsRecord[], hostIp: string): string[] {
  return records.flatMap((r) => {
    const name = r.name.replace(/\.$/, '');
    if (r.type === 'A') return [`host-record=${name},${hostIp}`];
    if (r.type === 'MX') return [`mx-host=${name},${r.value!.split(' ')[1].replace(/\.$/, '')},10`];
    if (r.type === 'TXT') return [`txt-record=${name},${quoteTxt(r.value!).replace(/" "/g, '","')}`];
    if (r.type === 'SRV') {
      const [priority, weight, port, target] = r.value!.split(' ');
      return [`srv-host=${name},${target.replace(/\.$/, '')},${port},${priority},${weight}`];
    }
    if (r.type === 'CNAME') return [`cname=${name},${r.value!.replace(/\.$/, '')}`];
    return [];
  });
}

async function cleanup(): Promise<void> {
  for (const name of [DNS, TESTER]) await docker.getContainer(name).remove({ force: true }).catch(() => {});
  await Promise.all([removeProject(A.project), removeProject(B.project)]);
  for (const s of [A, B]) await run('ip', ['addr', 'del', `${s.address}/32`, 'dev', 'lo']);
}

test.before(async () => {
  await cleanup();
  for (const s of [A, B]) {
    const args = ['addr', 'add', `${s.address}/32`, 'dev', 'lo'];
    const r = await run('ip', args);
    if (r.code !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr}`);
  }
});
test.after.always(cleanup);
test.afterEach.always(async (t) => {
  if (!t.passed) t.log(await dumpLogs([`dev.mailctl.project=${A.project}`, `dev.mailctl.project=${B.project}`, RIG_LABEL]));
});

test.serial('a user of stack A mails a user of stack B: SMTP with STARTTLS to B\'s MX, DKIM valid, SPF pass', async (t) => {
  for (const s of [A, B]) {
    const up = await cli(s, ['up']);
    t.is(up.code, 0, show(up));
  }
  const netA = `${A.project}-net`;
  const netB = `${B.project}-net`;
  // The rig's images (built by compose), run here on both stacks' networks.
  const built = await run('docker-compose', ['-f', join(ROOT, 'compose/docker-compose.yml'), 'build', 'dns', 'tester'], { env: { COMPOSE_PROJECT_NAME: 'mctest7-rig', STACK_NETWORK: netA, RIG_DNS_IP: `${A.subnet}.53` } });
  t.is(built.code, 0, show(built));
  const label = ['--label', 'dev.mailctl.rig=true', '--label', RIG_LABEL.replace('dev.mailctl.project=', 'dev.mailctl.project=')];
  t.is((await run('docker', ['run', '-d', '--name', DNS, ...label, '--network', netA, '--ip', `${A.subnet}.53`, '-v', `${zoneDir}:/etc/dnsmasq.d:ro`, 'mailctl-rig/dns:latest'])).code, 0);
  t.is((await run('docker', ['network', 'connect', '--ip', `${B.subnet}.53`, netB, DNS])).code, 0);
  t.is((await run('docker', ['run', '-d', '--name', TESTER, ...label, '--network', netA, '--dns', `${A.subnet}.53`,
    '-v', `${join(sites[A.project], 'certs', A.project)}:/ca:ro`, '-v', `${join(sites[B.project], 'certs', B.project)}:/ca-b:ro`, 'mailctl-rig/tester:latest'])).code, 0);
  t.is((await run('docker', ['network', 'connect', netB, TESTER])).code, 0);

  t.is((await cli(A, ['add-user', 'ann@one.test', '--password-stdin'], 'ann-password-1\n')).code, 0);
  t.is((await cli(B, ['add-user', 'bob@two.test', '--password-stdin'], 'bob-password-1\n')).code, 0);

  const recordsA = JSON.parse((await cli(A, ['dns', '--json'])).stdout) as DnsRecord[];
  const recordsB = JSON.parse((await cli(B, ['dns', '--json'])).stdout) as DnsRecord[];
  // chasquid runs in the host's network: A reaches B's MX (B's address) from this host, and the
  // kernel gives a connection to a local address that address as its source: B sees B.address.
  // On two machines A's own address would be the source; here SPF names what B really sees.
  writeFileSync(join(zoneDir, 'zones.conf'), [
    ...zoneLinesFor(recordsA, B.address),
    ...zoneLinesFor(recordsB, B.address),
  ].join('\n') + '\n');
  await docker.getContainer(DNS).restart();
  const dkimCheck = await cli(A, ['dns', '--check', '--resolver', `${A.subnet}.53`]);
  t.is(dkimCheck.code, 0, `A's records are published: ${show(dkimCheck)}`);

  const sent = await exec(['swaks', '--server', `${A.subnet}.1`, '--port', '587', '-tls', '--auth', 'PLAIN',
    '--auth-user', 'ann@one.test', '--auth-password', 'ann-password-1', '--from', 'ann@one.test', '--to', 'bob@two.test',
    '--header', 'Subject: across-servers', '--body', 'Hello from stack A.']);
  t.is(sent.code, 0, show(sent));

  const raw = await exec(['env', 'MAILCHECK_CA=/ca-b/ca.crt', 'mailcheck', 'raw', 'imaps', `${B.subnet}.1`, 'bob@two.test', 'across-servers'], 'bob-password-1\n');
  t.is(raw.code, 0, show(raw));
  const headers = raw.stdout.slice(0, raw.stdout.search(/\r?\n\r?\n/));
  t.log(`headers of the delivered message:\n${headers}`);
  t.regex(headers, /^DKIM-Signature: v=1; a=rsa-sha256;[^]*?\bd=one\.test; s=mail;/m, 'A signed it');
  t.regex(headers, /^Received-SPF: pass/m, 'B recorded SPF pass');
  t.regex(headers, /^Received: from mail\.one\.test \(\[198\.18\.58\.1\]\)\r?\n\s+by mail\.two\.test \(chasquid\) with ESMTPS\r?\n\s+tls \S+\r?\n\s+\(over SMTP, TLS[- ]1\.[23]/m, 'B received it from A over SMTP with STARTTLS');

  const verified = await exec(['dkimverify'], raw.stdout);
  t.is(verified.code, 0, show(verified));
  t.regex(verified.stdout, /signature ok/);
});
