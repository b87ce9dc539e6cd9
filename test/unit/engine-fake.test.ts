/**
 * What talks to the engine, run against the fake engine: the executor of the
 * plan (create, replace, rolling roll-back), `up --dry-run` (no call that
 * changes anything, no file written), backup's thaw, restore's stop, and
 * `del-domain` (its users, aliases and DKIM key go; chasquid restarts).
 */
import test from 'ava';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { delDomain } from '../../src/accounts/changes.js';
import { ensureLocalCa } from '../../src/certs/selfsigned.js';
import { unpauseAll } from '../../src/ops/backup.js';
import { stopServices } from '../../src/ops/restore.js';
import { OperationalError } from '../../src/core/errors.js';
import { LABEL, projectLabels } from '../../src/model/labels.js';
import { applyContainerSteps } from '../../src/plan/apply-containers.js';
import { plan as planContainers } from '../../src/plan/containers.js';
import { observeStack } from '../../src/plan/observe.js';
import { desiredServices, planStack } from '../../src/plan/stack-plan.js';
import type { Progress } from '../../src/core/progress.js';
import { up, withContainerSteps } from '../../src/stack/up.js';
import { configFrom } from '../helpers/config.js';
import { engineError, FakeEngine, type ExecHandler } from '../helpers/fake-engine.js';

const progress = { step: () => {}, detail: () => {}, stop: () => {} } as unknown as Progress;
const site = () => mkdtempSync(join(tmpdir(), 'mailctl-fake-'));
const labelsOf = (service: string) => projectLabels('p', service);

test('executor: a new stack is created in order, each container started after its files are in', async (t) => {
  const engine = new FakeEngine();
  const config = configFrom({ MAILCTL_PROJECT: 'p', MAIL_BAN: 'off' });
  const targets = [{ name: 'dovecot', ref: 'mailctl/dovecot:1' }, { name: 'chasquid', ref: 'mailctl/chasquid:1' }, { name: 'web', ref: 'mailctl/web:1' }] as never;
  const steps = planContainers(desiredServices(config, targets, { 'mailctl/dovecot:1': 'sha256:d', 'mailctl/chasquid:1': 'sha256:c' }), []);
  await applyContainerSteps(engine, config, steps, 'p-net', progress, false);
  t.deepEqual(engine.calls, ['create p-dovecot', 'start p-dovecot', 'create p-chasquid', 'start p-chasquid', 'create p-web', 'start p-web']);
  t.true(engine.byName('p-dovecot')!.files.has('/etc/dovecot/dovecot.conf'), 'the generated configuration is put in at create');
  t.is(engine.byName('p-chasquid')!.labels[LABEL.service], 'chasquid');
});

test('executor: a changed container is replaced, the old one set aside until the new one exists', async (t) => {
  const engine = new FakeEngine();
  const config = configFrom({ MAILCTL_PROJECT: 'p', MAIL_BAN: 'off' });
  const targets = [{ name: 'dovecot', ref: 'mailctl/dovecot:1' }, { name: 'chasquid', ref: 'mailctl/chasquid:1' }, { name: 'web', ref: 'mailctl/web:1' }] as never;
  const old = engine.addContainer('p-dovecot', { ...labelsOf('dovecot'), [LABEL.configHash]: 'old' });
  const steps = planContainers(desiredServices(config, targets, {}), [{ id: old.id, name: 'p-dovecot', service: 'dovecot', state: 'running', configHash: 'old' }]);
  await applyContainerSteps(engine, config, steps.filter((s) => s.service === 'dovecot'), 'p-net', progress, false);
  t.regex(engine.calls[0], /^rename p-dovecot p-dovecot-replaced-\d+$/);
  t.deepEqual(engine.calls.slice(1).map((c) => c.replace(/-replaced-\d+/, '-replaced')), ['create p-dovecot', 'stop p-dovecot-replaced', 'remove p-dovecot-replaced', 'start p-dovecot']);
});

test('executor, rolling: a new container that does not run is removed and the old one comes back under its name', async (t) => {
  const engine = new FakeEngine();
  const config = configFrom({ MAILCTL_PROJECT: 'p', MAIL_BAN: 'off' });
  const targets = [{ name: 'dovecot', ref: 'mailctl/dovecot:2' }, { name: 'chasquid', ref: 'mailctl/chasquid:2' }, { name: 'web', ref: 'mailctl/web:2' }] as never;
  const old = engine.addContainer('p-dovecot', { ...labelsOf('dovecot'), [LABEL.configHash]: 'old' });
  engine.onStart.set('p-dovecot', { state: 'exited' });
  const steps = planContainers(desiredServices(config, targets, {}), [{ id: old.id, name: 'p-dovecot', service: 'dovecot', state: 'running', configHash: 'old' }]);
  const err = await t.throwsAsync(applyContainerSteps(engine, config, steps.filter((s) => s.service === 'dovecot'), 'p-net', progress, true), { instanceOf: OperationalError });
  t.regex(err!.message, /^p-dovecot was rolled back: p-dovecot stopped while starting \(exited\)/);
  const byName = engine.byName('p-dovecot')!;
  t.is(byName.id, old.id, 'the old container has its name again');
  t.is(byName.state, 'running');
  t.is(engine.containers.size, 1, 'the failed new one is gone');
});

test('up --dry-run on a new project: the plan names images, network, volumes, certificate and containers; nothing changes', async (t) => {
  const engine = new FakeEngine();
  engine.images.set('debian:trixie-slim', 'sha256:base');
  const dir = site();
  const config = configFrom({ MAILCTL_PROJECT: 'p', MAIL_DOMAIN: 'example.test', CERT_MODE: 'selfsigned' }, dir);
  const result = await up(engine, config, { dryRun: true }, progress);
  t.deepEqual(engine.calls, [], 'no call that changes the engine');
  t.false(existsSync(join(dir, 'certs')), 'no local CA written');
  const by = (kind: string) => result.steps.filter((s) => s.kind === kind).map((s) => `${s.action} ${s.name}`);
  t.deepEqual(by('network'), ['create p-net']);
  t.true(by('volume').includes('create p-mail') && by('volume').includes('create p-certs') && by('volume').includes('create p-guard-state'));
  t.deepEqual(by('image').map((s) => s.replace(/:[0-9a-f]{12}$/, '')), ['build mailctl/chasquid', 'build mailctl/dovecot', 'build mailctl/guard', 'build mailctl/web']);
  t.deepEqual(by('container'), ['create p-dovecot', 'create p-chasquid', 'create p-web', 'create p-guard']);
  t.regex(result.steps.find((s) => s.kind === 'certificate')!.reason, /makes a local CA in .*certs\/p and its certificate for mail\.example\.test/);
  t.deepEqual(by('dkim'), ['check every served domain'], 'its domains cannot be read before chasquid runs');
});

test('plan: --rolling is shown as the strategy of each replaced container', async (t) => {
  const engine = new FakeEngine();
  engine.images.set('debian:trixie-slim', 'sha256:base');
  const config = configFrom({ MAILCTL_PROJECT: 'p', MAIL_BAN: 'off' }, site());
  engine.addContainer('p-dovecot', { ...labelsOf('dovecot'), [LABEL.configHash]: 'old' });
  const seen = await observeStack(engine, config);
  const recreate = planStack(config, seen, { rolling: true }).steps.find((s) => s.kind === 'container' && s.action === 'recreate');
  t.is(recreate?.strategy, 'rolling');
  t.is(planStack(config, seen).steps.find((s) => s.kind === 'container' && s.action === 'recreate')?.strategy, 'replace');
});

test('backup: every writer is thawed even when one fails, and the one still frozen is named', async (t) => {
  const engine = new FakeEngine();
  for (const s of ['chasquid', 'dovecot', 'certbot']) engine.addContainer(`p-${s}`, labelsOf(s), {}, s === 'certbot' ? 'running' : 'paused');
  engine.failures.set('unpause p-chasquid', engineError(500, 'cgroup freezer: device busy'));
  const ids = (name: string) => ({ id: engine.byName(name)!.id, name });
  const failed = await unpauseAll(engine, [ids('p-chasquid'), ids('p-dovecot'), ids('p-certbot')]);
  t.deepEqual(engine.calls, ['unpause p-chasquid', 'unpause p-dovecot', 'unpause p-certbot'], 'the others are thawed all the same');
  t.is(failed.length, 1, 'certbot was not paused: someone thawed it, not a failure');
  t.regex(failed[0], /^p-chasquid could not be unpaused \(.*device busy/);
});

test('restore: a container that will not stop stops the restore before any volume is emptied', async (t) => {
  const engine = new FakeEngine();
  engine.addContainer('p-chasquid', labelsOf('chasquid'));
  engine.addContainer('p-dovecot', labelsOf('dovecot'));
  engine.addContainer('p-certbot', labelsOf('certbot'), {}, 'exited');
  engine.failures.set('stop p-dovecot', engineError(500, 'tried to kill container, but did not receive an exit event'));
  const err = await t.throwsAsync(stopServices(engine, configFrom({ MAILCTL_PROJECT: 'p' }), progress), { instanceOf: OperationalError });
  t.regex(err!.message, /could not stop p-dovecot \(.*did not receive an exit event\): nothing was restored and no data was touched; the containers stopped so far are p-chasquid/);
  t.deepEqual(engine.calls, ['stop p-chasquid', 'stop p-dovecot']);
});

/** The account tools of the two images, on the fake's files: enough for del-domain. */
const accountTools: ExecHandler = (c, cmd, stdin) => {
  const ok = (stdout = '') => ({ exitCode: 0, stdout, stderr: '' });
  if (cmd[0] === '/usr/local/bin/mailctl-users' && cmd[1] === 'del') {
    const passwd = c.files.get('/etc/mailctl/users/passwd')!.toString();
    c.files.set('/etc/mailctl/users/passwd', Buffer.from(passwd.split('\n').filter((l) => !l.startsWith(`${cmd[2]}:`)).join('\n')));
    return ok(`/var/mail/.deleted/${cmd[2]}.1`);
  }
  if (cmd[0] === '/usr/local/bin/mailctl-aliases') return ok();
  if (cmd[0] === '/usr/local/bin/mailctl-senders') {
    if (cmd[1] === 'set-map') c.files.set('/var/lib/chasquid/mailctl/senders', Buffer.from(stdin ?? ''));
    return ok();
  }
  return undefined;
};

test('del-domain --force: the domain, its DKIM key, users and aliases go; chasquid restarts; the sender map forgets them', async (t) => {
  const engine = new FakeEngine([accountTools]);
  const hash = '{ARGON2ID}$argon2id$v=19$m=65536,t=3,p=1$x$y';
  engine.addContainer('p-dovecot', labelsOf('dovecot'), { '/etc/mailctl/users/passwd': `alice@example.test:${hash}\nbob@other.test:${hash}\n` });
  engine.addContainer('p-chasquid', labelsOf('chasquid'), {
    '/var/lib/chasquid/domains/example.test/aliases': 'postmaster: alice@example.test\n',
    '/var/lib/chasquid/domains/other.test/aliases': 'postmaster: alice@example.test\n',
    '/var/lib/chasquid/domains/other.test/dkim:mail.pem': 'key',
  });
  const config = configFrom({ MAILCTL_PROJECT: 'p', MAIL_DOMAIN: 'example.test' });
  const refused = await t.throwsAsync(delDomain(engine, config, 'other.test', {}, progress));
  t.regex(refused!.message, /other\.test still has 1 user\(s\) \(bob@other\.test\): remove them first, or add --force/);
  t.false(engine.calls.some((c) => c.startsWith('exec p-chasquid rm')), 'refused before anything changed');

  const before = engine.calls.length;
  const result = await delDomain(engine, config, 'other.test', { force: true }, progress);
  t.deepEqual(result.removedUsers, ['bob@other.test']);
  const chasquid = engine.byName('p-chasquid')!;
  t.false([...chasquid.files.keys()].some((p) => p.includes('other.test')), 'its directory (aliases, DKIM key) is gone');
  t.true(engine.calls.includes('restart p-chasquid'), 'chasquid reads domains only at start');
  t.notRegex(engine.byName('p-dovecot')!.files.get('/etc/mailctl/users/passwd')!.toString(), /bob@/);
  t.notRegex(chasquid.files.get('/var/lib/chasquid/mailctl/senders')!.toString(), /other\.test/);
  t.deepEqual(engine.calls.slice(before).filter((c) => /^(hold|release)/.test(c)), ['hold p-dovecot /usr/local/bin/mailctl-users lock', 'release p-dovecot'], 'under the accounts lock');
});

test('executor: a paused container (a backup interrupted) is thawed, not started (found by a break-it session)', async (t) => {
  const engine = new FakeEngine();
  const config = configFrom({ MAILCTL_PROJECT: 'p', MAIL_BAN: 'off' });
  const frozen = engine.addContainer('p-dovecot', labelsOf('dovecot'), {}, 'paused');
  await applyContainerSteps(engine, config, [{ action: 'start', service: 'dovecot', name: 'p-dovecot', reason: 'was paused', containerId: frozen.id }], 'p-net', progress, false);
  t.deepEqual(engine.calls, ['unpause p-dovecot']);
  t.is(frozen.state, 'running');
});

test('executor: a container of the same name that mailctl did not make is named, with the fix (found by a break-it session)', async (t) => {
  const engine = new FakeEngine();
  const config = configFrom({ MAILCTL_PROJECT: 'p', MAIL_BAN: 'off' });
  engine.addContainer('p-dovecot', {});
  const targets = [{ name: 'dovecot', ref: 'mailctl/dovecot:1' }, { name: 'chasquid', ref: 'mailctl/chasquid:1' }, { name: 'web', ref: 'mailctl/web:1' }] as never;
  const steps = planContainers(desiredServices(config, targets, {}), []);
  const err = await t.throwsAsync(applyContainerSteps(engine, config, steps, 'p-net', progress, false), { instanceOf: OperationalError });
  t.regex(err!.message, /a container named p-dovecot exists that mailctl did not make .*: remove it \(`docker rm p-dovecot`\) or choose another MAILCTL_PROJECT/);
});

test('plan: a MAIL_SUBNET the network does not have is refused with the fix, and up changes nothing (found by a break-it session)', async (t) => {
  const engine = new FakeEngine();
  engine.images.set('debian:trixie-slim', 'sha256:base');
  engine.networks.set('p-net', labelsOf('net'));
  engine.subnets.set('p-net', '172.25.0.0/16');
  const config = configFrom({ MAILCTL_PROJECT: 'p', MAIL_SUBNET: '172.29.76.0/24' }, site());
  const refused = (await up(engine, config, { dryRun: true }, progress)).steps.find((s) => s.action === 'refuse');
  t.regex(refused!.reason, /it has the subnet 172\.25\.0\.0\/16 and MAIL_SUBNET says 172\.29\.76\.0\/24: run `mailctl down`, then `mailctl up`/);
  const err = await t.throwsAsync(up(engine, config, {}, progress));
  t.regex(err!.message, /^p-net: it has the subnet/);
  t.deepEqual(engine.calls, [], 'nothing was built, made or started');
});

test('plan: a manual certificate that is missing, a local CA that is unreadable: a refused step; one that cannot certify MAIL_HOSTNAME: a new CA, said, not a crash (found by a break-it session)', async (t) => {
  const engine = new FakeEngine();
  engine.images.set('debian:trixie-slim', 'sha256:base');
  const certStep = async (config: ReturnType<typeof configFrom>) => (await up(engine, config, { dryRun: true }, progress)).steps.find((s) => s.kind === 'certificate')!;
  const manual = await certStep(configFrom({ MAILCTL_PROJECT: 'p', CERT_MODE: 'manual' }, site()));
  t.is(manual.action, 'refuse');
  t.regex(manual.reason, /CERT_MODE=manual but .*fullchain\.pem or .*privkey\.pem is missing/);

  const dir = site();
  const config = configFrom({ MAILCTL_PROJECT: 'p', MAIL_DOMAIN: 'example.test' }, dir);
  await up(engine, config, { dryRun: true }, progress);
  ensureLocalCa(join(dir, 'certs', 'p'), 'p', 'mail.example.test', false, 'example.test');
  const outside = await certStep(configFrom({ MAILCTL_PROJECT: 'p', MAIL_DOMAIN: 'example.test', MAIL_HOSTNAME: 'mx.other.test' }, dir));
  t.is(outside.action, 'install', 'a CA that may not certify a name is made again, and the plan says so');
  t.regex(outside.reason, /makes a new local CA in .*; clients must then trust the new ca\.crt/);
  writeFileSync(join(dir, 'certs', 'p', 'ca.crt'), 'garbage\n');
  const corrupt = await certStep(config);
  t.is(corrupt.action, 'refuse');
  t.regex(corrupt.reason, /ca\.crt or its ca\.key cannot be read .*: restore both from a backup, or remove both to make a new CA/);
});

test('up reports the container steps it took, not the ones planned before a build (upgrade said no container was replaced)', (t) => {
  const planned = [
    { kind: 'image', action: 'build', name: 'mailctl/dovecot:1', reason: 'rebuilt without cache' },
    { kind: 'container', action: 'keep', service: 'dovecot', name: 'p-dovecot', reason: 'up to date' },
    { kind: 'container', action: 'keep', service: 'chasquid', name: 'p-chasquid', reason: 'up to date' },
    { kind: 'dkim', action: 'keep', name: 'example.test', reason: 'has a key' },
  ] as const;
  const taken = [
    { kind: 'container', action: 'recreate', service: 'dovecot', name: 'p-dovecot', reason: 'image changed', strategy: 'rolling' },
    { kind: 'container', action: 'recreate', service: 'chasquid', name: 'p-chasquid', reason: 'image changed', strategy: 'rolling' },
  ] as const;
  t.deepEqual(withContainerSteps(planned as never, taken as never).map((s) => `${s.kind} ${s.action} ${s.name}`), [
    'image build mailctl/dovecot:1', 'container recreate p-dovecot', 'container recreate p-chasquid', 'dkim keep example.test',
  ]);
  t.deepEqual(withContainerSteps(planned.filter((s) => s.kind !== 'container') as never, taken as never).map((s) => s.kind), ['image', 'dkim', 'container', 'container']);
});
