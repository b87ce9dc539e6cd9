/**
 * The foundation on a real engine: the base image (pulled or bootstrapped),
 * all three images built through the API, cached by content, pinned uids that
 * let chasquid use dovecot's sockets, and HEALTHCHECKs that turn healthy.
 */
import test from 'ava';
import { cpSync, mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildImages, type BuiltImage } from '../../src/images/build.js';
import { loadConfig } from '../../src/config/load.js';
import { connectEngine } from '../../src/docker/dockerode-engine.js';
import { LABEL } from '../../src/model/labels.js';
import { LETSENCRYPT_DIR, SIDECAR_CERTS_DIR, SIDECAR_STATE_DIR } from '../../src/model/layout.js';
import { SERVICES } from '../../src/images/context.js';
import { createProgress } from '../../src/core/progress.js';
import { docker, mailctl, portsFrom, removeProject, ROOT, run, siteWithEnv } from '../helpers/e2e.js';

const PROJECT = 'mctest2';
let images: Record<string, BuiltImage> = {};

test.before(async () => {
  await removeProject(PROJECT);
});
test.after.always(async () => {
  await removeProject(PROJECT);
});

async function waitForHealth(name: string, timeoutMs: number): Promise<string> {
  const until = Date.now() + timeoutMs;
  let status = 'none';
  while (Date.now() < until) {
    status = (await docker.getContainer(name).inspect()).State.Health?.Status ?? 'none';
    if (status === 'healthy' || status === 'unhealthy') return status;
    await new Promise((r) => setTimeout(r, 1000));
  }
  return status;
}

test.serial('build: base image present (pulled or bootstrapped), every image built and labelled', async (t) => {
  const config = loadConfig({ cwd: mkdtempSync(join(tmpdir(), 'mailctl-build-')), env: {} });
  const started = Date.now();
  const built = await buildImages(await connectEngine(), config, {}, createProgress(process.stderr));
  t.log(`first build in this run: ${((Date.now() - started) / 1000).toFixed(1)}s (${built.filter((b) => b.built).length} built)`);
  images = Object.fromEntries(built.map((b) => [b.name, b]));
  t.deepEqual(Object.keys(images), [...SERVICES]);
  for (const image of built) {
    const info = await docker.getImage(image.ref).inspect();
    t.is(info.Config.Labels?.[LABEL.managed], 'true');
    t.is(info.Config.Labels?.[LABEL.contextHash]?.slice(0, 12), image.ref.split(':')[1]);
    t.truthy(info.Config.Healthcheck?.Test, `${image.name} has a HEALTHCHECK`);
    t.log(`${image.name}: ${(info.Size / 1e6).toFixed(0)} MB`);
  }
});

test.serial('a second build with nothing changed builds nothing, within seconds', async (t) => {
  const site = mkdtempSync(join(tmpdir(), 'mailctl-build-'));
  const started = Date.now();
  const r = await mailctl(site, ['build', '--json']);
  const seconds = (Date.now() - started) / 1000;
  t.is(r.code, 0, r.stderr);
  const result = JSON.parse(r.stdout) as BuiltImage[];
  t.deepEqual(result.map((i) => [i.name, i.built]), SERVICES.map((s) => [s, false]));
  t.log(`warm build (CLI, including process start): ${seconds.toFixed(2)}s`);
  t.true(seconds < 10);
});

test.serial('a broken Dockerfile fails the build with exit 1 and the failing step\'s message', async (t) => {
  const imagesDir = mkdtempSync(join(tmpdir(), 'mailctl-images-'));
  cpSync(join(ROOT, 'images'), imagesDir, { recursive: true });
  const dockerfile = join(imagesDir, 'chasquid/Dockerfile');
  writeFileSync(dockerfile, readFileSync(dockerfile, 'utf8').replace('USER chasquid', 'RUN echo about to break && exit 42\nUSER chasquid'));
  const r = await mailctl(mkdtempSync(join(tmpdir(), 'mailctl-build-')), ['build', 'chasquid'], undefined, { MAILCTL_IMAGES_DIR: imagesDir, MAILCTL_DEBUG: '' });
  t.is(r.code, 1);
  t.regex(r.stderr, /mailctl: building the chasquid image failed: .*returned a non-zero code: 42/);
  t.regex(r.stderr, /about to break/, 'the step\'s own output is shown');
  t.notRegex(r.stderr, /at .*\.(ts|js):\d+/, 'no stack trace');
});

test.serial('pinned uids: chasquid is the same uid in both images, and owns dovecot\'s listeners', async (t) => {
  const uidIn = async (image: string) => (await run('docker', ['run', '--rm', '--user', 'root', '--entrypoint', 'id', image, '-u', 'chasquid'])).stdout.trim();
  const chasquidUid = await uidIn(images.chasquid.ref);
  t.is(chasquidUid, await uidIn(images.dovecot.ref));
  t.is(chasquidUid, '2500');
  // The passwd-file on the users volume is root:dovecot: every rebuild must keep that gid.
  const dovecotIds = await run('docker', ['run', '--rm', '--entrypoint', 'sh', images.dovecot.ref, '-c', 'id -u dovecot; id -g dovecot; id -u dovenull; stat -c %g /etc/mailctl/users/passwd']);
  t.deepEqual(dovecotIds.stdout.trim().split('\n'), ['100', '102', '101', '102']);

  // A real stack: chasquid runs as that uid, and the listeners dovecot made for it carry it.
  const site = siteWithEnv({ MAIL_DOMAIN: 'example.test', CERT_MODE: 'selfsigned', MAILCTL_PROJECT: PROJECT, MAIL_BIND: '127.0.0.1', ...portsFrom(21000) });
  const up = await mailctl(site, ['up']);
  t.is(up.code, 0, up.stderr);
  const running = await run('docker', ['exec', `${PROJECT}-chasquid`, 'id', '-u']);
  t.is(running.stdout.trim(), chasquidUid);
  for (const socket of ['auth-chasquid-userdb', 'auth-chasquid-client', 'lmtp']) {
    const owner = await run('docker', ['exec', `${PROJECT}-dovecot`, 'stat', '-c', '%u:%a', `/run/mailctl/${socket}`]);
    t.is(owner.stdout.trim(), `${chasquidUid}:660`, socket);
    // And chasquid, in its own container, can open it.
    const open = await run('docker', ['exec', `${PROJECT}-chasquid`, 'bash', '-c', `exec 3<>/dev/tcp/127.0.0.1/21025 && test -w /run/mailctl/${socket}`]);
    t.is(open.code, 0, `${socket} is writable by chasquid`);
  }
});

test.serial('mailctl-deliver: one delivery per slot, a wait past its limit exits 75 (chasquid retries, never bounces), no slot directory still delivers', async (t) => {
  // The image's wrapper, with echo/sleep for mda-lmtp, one slot and a 1 s limit.
  const script = [
    'sed "s|/usr/bin/mda-lmtp|/bin/sleep|; s|SLOTS_PER_BUCKET=8|SLOTS_PER_BUCKET=1|; s|WAIT_SECONDS=25|WAIT_SECONDS=1|" /usr/local/bin/mailctl-deliver > /tmp/slow',
    'bash /tmp/slow Alice@example.test 3 & sleep 0.5',
    'bash /tmp/slow Alice@example.test 0; echo "waited=$?"',
    'bash /tmp/slow bob@example.test 0; echo "other=$?"',
    'wait $!; echo "first=$?"',
    'sed "s|SLOTS_DIR=/run/mailctl-deliver|SLOTS_DIR=/nonexistent|; s|/usr/bin/mda-lmtp|/bin/echo|" /usr/local/bin/mailctl-deliver > /tmp/noslots',
    'bash /tmp/noslots josé@example.test delivered; echo "noslots=$?"',
  ].join('\n');
  const r = await run('docker', ['run', '--rm', '--entrypoint', 'bash', images.chasquid.ref, '-c', script]);
  t.is(r.code, 0, r.stderr);
  t.deepEqual(r.stdout.trim().split('\n'), ['waited=75', 'other=0', 'first=0', 'delivered', 'noslots=0']);
});

test.serial('every HEALTHCHECK turns healthy', async (t) => {
  t.is(await waitForHealth(`${PROJECT}-dovecot`, 60_000), 'healthy');
  t.is(await waitForHealth(`${PROJECT}-chasquid`, 60_000), 'healthy');
  // The certbot sidecar is healthy while its loop lives, even when the ACME server is unreachable.
  const name = `${PROJECT}-certbot-probe`;
  const container = await docker.createContainer({
    name, Image: images.certbot.ref,
    // The paths its scripts use come from the spec's environment (as src/plan/services.ts gives them).
    Env: ['MAIL_HOSTNAME=mail.example.test', 'ACME_SERVER=http://127.0.0.1:9/directory', `MAILCTL_STATE_DIR=${SIDECAR_STATE_DIR}`, `MAILCTL_CERTS_DIR=${SIDECAR_CERTS_DIR}`, `LETSENCRYPT_DIR=${LETSENCRYPT_DIR}`],
    Labels: { [LABEL.managed]: 'true', [LABEL.project]: PROJECT },
  });
  await container.start();
  t.is(await waitForHealth(name, 90_000), 'healthy');
  const logs = (await container.logs({ stdout: true, stderr: true })).toString();
  t.regex(logs, /certbot failed .* retrying in 60s/);
});
