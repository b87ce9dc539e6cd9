/**
 * `npm run bench` / `make bench`: measures on the local engine and writes
 * BENCHMARKS.md. Numbers live here and in that file, never in timed tests.
 *
 *   BENCH_MESSAGES (2000)  BENCH_CONCURRENCY (16)  BENCH_RUNS (3)  BENCH_COLD_BUILD (1)
 *
 * - throughput: smtp-source (postfix) in the rig's tester, N messages of 1 KB
 *   at concurrency C into port 25, from the first connection until the last
 *   message is in the maildir; mailctl's stack against a baseline of the same
 *   Debian chasquid + dovecot in one container on the host's network (the
 *   how-to's single box).
 * - no-op `up`, cold and warm `build`, image sizes, container memory.
 * - renewal gap: a forced certificate renewal (restarts chasquid, reloads
 *   dovecot) while a probe greets SMTP, IMAPS and IMAP every 100 ms.
 * - fault under load: chasquid SIGKILLed at a random moment during a load run
 *   and started again; every message that got a 250 must be delivered.
 * - no-op `docker-compose up -d` on `mailctl compose` output, against no-op `up`.
 * - backup and restore of the mailbox the throughput runs left (size, time,
 *   how long the services were paused).
 * - upgrade: time, and the longest refused window on SMTP and IMAP while a
 *   loop sends mail (every accepted message must be delivered).
 * - abuse (bench/abuse.ts): the sender check per message, the guard's memory,
 *   the seconds from the failed login that reaches the limit to the ban.
 * - footprint (bench/footprint.ts): every container's idle memory and
 *   processes against its limits.
 * - Swarm (bench/swarm.ts): deploy to healthy, and the refused windows of a
 *   rolling update and of a restart of chasquid's service.
 */
import { cpus, totalmem, tmpdir } from 'node:os';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderChasquidConf } from '../src/render/chasquid.js';
import { renderDovecotConf } from '../src/render/dovecot.js';
import { loadConfig } from '../src/config/load.js';
import { ensureLocalCa } from '../src/certs/selfsigned.js';
import { measureAbuse } from './abuse.js';
import { measureFootprint } from './footprint.js';
import { measureSwarm } from './swarm.js';
import { docker, portsFrom, removeProject, ROOT, run, siteWithEnv, type RunResult } from '../test/helpers/e2e.js';

/** The CLI as users run it: the compiled bin (make bench builds it first). */
const mailctl = (cwd: string, args: string[], stdin?: string) => run(process.execPath, ['--', join(ROOT, 'bin/mailctl.js'), ...args], { cwd, stdin });

const N = Number(process.env.BENCH_MESSAGES ?? 2000);
const C = Number(process.env.BENCH_CONCURRENCY ?? 16);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const COLD = (process.env.BENCH_COLD_BUILD ?? '1') === '1';
const PROJECT = 'mcbench';
const DNS_IP = '172.29.60.53';
const BASELINE = 'mcbench-baseline';
const BASELINE_SMTP = 10025;
const USER = 'bench@example.test';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const log = (m: string) => process.stderr.write(`bench: ${m}\n`);
const show = (r: RunResult) => `exit ${r.code}\n${r.stdout}\n${r.stderr}`;
function must(r: RunResult, what: string): RunResult {
  if (r.code !== 0) throw new Error(`${what} failed: ${show(r)}`);
  return r;
}

// chasquid and dovecot listen on the stack network's gateway (an address of this host) on their own
// ports: the rig's tester reaches them there, by their names (see compose/docker-compose.yml).
const GATEWAY = '172.29.60.1';
const site = siteWithEnv({
  MAIL_DOMAIN: 'example.test', CERT_MODE: 'selfsigned', MAILCTL_PROJECT: PROJECT, MAIL_BIND: GATEWAY,
  MAIL_SUBNET: '172.29.60.0/24', MAIL_DNS: DNS_IP,
});
const composeEnv = {
  STACK_NETWORK: `${PROJECT}-net`, STACK_PROJECT: PROJECT, STACK_GATEWAY: GATEWAY, RIG_DNS_IP: DNS_IP,
  CA_DIR: join(site, 'certs', PROJECT), COMPOSE_PROJECT_NAME: `${PROJECT}-rig`,
};
const compose = (args: string[]) => run('docker-compose', ['-f', join(ROOT, 'compose/docker-compose.yml'), ...args], { env: composeEnv });
const tester = (args: string[], stdin?: string) => run('docker-compose', ['-f', join(ROOT, 'compose/docker-compose.yml'), 'exec', '-T', 'tester', ...args], { env: composeEnv, stdin });

async function timed<T>(fn: () => Promise<T>): Promise<[number, T]> {
  const t0 = process.hrtime.bigint();
  const value = await fn();
  return [Number(process.hrtime.bigint() - t0) / 1e9, value];
}

/** Where a container's /var/mail is on this host: its volume, or its own filesystem (the baseline has none). */
const mailRoots = new Map<string, string>();
async function mailRootOnHost(container: string): Promise<string> {
  const known = mailRoots.get(container);
  if (known) return known;
  const info = await docker.getContainer(container).inspect();
  const root = info.Mounts.find((m) => m.Destination === '/var/mail')?.Source ?? join((info.GraphDriver.Data as unknown as { MergedDir: string }).MergedDir, 'var/mail');
  mailRoots.set(container, root);
  return root;
}

/**
 * Messages in the bench user's Maildir, read on this host: a poll every 100 ms
 * through `docker exec` took CPU from the run it measured (on 2 cores, enough
 * to slow delivery behind acceptance).
 */
async function maildirCount(container: string): Promise<number> {
  const maildir = join(await mailRootOnHost(container), 'example.test/bench/Maildir');
  const count = (dir: string) => { try { return readdirSync(join(maildir, dir)).length; } catch { return 0; } };
  return count('new') + count('cur');
}

async function clearMaildir(container: string): Promise<void> {
  await run('docker', ['exec', container, 'sh', '-c', 'rm -rf /var/mail/example.test/bench/Maildir']);
}

/** smtp-source into host:port; seconds from start until `expected` messages are in the maildir. */
async function throughputRun(host: string, port: number, dovecot: string): Promise<number> {
  await clearMaildir(dovecot);
  const [seconds] = await timed(async () => {
    must(await tester(['smtp-source', '-s', String(C), '-m', String(N), '-l', '1024', '-f', 'load@sender.test', '-t', USER, `${host}:${port}`]), 'smtp-source');
    const deadline = Date.now() + 600_000;
    while ((await maildirCount(dovecot)) < N) {
      if (Date.now() > deadline) throw new Error('messages did not all arrive within 10 minutes');
      await new Promise((r) => setTimeout(r, 100));
    }
  });
  return N / seconds;
}

/** The how-to's single box: chasquid and dovecot from the same packages, one container, host network. */
async function startBaseline(): Promise<void> {
  // Every address, its own ports: nothing of the stack's is taken.
  const config = loadConfig({ cwd: site, env: { MAIL_BIND: '0.0.0.0', MAIL_PORT_SMTP: String(BASELINE_SMTP), MAIL_PORT_SUBMISSION: '10587', MAIL_PORT_SUBMISSIONS: '10465' } });
  const ctx = mkdtempSync(join(tmpdir(), 'mailctl-baseline-'));
  const ca = ensureLocalCa(join(ctx, 'ca'), 'baseline', config.hostname);
  mkdirSync(join(ctx, 'certs'));
  writeFileSync(join(ctx, 'certs', 'fullchain.pem'), ca.server.certPem);
  writeFileSync(join(ctx, 'certs', 'privkey.pem'), ca.server.keyPem);
  writeFileSync(join(ctx, 'chasquid.conf'), renderChasquidConf(config));
  // Only LMTP and auth are needed for the load: with protocols = lmtp dovecot
  // starts no IMAP, POP3 or ManageSieve listener. Sieve and quota at delivery
  // stay, as in the stack.
  writeFileSync(join(ctx, 'dovecot.conf'), renderDovecotConf(config).replace(/^protocols = .*$/m, 'protocols = lmtp'));
  // chasquid.conf delivers through mailctl-deliver, as in the stack.
  writeFileSync(join(ctx, 'mailctl-deliver'), readFileSync(join(ROOT, 'images/chasquid/mailctl-deliver')), { mode: 0o755 });
  // dovecot.conf names the quota warning's script (run only at 90%).
  writeFileSync(join(ctx, 'mailctl-quota-warning'), readFileSync(join(ROOT, 'images/dovecot/mailctl-quota-warning')), { mode: 0o755 });
  writeFileSync(join(ctx, 'start'), `#!/bin/bash
set -e
printf '%s:%s::::::\\n' '${USER}' "$(printf 'bench-pass-1\\nbench-pass-1\\n' | doveadm pw -s ARGON2ID)" > /etc/mailctl/users/passwd
# dovecot.conf names the Sieve sender's passdb; the baseline sends no Sieve mail.
: > /etc/mailctl/users/sieve-sender.passwd
mkdir -p /var/lib/chasquid/domains/example.test && chown -R chasquid: /var/lib/chasquid
dovecot
exec setpriv --reuid=chasquid --regid=chasquid --init-groups chasquid -config_dir=/etc/chasquid
`);
  // The same chasquid as the images: 1.19 from unstable, pinned (images/chasquid/apt/).
  writeFileSync(join(ctx, 'chasquid-from-sid.pref'), readFileSync(join(ROOT, 'images/chasquid/apt/chasquid-from-sid.pref')));
  writeFileSync(join(ctx, 'Dockerfile'), `FROM debian:trixie-slim
COPY chasquid-from-sid.pref /etc/apt/preferences.d/chasquid-from-sid
RUN echo "deb [check-valid-until=no] http://deb.debian.org/debian sid main" > /etc/apt/sources.list.d/sid-chasquid.list
RUN groupadd --system --gid 2500 chasquid && useradd --system --uid 2500 --gid 2500 --home-dir /var/lib/chasquid chasquid \\
 && groupadd --system --gid 5000 vmail && useradd --system --uid 5000 --gid 5000 --home-dir /var/mail vmail
RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chasquid dovecot-core dovecot-imapd dovecot-lmtpd dovecot-sieve ca-certificates \\
 && apt-get clean && rm -rf /var/lib/apt/lists/* /etc/dovecot/conf.d /etc/chasquid/hooks/post-data /etc/chasquid/domains \\
 && ln -s /var/lib/chasquid/domains /etc/chasquid/domains && mkdir -p /etc/mailctl/users /run/mailctl /etc/chasquid/certs/${config.hostname} /etc/mailctl/certs/${config.hostname} \\
 && chown vmail: /var/mail
COPY chasquid.conf /etc/chasquid/chasquid.conf
COPY dovecot.conf /etc/dovecot/dovecot.conf
COPY certs/ /etc/chasquid/certs/${config.hostname}/
COPY certs/ /etc/mailctl/certs/${config.hostname}/
COPY start /start
COPY mailctl-deliver mailctl-quota-warning /usr/local/bin/
RUN install -d -o chasquid -g chasquid -m 0700 /run/mailctl-deliver && chmod 755 /start /usr/local/bin/mailctl-deliver /usr/local/bin/mailctl-quota-warning && chgrp -R chasquid /etc/chasquid/certs && chmod -R g+r /etc/chasquid/certs
CMD ["/start"]
`);
  must(await run('docker', ['build', '-q', '-t', 'mailctl-bench/baseline', ctx]), 'baseline build');
  await docker.getContainer(BASELINE).remove({ force: true }).catch(() => {});
  writeFileSync(join(ctx, 'resolv.conf'), `nameserver ${DNS_IP}\n`);
  must(await run('docker', ['run', '-d', '--name', BASELINE, '--network', 'host', '-v', `${join(ctx, 'resolv.conf')}:/etc/resolv.conf:ro`, 'mailctl-bench/baseline']), 'baseline run');
  for (let i = 0; i < 100; i++) {
    if ((await tester(['bash', '-c', `exec 3<>/dev/tcp/${await gateway()}/${BASELINE_SMTP} && head -c3 <&3`])).stdout.startsWith('220')) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error('baseline did not answer');
}

/** The host as the tester sees it: its network's gateway. */
async function gateway(): Promise<string> {
  const net = await docker.getNetwork(`${PROJECT}-net`).inspect();
  return net.IPAM?.Config?.[0]?.Gateway ?? '172.29.60.1';
}

async function memMiB(name: string): Promise<number> {
  const stats = await docker.getContainer(name).stats({ stream: false });
  return Math.round((stats.memory_stats.usage - (stats.memory_stats.stats?.cache ?? 0)) / 2 ** 20);
}

async function main(): Promise<void> {
  const rows: [string, string][] = [];
  const add = (k: string, v: string) => { rows.push([k, v]); log(`${k}: ${v}`); };
  // A run that failed leaves the rig on the stack's network.
  await compose(['down', '--volumes', '--remove-orphans']);
  await removeProject(PROJECT);

  // Build: cold (no cache) and warm (nothing changed).
  if (COLD) {
    const [cold] = await timed(async () => must(await mailctl(site, ['build', '--no-cache']), 'cold build'));
    add('build, cold (all images, --no-cache)', `${cold.toFixed(1)} s`);
  }
  const warm: number[] = [];
  for (let i = 0; i < 5; i++) warm.push((await timed(async () => must(await mailctl(site, ['build']), 'warm build')))[0]);
  add('build, nothing changed (median of 5, CLI process included)', `${median(warm).toFixed(2)} s`);

  const [firstUp] = await timed(async () => must(await mailctl(site, ['up']), 'up'));
  add('up, first (images built, volumes new)', `${firstUp.toFixed(1)} s`);
  const noop: number[] = [];
  for (let i = 0; i < 5; i++) noop.push((await timed(async () => must(await mailctl(site, ['up']), 'no-op up')))[0]);
  add('up, nothing changed (median of 5, CLI process included)', `${median(noop).toFixed(2)} s`);
  // The same stack from `mailctl compose`, run by docker-compose: its no-op `up -d`.
  const composeFile = join(site, 'stack.yml');
  must(await mailctl(site, ['compose', '-o', composeFile]), 'compose');
  must(await mailctl(site, ['down']), 'down before compose');
  const stackCompose = (args: string[]) => run('docker-compose', ['-f', composeFile, '-p', `${PROJECT}-stack`, ...args]);
  must(await stackCompose(['up', '-d']), 'docker-compose up');
  const composeNoop: number[] = [];
  for (let i = 0; i < 5; i++) composeNoop.push((await timed(async () => must(await stackCompose(['up', '-d']), 'no-op docker-compose up')))[0]);
  add('no-op `docker-compose up -d` on `mailctl compose` output (median of 5)', `${median(composeNoop).toFixed(2)} s`);
  must(await stackCompose(['down']), 'docker-compose down');
  must(await mailctl(site, ['up']), 'up after compose');

  for (const name of ['chasquid', 'dovecot']) add(`memory after start: ${name}`, `${await memMiB(`${PROJECT}-${name}`)} MiB`);
  const images = JSON.parse(must(await mailctl(site, ['build', '--json']), 'build --json').stdout) as { name: string; ref: string }[];
  for (const image of images) add(`image size: ${image.name}`, `${Math.round((await docker.getImage(image.ref).inspect()).Size / 1e6)} MB`);

  must(await compose(['up', '-d', '--build', 'dns', 'tester']), 'rig');
  must(await mailctl(site, ['add-user', USER, '--password-stdin'], 'bench-pass-1\n'), 'add-user');
  await startBaseline();

  const ours: number[] = [];
  const base: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    ours.push(await throughputRun(`${PROJECT}-chasquid`, 25, `${PROJECT}-dovecot`));
    base.push(await throughputRun(await gateway(), BASELINE_SMTP, BASELINE));
    log(`run ${i + 1}: mailctl ${ours[i].toFixed(1)} msg/s, baseline ${base[i].toFixed(1)} msg/s`);
  }
  add(`throughput, mailctl (${N} x 1 KB, ${C} sessions, median of ${RUNS})`, `${median(ours).toFixed(1)} msg/s`);
  add(`throughput, baseline: one container, host network (median of ${RUNS})`, `${median(base).toFixed(1)} msg/s`);
  const ratio = median(ours) / median(base);
  add('throughput ratio (mailctl/baseline)', ratio.toFixed(2));
  for (const name of ['chasquid', 'dovecot']) add(`memory after throughput: ${name}`, `${await memMiB(`${PROJECT}-${name}`)} MiB`);
  // Temporary failures make chasquid retry later and stretch a run: count them, show a few.
  for (const name of [`${PROJECT}-chasquid`, `${PROJECT}-dovecot`, BASELINE]) {
    const text = (await run('docker', ['logs', name])).stdout + (await run('docker', ['logs', name])).stderr;
    const errors = text.split('\n').filter((l) => /error|fail|temporar/i.test(l));
    add(`log lines with errors during the runs: ${name}`, String(errors.length));
    for (const line of errors.slice(0, 3)) log(`  ${line.slice(0, 240)}`);
  }
  await docker.getContainer(BASELINE).remove({ force: true });

  await measureAbuse(PROJECT, GATEWAY, 993, USER, add);
  await measureFootprint(mailctl, add);

  // Backup and restore of what the throughput runs left in the mailbox.
  const archive = join(mkdtempSync(join(tmpdir(), 'mailctl-bench-')), 'backup.tar.gz');
  const messages = await maildirCount(`${PROJECT}-dovecot`);
  const backup = JSON.parse(must(await mailctl(site, ['backup', archive, '--json']), 'backup').stdout);
  add(`backup of ${messages} messages: size`, `${(backup.bytes / 1e6).toFixed(2)} MB`);
  add('backup: time / services paused', `${backup.seconds.toFixed(1)} s / ${backup.pausedSeconds.toFixed(1)} s`);
  // A bigger mailbox: 1500 messages of ~135 KB (base64 of random bytes, like attachments), put straight into the Maildir.
  const fill = 'cd /var/mail/example.test/bench/Maildir/new && for i in $(seq 1 1500); do { printf "Subject: big-%s\\r\\n\\r\\n" $i; head -c 100000 /dev/urandom | base64; } > 1700000000.big$i.bench; done; du -sm /var/mail | cut -f1';
  const mailMB = must(await run('docker', ['exec', '-u', 'vmail', `${PROJECT}-dovecot`, 'sh', '-c', fill]), 'fill the mailbox').stdout.trim();
  const bigArchive = join(mkdtempSync(join(tmpdir(), 'mailctl-bench-')), 'big.tar.gz');
  const big = JSON.parse(must(await mailctl(site, ['backup', bigArchive, '--json']), 'big backup').stdout);
  add(`backup of a ${mailMB} MB mailbox: size / time / services paused`, `${(big.bytes / 1e6).toFixed(0)} MB / ${big.seconds.toFixed(1)} s / ${big.pausedSeconds.toFixed(1)} s`);
  must(await run('docker', ['exec', `${PROJECT}-dovecot`, 'sh', '-c', 'rm -f /var/mail/example.test/bench/Maildir/new/*.bench']), 'empty the mailbox');
  const restoreSite = siteWithEnv({ MAIL_DOMAIN: 'example.test', CERT_MODE: 'selfsigned', MAILCTL_PROJECT: `${PROJECT}-r`, MAIL_BIND: '127.0.0.1', ...portsFrom(29000) });
  const restored = JSON.parse(must(await mailctl(restoreSite, ['restore', archive, '--json']), 'restore').stdout);
  add('restore into a new project (then up)', `${restored.seconds.toFixed(1)} s, ${restored.messages} messages`);
  await removeProject(`${PROJECT}-r`);

  // Gap during a forced renewal (selfsigned: a new certificate; chasquid restarted, dovecot reloaded by SIGHUP).
  const probe = tester(['mailcheck', 'probe', '25', `${PROJECT}-chasquid:25`, `${PROJECT}-dovecot:993`, `${PROJECT}-dovecot:143`]);
  await new Promise((r) => setTimeout(r, 2000));
  must(await mailctl(site, ['renew', '--force']), 'renew');
  const gaps = JSON.parse((await probe).stdout);
  const gap = (target: string) => `${gaps[target].longest_ms} ms without a greeting; ${gaps[target].refused} of ${gaps[target].probes} probes refused`;
  add('gap during `renew --force`: SMTP 25 (chasquid restarted)', gap(`${PROJECT}-chasquid:25`));
  add('gap during `renew --force`: IMAPS 993 (dovecot reloaded)', gap(`${PROJECT}-dovecot:993`));
  add('gap during `renew --force`: IMAP 143 (dovecot reloaded)', gap(`${PROJECT}-dovecot:143`));

  // Fault under load: SIGKILL chasquid at a random moment, start it again.
  await clearMaildir(`${PROJECT}-dovecot`);
  const prefix = `fault${Date.now()}`;
  const load = tester(['mailcheck', 'send', String(Math.min(N, 600)), String(C), `${PROJECT}-chasquid`, '25', USER, prefix]);
  const killAt = 2000 + Math.floor(Math.random() * 4000);
  await new Promise((r) => setTimeout(r, killAt));
  await docker.getContainer(`${PROJECT}-chasquid`).kill({ signal: 'SIGKILL' });
  await docker.getContainer(`${PROJECT}-chasquid`).start().catch(() => {});
  const accepted = JSON.parse(must(await load, 'fault load').stdout) as number[];
  const deadline = Date.now() + 180_000;
  let subjects: string[] = [];
  while (Date.now() < deadline) {
    const r = await run('docker', ['exec', `${PROJECT}-dovecot`, 'sh', '-c', `grep -h '^Subject: ${prefix}-' -r /var/mail/example.test/bench/Maildir 2>/dev/null || true`]);
    subjects = r.stdout.split('\n').filter(Boolean).map((l) => l.replace(/^Subject: /, '').trim());
    if (accepted.every((i) => subjects.includes(`${prefix}-${i}`))) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  const lost = accepted.filter((i) => !subjects.includes(`${prefix}-${i}`));
  const duplicates = subjects.length - new Set(subjects).size;
  add('fault under load: chasquid SIGKILLed at', `${(killAt / 1000).toFixed(1)} s into a ${Math.min(N, 600)}-message run`);
  add('fault under load: accepted (250) / delivered / lost / duplicates', `${accepted.length} / ${accepted.length - lost.length} / ${lost.length} / ${duplicates}`);

  // Upgrade: every image rebuilt without cache, containers replaced one at a time, mail sent throughout.
  const loop = tester(['mailcheck', 'sendloop', `${PROJECT}-chasquid`, '25', USER, 'upgrade', '/tmp/stop-upgrade']);
  const upgradeProbe = tester(['mailcheck', 'probe', '/tmp/stop-upgrade', `${PROJECT}-chasquid:25`, `${PROJECT}-dovecot:143`]);
  await new Promise((r) => setTimeout(r, 1000));
  const [upgradeSeconds] = await timed(async () => must(await mailctl(site, ['upgrade']), 'upgrade'));
  await new Promise((r) => setTimeout(r, 2000));
  must(await tester(['touch', '/tmp/stop-upgrade']), 'stop loop');
  const loopResult = JSON.parse(must(await loop, 'send loop').stdout) as { accepted: number[]; failed_attempts: number };
  const upgradeGaps = JSON.parse(must(await upgradeProbe, 'probe').stdout);
  add('upgrade (chasquid + dovecot rebuilt without cache, replaced one at a time)', `${upgradeSeconds.toFixed(0)} s`);
  add('upgrade: longest refused window, SMTP 25 / IMAP 143', `${upgradeGaps[`${PROJECT}-chasquid:25`].longest_ms} ms / ${upgradeGaps[`${PROJECT}-dovecot:143`].longest_ms} ms`);
  const upgradeDeadline = Date.now() + 180_000;
  let upgraded: string[] = [];
  while (Date.now() < upgradeDeadline) {
    const r = await run('docker', ['exec', `${PROJECT}-dovecot`, 'sh', '-c', "grep -h '^Subject: upgrade-' -r /var/mail/example.test/bench/Maildir 2>/dev/null || true"]);
    upgraded = r.stdout.split('\n').filter(Boolean).map((l) => l.replace(/^Subject: /, '').trim());
    if (loopResult.accepted.every((i) => upgraded.includes(`upgrade-${i}`))) break;
    await new Promise((r) => setTimeout(r, 1000));
  }
  const upgradeLost = loopResult.accepted.filter((i) => !upgraded.includes(`upgrade-${i}`)).length;
  add('upgrade: loop messages accepted / delivered / refused attempts', `${loopResult.accepted.length} / ${loopResult.accepted.length - upgradeLost} / ${loopResult.failed_attempts}`);

  await compose(['down', '--volumes', '--remove-orphans']);
  await removeProject(PROJECT);
  await measureSwarm(mailctl, add);

  const machine = `${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}), ${Math.round(totalmem() / 2 ** 30)} GiB`;
  const table = ['| measurement | result |', '| --- | --- |', ...rows.map(([k, v]) => `| ${k} | ${v} |`)].join('\n');
  const md = `# Benchmarks

Machine: ${machine}. Date: ${new Date().toISOString()}.
Reproduce: \`make bench\` (or \`npm run bench\`; BENCH_MESSAGES=${N} BENCH_CONCURRENCY=${C} BENCH_RUNS=${RUNS}).

throughput ratio (mailctl/baseline): ${ratio.toFixed(2)}

${table}

The baseline is the how-to's single box: the same Debian chasquid and dovecot
packages with the same generated configuration (Sieve and quota at delivery,
chasquid's deliveries through mailctl-deliver), in one container on the host's
network, serving LMTP but no IMAP; the load comes from postfix's \`smtp-source\`
in the test rig's tester, to one mailbox, and a run ends when the last message
is in the Maildir (counted on the host, not through \`docker exec\`). The ratio
is what mailctl's packaging costs (containers, the split of the two daemons,
the guard and web services beside them); what Sieve and quota cost is in the
README (Mailboxes).
`;
  writeFileSync(join(ROOT, 'BENCHMARKS.md'), md);
  process.stdout.write(`${table}\n\nthroughput ratio (mailctl/baseline): ${ratio.toFixed(2)}\n`);
}

main().catch(async (err) => {
  process.stderr.write(`bench failed: ${(err as Error).message}\n`);
  await docker.getContainer(BASELINE).remove({ force: true }).catch(() => {});
  process.exitCode = 1;
});
