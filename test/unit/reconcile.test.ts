import test from 'ava';
import { plan, type Desired, type Observed } from '../../src/plan/containers.js';
import { configHash, encodeAspects, specAspects } from '../../src/model/hash.js';
import { stackSpecs } from '../../src/plan/services.js';
import { configFrom } from '../helpers/config.js';

const inputs = { images: { chasquid: 'mailctl/chasquid:aaa', dovecot: 'mailctl/dovecot:bbb', certbot: 'mailctl/certbot:ccc', dockerproxy: 'mailctl/dockerproxy:ddd', web: 'mailctl/web:fff' } };
const ids = { chasquid: 'sha256:c1', dovecot: 'sha256:d1', certbot: 'sha256:e1', dockerproxy: 'sha256:f1', web: 'sha256:a1' } as Record<string, string>;

function desiredFor(raw: Record<string, string> = {}, imageIds = ids): Desired[] {
  return stackSpecs(configFrom({ MAILCTL_PROJECT: 'p', ...raw }), inputs)
    .map((spec) => ({ spec, aspects: specAspects(spec, imageIds[spec.service]) }));
}

/** What the engine would report for containers created from `desired`. */
function observedFrom(desired: Desired[], state = 'running'): Observed[] {
  return desired.map((d, i) => ({
    id: `id${i}`, name: d.spec.name, service: d.spec.service, state,
    configHash: configHash(d.aspects), aspectsLabel: encodeAspects(d.aspects),
  }));
}

test('nothing on the engine: create dovecot, then chasquid (then the web service)', (t) => {
  const steps = plan(desiredFor(), []);
  t.deepEqual(steps.map((s) => [s.action, s.name]), [['create', 'p-dovecot'], ['create', 'p-chasquid'], ['create', 'p-web']]);
});

test('nothing changed: keep everything', (t) => {
  const steps = plan(desiredFor(), observedFrom(desiredFor()));
  t.deepEqual(steps.map((s) => s.action), ['keep', 'keep', 'keep']);
});

test('a rebuilt image (same tag, new id) recreates only that service, and says why', (t) => {
  const steps = plan(desiredFor({}, { ...ids, chasquid: 'sha256:c2' }), observedFrom(desiredFor()));
  t.deepEqual(steps.map((s) => [s.action, s.service, s.reason]), [['keep', 'dovecot', 'up to date'], ['recreate', 'chasquid', 'image changed'], ['keep', 'web', 'up to date']]);
});

test('a changed IMAP port recreates dovecot and the web service (its autoconfig names the port), not chasquid', (t) => {
  const steps = plan(desiredFor({ MAIL_PORT_IMAP: '1143' }), observedFrom(desiredFor()));
  t.deepEqual(steps.map((s) => [s.action, s.service, s.reason]), [['recreate', 'dovecot', 'env, files, ports changed'], ['keep', 'chasquid', 'up to date'], ['recreate', 'web', 'files changed']]);
});

test('a changed hostname recreates all three (their config files change)', (t) => {
  const steps = plan(desiredFor({ MAIL_HOSTNAME: 'mx.example.com' }), observedFrom(desiredFor()));
  t.deepEqual(steps.map((s) => [s.action, s.reason]), [['recreate', 'files changed'], ['recreate', 'files changed'], ['recreate', 'files changed']]);
});

test('acme mode adds the Docker API proxy and the certbot sidecar; the web service takes the certificate\'s names as aliases', (t) => {
  const steps = plan(desiredFor({ CERT_MODE: 'acme' }), observedFrom(desiredFor()));
  t.deepEqual(steps.map((s) => [s.action, s.name, s.reason]), [['keep', 'p-dovecot', 'up to date'], ['keep', 'p-chasquid', 'up to date'], ['create', 'p-dockerproxy', 'not created yet'], ['create', 'p-certbot', 'not created yet'], ['recreate', 'p-web', 'network changed']]);
  const back = plan(desiredFor(), observedFrom(desiredFor({ CERT_MODE: 'acme' })));
  t.deepEqual(back.map((s) => [s.action, s.name]), [['keep', 'p-dovecot'], ['keep', 'p-chasquid'], ['recreate', 'p-web'], ['remove', 'p-dockerproxy'], ['remove', 'p-certbot']]);
});

test('acme specs: the certificate\'s names are the web service\'s aliases (it answers http-01); only the proxy holds the Docker socket', (t) => {
  const specs = desiredFor({ CERT_MODE: 'acme', ACME_EMAIL: 'admin@example.com' }).map((d) => d.spec);
  const certbot = specs.find((s) => s.service === 'certbot')!;
  const proxy = specs.find((s) => s.service === 'dockerproxy')!;
  const web = specs.find((s) => s.service === 'web')!;
  t.deepEqual(web.networkAliases, ['mail.example.com', 'autoconfig.example.com', 'autodiscover.example.com', 'mta-sts.example.com']);
  t.is(certbot.env.ACME_EXTRA_NAMES, 'autoconfig.example.com autodiscover.example.com mta-sts.example.com');
  t.is(certbot.env.DOCKER_HOST, 'unix:///run/mailctl-proxy/docker.sock', 'the proxy has no port: a socket only the sidecar shares');
  t.is(certbot.env.ACME_EMAIL, 'admin@example.com');
  t.deepEqual(certbot.ports, [], 'port 80 is the web service\'s; certbot writes challenges to their shared volume');
  t.deepEqual(web.ports.map((p) => [p.container, p.host]), [[80, 80], [443, 443]]);
  t.deepEqual(proxy.mounts, [{ bind: '/var/run/docker.sock', target: '/var/run/docker.sock' }, { volume: 'p-proxy-socket', target: '/run/mailctl-proxy' }]);
  for (const spec of specs.filter((s) => !['certbot', 'dockerproxy'].includes(s.service))) {
    t.false(spec.mounts.some((m) => m.volume === 'p-proxy-socket'), `${spec.service} cannot reach the proxy`);
  }
  t.deepEqual(proxy.ports, []);
  for (const spec of specs.filter((s) => s.service !== 'dockerproxy')) {
    t.false(spec.mounts.some((m) => m.bind), `${spec.service} has no bind mount`);
  }
  for (const spec of specs.filter((s) => s.service !== 'web')) t.deepEqual(spec.networkAliases, []);
});

test('stopped containers are started; unknown ones of the project removed', (t) => {
  const observed = [...observedFrom(desiredFor(), 'exited'), { id: 'x', name: 'p-old', service: 'old', state: 'running' }];
  const steps = plan(desiredFor(), observed);
  t.deepEqual(steps.map((s) => [s.action, s.name]), [['start', 'p-dovecot'], ['start', 'p-chasquid'], ['start', 'p-web'], ['remove', 'p-old']]);
});

test('specs: project-prefixed names, shared sockets volume, MAIL_HOSTNAME never a network alias', (t) => {
  const [dovecot, chasquid] = desiredFor().map((d) => d.spec);
  t.is(dovecot.name, 'p-dovecot');
  t.is(chasquid.name, 'p-chasquid');
  const sockets = (s: typeof dovecot) => s.mounts.find((m) => m.target === '/run/mailctl')?.volume;
  t.is(sockets(dovecot), 'p-dovecot-sockets');
  t.is(sockets(chasquid), 'p-dovecot-sockets');
  t.deepEqual(chasquid.mounts.find((m) => m.target === '/var/lib/chasquid'), { volume: 'p-chasquid-state', target: '/var/lib/chasquid' });
  t.true(chasquid.mounts.find((m) => m.target === '/etc/chasquid/certs')?.readOnly);
  t.deepEqual(chasquid.ports.map((p) => p.container), [25, 587, 465]);
  t.deepEqual(dovecot.ports.map((p) => p.container), [143, 993, 110, 995, 4190]);
  t.deepEqual([...dovecot.networkAliases, ...chasquid.networkAliases], []);
});
