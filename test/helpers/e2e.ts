/** Running real processes for the end-to-end tests: mailctl itself, docker-compose, the tester's clients. */
import { connect } from 'node:net';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import Docker from 'dockerode';
import { demuxToText } from '../../src/docker/dockerode-engine.js';
import { quoteTxt, type DnsRecord } from '../../src/dns/records.js';

export const ROOT = resolve(import.meta.dirname, '../..');
const ENTRY = join(ROOT, 'test/helpers/mailctl-entry.ts');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; stdin?: string } = {}): Promise<RunResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { cwd: options.cwd ?? ROOT, env: { ...process.env, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => { stdout += c; });
    child.stderr.on('data', (c) => { stderr += c; });
    child.on('error', reject);
    child.on('close', (code) => resolvePromise({ code: code ?? -1, stdout, stderr }));
    // A command that exits without reading its stdin closes the pipe: not an error of the test.
    child.stdin.on('error', () => {});
    child.stdin.end(options.stdin ?? '');
  });
}

/** `mailctl ARGS` in `cwd` (where its .env is). */
export function mailctl(cwd: string, args: string[], stdin?: string, env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  return run(process.execPath, [`--import=${import.meta.resolve('tsx')}`, '--', ENTRY, ...args], { cwd, stdin, env: { MAILCTL_DEBUG: '1', ...env } });
}

/** A site directory with a .env for a test stack on loopback, on its own ports. */
export function siteWithEnv(values: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'mailctl-e2e-'));
  writeFileSync(join(dir, '.env'), Object.entries(values).map(([k, v]) => `${k}=${v}`).join('\n') + '\n');
  return dir;
}

/** Ports base+25, base+587, ... so stacks of different tests never collide. */
export function portsFrom(base: number): Record<string, string> {
  const ports = { SMTP: 25, SUBMISSION: 587, SUBMISSIONS: 465, IMAP: 143, IMAPS: 993, POP3: 110, POP3S: 995, HTTP: 80, MANAGESIEVE: 4190, HTTPS: 443 };
  return Object.fromEntries(Object.entries(ports).map(([k, p]) => [`MAIL_PORT_${k}`, String(base + p)]));
}

export const docker = new Docker();

/** Every container of a project (and the rig), with its last log lines: printed when a test fails. */
export async function dumpLogs(filterLabels: string[]): Promise<string> {
  const out: string[] = [];
  for (const label of filterLabels) {
    for (const c of await docker.listContainers({ all: true, filters: { label: [label] } })) {
      const raw = (await docker.getContainer(c.Id).logs({ stdout: true, stderr: true, tail: 60 })) as unknown as Buffer;
      out.push(`----- ${c.Names[0]} (${c.State}, ${c.Status}) -----\n${demuxToText(raw)}`);
    }
  }
  return out.join('\n');
}

/** Remove everything a test project made: containers, network, volumes (only what carries its label). */
export async function removeProject(project: string): Promise<void> {
  const label = `dev.mailctl.project=${project}`;
  for (const c of await docker.listContainers({ all: true, filters: { label: [label] } })) {
    await docker.getContainer(c.Id).remove({ force: true }).catch(() => {});
  }
  for (const n of await docker.listNetworks({ filters: { label: [label] } })) {
    await docker.getNetwork(n.Id).remove().catch(() => {});
  }
  const { Volumes } = await docker.listVolumes({ filters: { label: [label] } });
  for (const v of Volumes ?? []) await docker.getVolume(v.Name).remove().catch(() => {});
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The host's address on a stack's network (x.y.z.1 of MAIL_SUBNET). chasquid
 * and dovecot run in the host's network: a stack whose MAIL_BIND is this
 * address serves the rig on the protocols' own ports, and two such stacks
 * never collide.
 */
export const gatewayOf = (subnet: string) => subnet.replace(/\.\d+\/\d+$/, '.1');

/** The compose rig (compose/) next to one stack: docker-compose calls, and commands in its tester. */
export function rig(env: { project: string; dnsIp: string; caDir: string } & Record<string, string>) {
  const { project, dnsIp, caDir, ...extra } = env;
  // The tester reaches <project>-chasquid and <project>-dovecot at the stack's gateway address.
  const gateway = dnsIp.replace(/\.\d+$/, '.1');
  const composeEnv = { STACK_NETWORK: `${project}-net`, STACK_PROJECT: project, STACK_GATEWAY: gateway, RIG_DNS_IP: dnsIp, CA_DIR: caDir, COMPOSE_PROJECT_NAME: `${project}-rig`, ...extra };
  const file = join(ROOT, 'compose/docker-compose.yml');
  const compose = (args: string[]) => run('docker-compose', ['-f', file, ...args], { env: composeEnv });
  const tester = (args: string[], stdin?: string) => run('docker-compose', ['-f', file, 'exec', '-T', 'tester', ...args], { env: composeEnv, stdin });
  return { compose, tester };
}

export const show = (r: RunResult) => `exit ${r.code}\n${r.stdout}\n${r.stderr}`;

/** dnsmasq lines publishing `records`, optionally broken by `mutate`. */
export function dnsmasqZone(records: DnsRecord[], mutate: (r: DnsRecord) => DnsRecord | undefined = (r) => r): string {
  const lines: string[] = [];
  for (const original of records) {
    const r = mutate(original);
    if (!r?.value) continue;
    const name = r.name.replace(/\.$/, '');
    if (r.type === 'A') lines.push(`host-record=${name},${r.value}`);
    if (r.type === 'MX') lines.push(`mx-host=${name},${r.value.split(' ')[1].replace(/\.$/, '')},${r.value.split(' ')[0]}`);
    if (r.type === 'TXT') lines.push(`txt-record=${name},${quoteTxt(r.value).replace(/" "/g, '","')}`);
    if (r.type === 'SRV') {
      const [priority, weight, port, target] = r.value.split(' ');
      lines.push(`srv-host=${name},${target.replace(/\.$/, '')},${port},${priority},${weight}`);
    }
    // dnsmasq answers a CNAME only for a target it knows (a host-record: the A record above).
    if (r.type === 'CNAME') lines.push(`cname=${name},${r.value.replace(/\.$/, '')}`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * What `docker inspect` shows of each container of a project, against what
 * model/limits.ts says it may have: the problems found (none is good).
 */
export async function hardeningProblems(project: string): Promise<{ services: string[]; problems: string[] }> {
  const { PRIVILEGES, DEFAULT_LIMITS } = await import('../../src/model/limits.js');
  const problems: string[] = [];
  const services: string[] = [];
  for (const c of await docker.listContainers({ all: true, filters: { label: [`dev.mailctl.project=${project}`] } })) {
    const service = c.Labels['dev.mailctl.service'] as keyof typeof PRIVILEGES;
    services.push(service);
    const host = (await docker.getContainer(c.Id).inspect()).HostConfig;
    const want = PRIVILEGES[service];
    const fail = (what: string) => problems.push(`${service}: ${what}`);
    if (JSON.stringify(host.CapDrop) !== '["ALL"]') fail(`CapDrop ${JSON.stringify(host.CapDrop)}`);
    if (JSON.stringify([...(host.CapAdd ?? [])].sort()) !== JSON.stringify([...want.capabilities].sort())) fail(`CapAdd ${JSON.stringify(host.CapAdd)}`);
    if (want.noNewPrivileges && !(host.SecurityOpt ?? []).includes('no-new-privileges')) fail('no no-new-privileges');
    if (host.Memory !== DEFAULT_LIMITS[service].memoryBytes || host.MemorySwap !== host.Memory) fail(`memory ${host.Memory}/${host.MemorySwap}`);
    if (host.PidsLimit !== DEFAULT_LIMITS[service].pids) fail(`pids ${host.PidsLimit}`);
    if (host.LogConfig?.Type !== 'json-file' || host.LogConfig.Config?.['max-size'] !== '10m' || host.LogConfig.Config?.['max-file'] !== '3') fail(`logs ${JSON.stringify(host.LogConfig)}`);
    if (host.Privileged) fail('privileged');
  }
  return { services: services.sort(), problems };
}

/** The longest stretch (ms) with connections to a port refused, while `during` runs; polled every 50 ms. */
export async function refusedGap(port: number, during: () => Promise<void>): Promise<number> {
  let longest = 0;
  let since: number | undefined;
  let done = false;
  const poll = (async () => {
    while (!done) {
      const ok = await new Promise<boolean>((resolve) => {
        const s = connect({ host: '127.0.0.1', port }, () => { s.destroy(); resolve(true); });
        s.on('error', () => resolve(false));
      });
      const now = Date.now();
      if (ok && since !== undefined) { longest = Math.max(longest, now - since); since = undefined; }
      if (!ok && since === undefined) since = now;
      await sleep(50);
    }
  })();
  await during();
  done = true;
  await poll;
  return longest;
}
