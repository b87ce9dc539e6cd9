/**
 * Docker Swarm support: the stack file (`compose --swarm`), the sidecar's
 * Swarm requests (inspect and force-update its chasquid's service), finding
 * and restarting a service that runs as a Swarm task, and `compose --swarm`
 * refusing an engine that is no Swarm manager.
 */
import test from 'ava';
import { configName, swarmDocument, swarmNetworkName, swarmNodeLabel } from '../../src/model/swarm-file.js';
import { stackSpecs } from '../../src/plan/services.js';
import { classify, forcedUpdateOf, mayRestart, mayRestartService } from '../../src/sidecar/policy.js';
import { observeProject } from '../../src/docker/containers.js';
import { locateService, refuseOnSwarm, restartService } from '../../src/runtime/running.js';
import { exportCompose } from '../../src/ops/export-compose.js';
import { OperationalError } from '../../src/core/errors.js';
import { projectLabels, SWARM_SERVICE_LABEL } from '../../src/model/labels.js';
import type { Progress } from '../../src/core/progress.js';
import { configFrom } from '../helpers/config.js';
import { FakeEngine } from '../helpers/fake-engine.js';

type Doc = { version: string; services: Record<string, any>; networks: Record<string, any>; volumes: Record<string, any>; configs: Record<string, { name: string; file: string }> };

const images = { chasquid: 'mailctl/chasquid:1', dovecot: 'mailctl/dovecot:1', certbot: 'mailctl/certbot:1', dockerproxy: 'mailctl/dockerproxy:1', web: 'mailctl/web:1', spamassassin: 'mailctl/spamassassin:1', clamav: 'mailctl/clamav:1' };
const ACME = { CERT_MODE: 'acme', ACME_EMAIL: 'admin@example.com' };

function swarmOf(raw: Record<string, string> = {}, project = 'p') {
  const specs = stackSpecs(configFrom({ MAILCTL_PROJECT: project, ...raw }), { images });
  const out = swarmDocument({ project, specs, filesDir: '/srv/p-swarm-files' });
  return { ...out, doc: out.document as unknown as Doc, specs };
}

const progressLog = () => {
  const lines: string[] = [];
  const progress = { step: (l: string) => lines.push(l), detail: () => {}, stop: () => {} } as unknown as Progress;
  return { lines, progress };
};

// ---- the stack file ----

test('stack file: version 3.9; the mail daemons on the host network with no ports, web publishing in host mode', (t) => {
  const { doc } = swarmOf();
  t.is(doc.version, '3.9');
  t.deepEqual(Object.keys(doc.services), ['dovecot', 'chasquid', 'web']);
  for (const name of ['chasquid', 'dovecot']) {
    const s = doc.services[name];
    t.deepEqual(s.networks, { hostnet: {} }, `${name} joins the host network`);
    t.is(s.ports, undefined, `${name} publishes nothing: it listens on MAIL_BIND itself`);
    t.is(s.hostname, undefined, `${name} keeps the host's name`);
  }
  t.deepEqual(doc.networks.hostnet, { external: true, name: 'host' });
  t.deepEqual(doc.services.web.ports, [
    { target: 80, published: 80, protocol: 'tcp', mode: 'host' },
    { target: 443, published: 443, protocol: 'tcp', mode: 'host' },
  ]);
  t.true(doc.services.web.ports.every((p: { mode: string }) => p.mode === 'host'), 'never through the ingress mesh, which hides the client');
  t.deepEqual(doc.services.web.networks, { default: {} });
});

test('stack file: every service pinned to the data node, stop-first updates with rollback, always restarted, limited', (t) => {
  const { doc, specs } = swarmOf(ACME);
  t.deepEqual(Object.keys(doc.services), ['dovecot', 'chasquid', 'dockerproxy', 'certbot', 'web']);
  t.is(swarmNodeLabel('p'), 'dev.mailctl.data.p');
  for (const spec of specs) {
    const { deploy } = doc.services[spec.service];
    t.deepEqual(deploy.placement.constraints, ['node.labels.dev.mailctl.data.p == true'], spec.service);
    t.is(deploy.update_config.order, 'stop-first', `${spec.service}: never two tasks on one queue or mailbox`);
    t.is(deploy.update_config.failure_action, 'rollback');
    t.is(deploy.update_config.parallelism, 1);
    t.is(deploy.rollback_config.order, 'stop-first');
    t.is(deploy.restart_policy.condition, 'any');
    t.is(deploy.replicas, 1);
    t.deepEqual(deploy.resources.limits, { memory: String(spec.limits.memoryBytes), pids: spec.limits.pids });
    t.deepEqual(deploy.labels, projectLabels('p', spec.service));
    t.deepEqual(doc.services[spec.service].labels, projectLabels('p', spec.service), 'container labels: commands find the task by them');
    t.deepEqual(doc.services[spec.service].cap_drop, ['ALL']);
  }
});

test('stack file: volumes are external, under mailctl\'s names; the overlay network is the stack\'s own and attachable', (t) => {
  const { doc, specs } = swarmOf(ACME);
  const named = [...new Set(specs.flatMap((s) => s.mounts.flatMap((m) => (m.volume ? [m.volume] : []))))].sort();
  t.deepEqual(Object.keys(doc.volumes).sort(), named);
  t.true(named.includes('p-mail') && named.includes('p-chasquid-state'));
  for (const v of named) t.deepEqual(doc.volumes[v], { external: true, name: v });
  t.false('/var/run/docker.sock' in doc.volumes, 'a bind mount is no volume');
  t.is(swarmNetworkName('p'), 'p-swarm');
  t.deepEqual(doc.networks.default, { name: 'p-swarm', driver: 'overlay', attachable: true, labels: projectLabels('p') });
});

test('stack file: generated files are configs with content-derived names, read-only in the container', (t) => {
  const { doc, files } = swarmOf();
  t.deepEqual(doc.services.chasquid.configs.map((c: { target: string }) => c.target), ['/etc/chasquid/chasquid.conf', '/etc/chasquid/submission/chasquid.conf']);
  for (const { source, mode } of [...doc.services.chasquid.configs, ...doc.services.dovecot.configs]) {
    t.truthy(doc.configs[source], `${source} is declared`);
    t.is(mode, 0o444);
  }
  const targets = Object.fromEntries(Object.entries(doc.services).flatMap(([service, s]) => (s.configs ?? []).map((c: { source: string; target: string }) => [c.source, { service, target: c.target }])));
  for (const [key, entry] of Object.entries(doc.configs)) {
    const { service, target } = targets[key];
    const file = files.find((f) => `/srv/p-swarm-files/${f.path}` === entry.file);
    t.truthy(file, `${key} is a file written`);
    t.is(entry.name, configName('p', service, target, file!.content));
    // The file is named by its content too: a stack file written earlier keeps finding its own content.
    t.is(file!.path, `${service}/${entry.name}`);
  }
  const names = Object.values(doc.configs).map((c) => c.name);
  t.is(new Set(names).size, names.length, 'no two configs share a name (chasquid has two chasquid.conf)');
  t.true(names.every((n) => n.length <= 64));
  // The post-data hook (with a scanner) stays executable: a config keeps the x bits.
  const withHook = swarmOf({ SPAMASSASSIN: 'on' }).doc;
  t.is(withHook.services.chasquid.configs.find((c: { target: string }) => c.target === '/etc/chasquid/hooks/post-data')?.mode, 0o555);
});

test('configName: new content, new name; same content, same name; at most 64 characters, distinct for chasquid\'s two files', (t) => {
  const a = configName('p', 'chasquid', '/etc/chasquid/chasquid.conf', 'hostname: "a"');
  t.is(a, configName('p', 'chasquid', '/etc/chasquid/chasquid.conf', 'hostname: "a"'));
  t.not(a, configName('p', 'chasquid', '/etc/chasquid/chasquid.conf', 'hostname: "b"'));
  t.regex(a, /^p-chasquid-chasquid-chasquid\.conf-[0-9a-f]{12}$/);
  t.regex(configName('p', 'chasquid', '/etc/chasquid/submission/chasquid.conf', 'x'), /^p-chasquid-submission-chasquid\.conf-[0-9a-f]{12}$/);
  // 32 characters: the cut falls on a "-" (stripped); 40: the longest project name.
  for (const project of ['p', 'mail-example-com_2026-production', 'b'.repeat(40), 'a-'.repeat(20)]) {
    for (const content of ['', 'same']) {
      const port25 = configName(project, 'chasquid', '/etc/chasquid/chasquid.conf', content);
      const submission = configName(project, 'chasquid', '/etc/chasquid/submission/chasquid.conf', content);
      t.true(port25.length <= 64 && submission.length <= 64, `${project}: ${port25} / ${submission}`);
      t.not(port25, submission, `${project}: distinct even with the same content`);
      t.regex(port25, /^[A-Za-z0-9][A-Za-z0-9_.-]*[A-Za-z0-9]$/);
      t.notRegex(port25, /[-.]-[0-9a-f]{12}$/, 'no dangling separator before the hash');
    }
  }
});

test('redeploy rolls only what changed: a new port-25 setting renames chasquid.conf\'s config alone', (t) => {
  const before = swarmOf();
  const after = swarmOf({ MAIL_PORT_SMTP: '2525' });
  t.deepEqual(after.doc.services.dovecot, before.doc.services.dovecot);
  t.deepEqual(after.doc.services.web, before.doc.services.web);
  const changed = Object.keys(before.doc.configs).filter((k) => before.doc.configs[k].name !== after.doc.configs[k].name);
  t.deepEqual(changed, ['chasquid_etc_chasquid_chasquid.conf'], 'the submission instance\'s file and dovecot\'s are unchanged');
  t.deepEqual(Object.keys(after.doc.configs), Object.keys(before.doc.configs), 'the config keys services refer to are stable');
  t.deepEqual(after.doc.networks, before.doc.networks);
  t.deepEqual(after.doc.volumes, before.doc.volumes);
  // The same, with only a file's content edited in the spec: only that config is renamed.
  const specs = before.specs.map((s) => (s.service !== 'dovecot' ? s : { ...s, files: s.files.map((f) => (f.path.endsWith('dovecot.conf') ? { ...f, content: `${f.content}\n# edited` } : f)) }));
  const edited = swarmDocument({ project: 'p', specs, filesDir: '/srv/p-swarm-files' }).document as unknown as Doc;
  t.deepEqual(edited.services, before.doc.services, 'services refer to configs by key: their entries stay deep-equal');
  t.deepEqual(Object.keys(edited.configs).filter((k) => edited.configs[k].name !== before.doc.configs[k].name), ['dovecot_etc_dovecot_dovecot.conf']);
});

test('notes: MAIL_BIND on one address says web publishes on every address; the default says nothing of it', (t) => {
  t.false(swarmOf().notes.some((n) => n.includes('MAIL_BIND')));
  t.false(swarmOf({ MAIL_BIND: '0.0.0.0' }).notes.some((n) => n.includes('MAIL_BIND')));
  const bound = swarmOf({ MAIL_BIND: '192.0.2.7' });
  t.true(bound.notes.some((n) => n.includes('MAIL_BIND') && n.includes('web')));
  t.is(bound.notes.length, new Set(bound.notes).size, 'each note once');
});

test('read-only roots: web (runs as its own user) is writable, dockerproxy is read-only with a tmpfs /run', (t) => {
  const { doc, notes } = swarmOf(ACME);
  t.is(doc.services.web.read_only, undefined);
  t.false(doc.services.web.volumes.some((v: { type: string }) => v.type === 'tmpfs'));
  t.true(notes.some((n) => n.startsWith('web\'s root filesystem is writable')));
  const proxy = doc.services.dockerproxy;
  t.true(proxy.read_only);
  t.deepEqual(proxy.volumes.filter((v: { type: string }) => v.type === 'tmpfs'), [{ type: 'tmpfs', target: '/run', tmpfs: { size: 1 << 20 } }]);
  t.true(proxy.init);
  t.deepEqual(proxy.volumes[0], { type: 'bind', source: '/var/run/docker.sock', target: '/var/run/docker.sock' }, 'only the proxy holds the socket');
  for (const s of ['dovecot', 'chasquid', 'certbot', 'web']) t.false(doc.services[s].volumes.some((v: { type: string }) => v.type === 'bind'), s);
});

// ---- the sidecar's policy ----

test('policy: inspect a service and force-update it, with or without an API version prefix', (t) => {
  t.deepEqual(classify('GET', '/services/abc123'), { kind: 'service-inspect', id: 'abc123' });
  t.deepEqual(classify('GET', '/v1.41/services/p_chasquid'), { kind: 'service-inspect', id: 'p_chasquid' });
  t.deepEqual(classify('POST', '/services/abc123/update?version=7'), { kind: 'service-restart', id: 'abc123' });
  t.deepEqual(classify('POST', '/v1.41/services/p_chasquid/update'), { kind: 'service-restart', id: 'p_chasquid' });
});

for (const [method, path] of [
  ['DELETE', '/services/x'], ['POST', '/services/create'], ['POST', '/v1.41/services/create'], ['GET', '/services'], ['GET', '/v1.41/services?filters={}'],
  ['POST', '/services/x/rollback'], ['GET', '/services/x/logs'], ['POST', '/services/x'], ['GET', '/services/x/update'],
  ['GET', '/services/../containers/json'], ['GET', '/tasks'], ['GET', '/nodes'], ['POST', '/nodes/n/update'], ['GET', '/configs'], ['POST', '/swarm/leave'],
]) {
  test(`policy denies ${method} ${path}`, (t) => {
    t.is(classify(method, path).kind, 'denied');
  });
}

test('forcedUpdateOf: the same spec, ForceUpdate counted up, nothing else changed or mutated', (t) => {
  const spec = { Name: 'p_chasquid', Labels: { a: 'b' }, Mode: { Replicated: { Replicas: 1 } }, TaskTemplate: { ContainerSpec: { Image: 'img' }, ForceUpdate: 3 } };
  const copy = structuredClone(spec);
  t.deepEqual(forcedUpdateOf(spec), { ...copy, TaskTemplate: { ...copy.TaskTemplate, ForceUpdate: 4 } });
  t.deepEqual(spec, copy, 'the input is not mutated');
  const fresh = { Name: 'x', TaskTemplate: { ContainerSpec: { Image: 'img' } } };
  t.deepEqual(forcedUpdateOf(fresh), { Name: 'x', TaskTemplate: { ContainerSpec: { Image: 'img' }, ForceUpdate: 1 } });
  t.deepEqual(forcedUpdateOf({ Name: 'y' }), { Name: 'y', TaskTemplate: { ForceUpdate: 1 } });
});

// ---- finding and restarting a service ----

const cfg = { project: 'p' };
const task = (service: string, serviceId: string, project = 'p') => ({ ...projectLabels(project, service), [SWARM_SERVICE_LABEL]: serviceId });

test('locateService: the container `up` made comes first, even beside a Swarm task', async (t) => {
  const engine = new FakeEngine();
  engine.addContainer('p_chasquid.1.aaa', task('chasquid', 'svc1'));
  const own = engine.addContainer('p-chasquid', projectLabels('p', 'chasquid'), {}, 'exited');
  t.deepEqual(await locateService(engine, cfg, 'chasquid'), { ref: 'p-chasquid', name: own.name, state: 'exited' });
});

test('locateService: a Swarm task by its labels, a running one before exited ones; none of another project or service', async (t) => {
  const engine = new FakeEngine();
  engine.addContainer('p_chasquid.1.old', task('chasquid', 'svc1'), {}, 'exited');
  const running = engine.addContainer('p_chasquid.1.new', task('chasquid', 'svc1'));
  engine.addContainer('q_dovecot.1.x', task('dovecot', 'svc9', 'q'));
  engine.addContainer('p-dovecot-helper', projectLabels('p', 'dovecot'), {}, 'running');
  t.deepEqual(await locateService(engine, cfg, 'chasquid'), { ref: running.id, name: 'p_chasquid.1.new', state: 'running', swarmService: 'svc1' });
  t.is(await locateService(engine, cfg, 'dovecot'), undefined, 'neither up\'s container nor a task: another project\'s task does not count');
  engine.containers.delete(running.id);
  t.like(await locateService(engine, cfg, 'chasquid'), { name: 'p_chasquid.1.old', state: 'exited', swarmService: 'svc1' });
});

test('restartService on a Swarm task: forces an update of its service, never restarts the container, waits for the new task', async (t) => {
  const engine = new FakeEngine();
  const old = engine.addContainer('p_chasquid.1.aaa', task('chasquid', 'svc1'));
  const { lines, progress } = progressLog();
  await restartService(engine, cfg, 'chasquid', 'new certificate', progress);
  t.deepEqual(engine.calls.filter((c) => !c.startsWith('exec ')), ['force update service svc1']);
  t.false(engine.calls.some((c) => c.startsWith('restart')));
  t.is(engine.byName(old.id), undefined, 'the old task is gone');
  const now = await locateService(engine, cfg, 'chasquid');
  t.like(now, { state: 'running', swarmService: 'svc1' });
  t.not(now!.ref, old.id);
  t.is(lines[0], 'restarting chasquid: new certificate');
  t.true(lines.some((l) => l.includes(`${now!.name} is healthy`)), 'waited for the new task');
});

test('restartService on `up`\'s container restarts it and forces no update', async (t) => {
  const engine = new FakeEngine();
  engine.addContainer('p-chasquid', projectLabels('p', 'chasquid'));
  const { progress } = progressLog();
  await restartService(engine, cfg, 'chasquid', 'new certificate', progress);
  t.deepEqual(engine.calls.filter((c) => !c.startsWith('exec ')), ['restart p-chasquid']);
});

test('restartService with nothing to restart says to start the stack', async (t) => {
  const engine = new FakeEngine();
  const err = await t.throwsAsync(restartService(engine, cfg, 'chasquid', 'x', progressLog().progress), { instanceOf: OperationalError });
  t.regex(err!.message, /p-chasquid does not exist/);
  t.deepEqual(engine.calls, []);
});

test('refuseOnSwarm: refuses while the project\'s Swarm tasks run, naming `docker stack`; else does nothing', async (t) => {
  const config = configFrom({ MAILCTL_PROJECT: 'p' });
  const engine = new FakeEngine();
  engine.addContainer('p-chasquid', projectLabels('p', 'chasquid'));
  engine.addContainer('q_chasquid.1.x', task('chasquid', 'svcq', 'q'));
  await t.notThrowsAsync(refuseOnSwarm(engine, config, 'up'), 'up\'s containers and another project\'s tasks do not count');
  // Found by a break-it session: between two restarts a task's container is exited, and `up` made a second stack.
  engine.addContainer('p_dovecot.1.x', task('dovecot', 'svc2'), {}, 'exited');
  await t.throwsAsync(refuseOnSwarm(engine, config, 'up'), { message: /dovecot/ }, 'an exited task counts: Swarm starts it again');
  const scaled = new FakeEngine();
  scaled.services.push({ id: 'svc9', name: 'p_chasquid', labels: projectLabels('p', 'chasquid') });
  await t.throwsAsync(refuseOnSwarm(scaled, config, 'up'), { message: /chasquid/ }, 'a service scaled to 0 (no container) counts');
  engine.addContainer('p_chasquid.1.y', task('chasquid', 'svc1'));
  engine.addContainer('p_web.1.z', task('web', 'svc3'));
  const err = await t.throwsAsync(refuseOnSwarm(engine, config, 'down'), { instanceOf: OperationalError });
  t.regex(err!.message, /docker stack/);
  t.regex(err!.message, /chasquid, dovecot, web/);
  t.regex(err!.message, /mailctl down/);
  t.deepEqual(engine.calls, [], 'nothing changed');
});

// ---- compose --swarm ----

test('compose --swarm refuses an engine in no Swarm, before building anything', async (t) => {
  const engine = new FakeEngine();
  const config = configFrom({ MAILCTL_PROJECT: 'swarmunit1' }, '/nonexistent-site');
  const err = await t.throwsAsync(exportCompose(engine, config, { swarm: true }, progressLog().progress), { instanceOf: OperationalError });
  t.regex(err!.message, /docker swarm init/);
  t.false(engine.calls.some((c) => c.startsWith('build')));
  t.deepEqual(engine.calls, []);
});

test('compose --swarm refuses a Swarm worker, before building or labelling anything', async (t) => {
  const engine = new FakeEngine();
  engine.swarm = { id: 'node1', manager: false, labels: {} };
  const config = configFrom({ MAILCTL_PROJECT: 'swarmunit2' }, '/nonexistent-site');
  const err = await t.throwsAsync(exportCompose(engine, config, { swarm: true }, progressLog().progress), { instanceOf: OperationalError });
  t.regex(err!.message, /worker/);
  t.deepEqual(engine.calls, []);
  t.deepEqual(engine.swarm.labels, {});
});

test('stack file: a rebuilt image (same tag, new id) rolls only the services on it, through the image-id label', (t) => {
  const specs = stackSpecs(configFrom({ MAILCTL_PROJECT: 'p' }), { images });
  const ids = Object.fromEntries(Object.values(images).map((ref) => [ref, `sha256:${ref}`]));
  const before = swarmDocument({ project: 'p', specs, filesDir: '/f', imageIds: ids }).document as unknown as Doc;
  const after = swarmDocument({ project: 'p', specs, filesDir: '/f', imageIds: { ...ids, [images.dovecot]: 'sha256:rebuilt' } }).document as unknown as Doc;
  t.is(before.services.dovecot.labels['dev.mailctl.image-id'], `sha256:${images.dovecot}`);
  t.is(after.services.dovecot.labels['dev.mailctl.image-id'], 'sha256:rebuilt');
  t.is(after.services.dovecot.image, images.dovecot, 'the same tag');
  t.deepEqual(after.services.chasquid, before.services.chasquid);
  t.deepEqual(after.services.web, before.services.web);
});

// ---- found by a break-it session ----

test('policy: the proxy never restarts a Swarm task\'s container (Swarm would start a second chasquid beside it); its service, yes', (t) => {
  t.true(mayRestart(projectLabels('p', 'chasquid'), 'p'), 'up\'s chasquid');
  t.false(mayRestart(task('chasquid', 'svc1'), 'p'), 'a task\'s container');
  t.true(mayRestartService(projectLabels('p', 'chasquid'), 'p'), 'chasquid\'s service');
  t.false(mayRestartService(projectLabels('p', 'dovecot'), 'p'));
  t.false(mayRestartService(projectLabels('q', 'chasquid'), 'p'), 'another stack\'s');
});

test('compose --swarm refuses a project that `up` runs, before building or labelling anything', async (t) => {
  const engine = new FakeEngine();
  engine.swarm = { id: 'n1', manager: true, labels: {} };
  engine.addContainer('swarmunit3-chasquid', projectLabels('swarmunit3', 'chasquid'));
  const config = configFrom({ MAILCTL_PROJECT: 'swarmunit3' }, '/nonexistent-site');
  const err = await t.throwsAsync(exportCompose(engine, config, { swarm: true }, progressLog().progress), { instanceOf: OperationalError });
  t.regex(err!.message, /mailctl down/);
  t.deepEqual(engine.calls, []);
  t.deepEqual(engine.swarm.labels, {});
});

test('the plan never sees Swarm\'s task containers (up would remove them as no longer part of the stack); status and backup do', async (t) => {
  const engine = new FakeEngine();
  engine.addContainer('p-dovecot', projectLabels('p', 'dovecot'));
  engine.addContainer('p_chasquid.1.x', task('chasquid', 'svc1'));
  t.deepEqual((await observeProject(engine, 'p')).map((o) => o.name), ['p-dovecot']);
  t.deepEqual((await observeProject(engine, 'p', { swarmTasks: true })).map((o) => [o.name, o.swarmService]), [['p-dovecot', undefined], ['p_chasquid.1.x', 'svc1']]);
});
