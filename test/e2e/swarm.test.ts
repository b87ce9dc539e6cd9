/**
 * The stack on Docker Swarm, from `mailctl compose --swarm`: on a single-node
 * swarm this test makes (and leaves at its end), deployed with `docker stack
 * deploy`, in acme mode against the rig's pebble, which joins the stack's
 * attachable overlay network. Mail in on the published port, read back over
 * IMAP; renewal restarts chasquid's service through the sidecar's proxy; a
 * redeploy after a change rolls only the changed service; `docker stack rm`
 * keeps the volumes.
 */
import test from 'ava';
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { docker, dumpLogs, mailctl, portsFrom, removeProject, rig, run, show, siteWithEnv, sleep, refusedGap } from '../helpers/e2e.js';
import { pebbleTls, PROXY_CLIENT } from '../helpers/pebble.js';
import { healthyTasks, removeSwarmStack, swarmTasks, waitReplaced } from '../helpers/swarm.js';

const PROJECT = 'mctest19';
const BASE = 41000;
const PORT = (p: number) => BASE + p;
const tls = pebbleTls();
const site = siteWithEnv({
  MAIL_DOMAIN: 'swarm.test', CERT_MODE: 'acme', MAILCTL_PROJECT: PROJECT, MAIL_BIND: '127.0.0.1',
  ACME_SERVER: 'https://pebble:14000/dir', ACME_CA_BUNDLE: tls.ca, ACME_EMAIL: 'admin@swarm.test', ...portsFrom(BASE),
});
const stackFile = join(site, 'stack.yml');
// pebble joins the stack's overlay network (attachable); the rig's DNS and tester are not needed.
const { compose } = rig({ project: PROJECT, dnsIp: '10.0.0.53', caDir: site, PEBBLE_TLS_DIR: tls.dir, STACK_NETWORK: `${PROJECT}-swarm` });
let madeSwarm = false;

const deploy = () => run('docker', ['stack', 'deploy', '--resolve-image', 'never', '-c', stackFile, PROJECT]);

/** The first message of INBOX, as curl reads it over IMAPS (the certificate is checked elsewhere: pebble's or the temporary one). */
async function firstMessage(user: string, password: string): Promise<string> {
  const r = await run('curl', ['-sk', '--max-time', '20', `imaps://127.0.0.1:${PORT(993)}/INBOX;MAILINDEX=1`, '-u', `${user}:${password}`]);
  return r.stdout;
}

test.before(async () => {
  const info = await docker.info();
  if (info.Swarm?.LocalNodeState !== 'active') {
    const init = await run('docker', ['swarm', 'init', '--advertise-addr', '127.0.0.1']);
    if (init.code !== 0) throw new Error(show(init));
    madeSwarm = true;
  }
  await removeSwarmStack(PROJECT);
  await removeProject(PROJECT);
});
test.after.always(async () => {
  await compose(['--profile', 'acme', 'down', '--remove-orphans']);
  await removeSwarmStack(PROJECT);
  await removeProject(PROJECT);
  if (madeSwarm) await run('docker', ['swarm', 'leave', '--force']);
  else await run('docker', ['node', 'update', '--label-rm', `dev.mailctl.data.${PROJECT}`, (await docker.info()).Swarm.NodeID]);
});
test.afterEach.always(async (t) => {
  if (!t.passed) t.log(await dumpLogs([`dev.mailctl.project=${PROJECT}`, 'dev.mailctl.rig=true']));
});

test.serial('compose --swarm writes a stack file; docker stack deploy runs it and both mail services become healthy', async (t) => {
  const made = await mailctl(site, ['compose', '--swarm', '-o', stackFile, '--json'], undefined, { MAILCTL_DEBUG: '' });
  t.is(made.code, 0, show(made));
  const result = JSON.parse(made.stdout);
  t.deepEqual(result.services, ['dovecot', 'chasquid', 'dockerproxy', 'certbot', 'web']);
  t.is(result.swarm.nodeLabel, `dev.mailctl.data.${PROJECT}`);
  const node = await docker.getNode((await docker.info()).Swarm.NodeID).inspect();
  t.is(node.Spec.Labels[`dev.mailctl.data.${PROJECT}`], 'true', 'this node is labelled as the one with the volumes');

  const started = Date.now();
  const deployed = await deploy();
  t.is(deployed.code, 0, show(deployed));
  await healthyTasks(PROJECT, ['dovecot', 'chasquid', 'web', 'dockerproxy', 'certbot']);
  t.log(`deploy to healthy: ${((Date.now() - started) / 1000).toFixed(1)} s`);

  const services = await docker.listServices({ filters: { label: [`dev.mailctl.project=${PROJECT}`] } });
  for (const s of services) {
    t.deepEqual(s.Spec?.TaskTemplate?.Placement?.Constraints, [`node.labels.dev.mailctl.data.${PROJECT} == true`], s.Spec?.Name);
    t.is(s.Spec?.UpdateConfig?.Order, 'stop-first', s.Spec?.Name);
  }
  const web = services.find((s) => s.Spec?.Name === `${PROJECT}_web`);
  t.deepEqual(web?.Endpoint?.Ports?.map((p) => [p.PublishedPort, p.PublishMode]), [[PORT(80), 'host'], [PORT(443), 'host']], 'published in host mode, not through the ingress mesh');
  const up = await mailctl(site, ['up']);
  t.is(up.code, 1, show(up));
  t.regex(up.stderr, /runs as a Swarm stack here .*docker stack/, 'up leaves a Swarm-run stack alone');
});

test.serial('add-user, status and doctor find the task containers; mail in on the published port is read back over IMAP', async (t) => {
  const added = await mailctl(site, ['add-user', 'First.Last@swarm.test', '--password-stdin'], 'swarm-pass-1234\n');
  t.is(added.code, 0, show(added));
  const sent = await run('swaks', ['--server', '127.0.0.1', '--port', String(PORT(25)), '--from', 'x@sender.test', '--to', 'first.last@swarm.test', '--header', 'Subject: via-swarm']);
  t.is(sent.code, 0, show(sent));
  let box = '';
  for (const until = Date.now() + 30_000; Date.now() < until && !box.includes('via-swarm'); await sleep(500)) box = await firstMessage('first.last@swarm.test', 'swarm-pass-1234');
  t.true(box.includes('via-swarm'), box);

  const status = JSON.parse((await mailctl(site, ['status', '--json'])).stdout);
  t.deepEqual(status.services.map((s: { service: string; state: string }) => [s.service, s.state]).sort(),
    [['certbot', 'running'], ['chasquid', 'running'], ['dockerproxy', 'running'], ['dovecot', 'running'], ['web', 'running']]);
  t.is(status.users, 1);
  const doctor = JSON.parse((await mailctl(site, ['doctor', '--json'])).stdout);
  const services = doctor.checks.filter((c: { name: string }) => c.name.startsWith('service '));
  t.true(services.length >= 5 && services.every((c: { status: string }) => c.status === 'ok'), JSON.stringify(services));
  const backup = await mailctl(site, ['backup', join(site, 'swarm.tar.gz')]);
  t.is(backup.code, 0, show(backup));
});

test.serial('renew --force: the sidecar restarts chasquid\'s service through the proxy, which refuses every other Swarm call', async (t) => {
  const rigUp = await compose(['--profile', 'acme', 'up', '-d', '--build', 'pebble']);
  t.is(rigUp.code, 0, show(rigUp));
  const chasquid = (await docker.listServices({ filters: { name: [`${PROJECT}_chasquid`] } }))[0];
  const before = await healthyTasks(PROJECT, ['chasquid', 'dovecot']);
  const renewed = await mailctl(site, ['renew', '--force', '--json']);
  t.is(renewed.code, 0, show(renewed));
  const result = JSON.parse(renewed.stdout);
  t.regex(result.after.issuer, /Pebble/i);
  const after = await healthyTasks(PROJECT, ['chasquid', 'dovecot']);
  t.not(after.chasquid, before.chasquid, 'a new chasquid task');
  t.is(after.dovecot, before.dovecot, 'dovecot reloaded in place');
  const spec = await docker.getService(chasquid.ID).inspect();
  t.is(spec.Spec.TaskTemplate.ForceUpdate, (chasquid.Spec?.TaskTemplate?.ForceUpdate ?? 0) + 1, 'restarted by a forced update of its service');
  t.is((await swarmTasks(PROJECT, 'chasquid')).filter((c) => c.State === 'running').length, 1, 'one chasquid, not two');

  const certbot = (await healthyTasks(PROJECT, ['certbot'])).certbot;
  const dovecotService = (await docker.listServices({ filters: { name: [`${PROJECT}_dovecot`] } }))[0].ID;
  const script = `${PROXY_CLIENT}
for m, p in [("POST", "/containers/${after.chasquid}/restart"), ("POST", "/services/${dovecotService}/update"), ("DELETE", "/services/${chasquid.ID}"), ("POST", "/services/create"), ("GET", "/services"), ("GET", "/services/${chasquid.ID}")]:
    print(m, p.split("/")[2] if p.count("/") > 1 else p, call(m, p)[0])`;
  const probe = await docker.getContainer(certbot).exec({ Cmd: ['python3', '-c', script], AttachStdout: true, AttachStderr: true });
  const out = await new Promise<string>((resolve, reject) => probe.start({}, (err, stream) => {
    if (err || !stream) return reject(err);
    let text = '';
    stream.on('data', (d: Buffer) => { text += d.toString(); });
    stream.on('end', () => resolve(text));
  }));
  t.regex(out, new RegExp(`POST ${after.chasquid} 403`), `${out}: a task's container is never restarted (Swarm would start a second)`);
  t.regex(out, new RegExp(`POST ${dovecotService} 403`), out);
  t.regex(out, new RegExp(`DELETE ${chasquid.ID} 403`), out);
  t.regex(out, /POST create 403/, out);
  t.regex(out, /GET \/services 403/, out);
  t.regex(out, new RegExp(`GET ${chasquid.ID} 200`), out);
});

const taskTemplates = async () => Object.fromEntries((await docker.listServices({ filters: { label: [`dev.mailctl.project=${PROJECT}`] } }))
  .map((s) => [s.Spec?.Name ?? '', JSON.stringify(s.Spec?.TaskTemplate)]));

test.serial('a changed setting, redeployed, rolls only the service it changes', async (t) => {
  const before = await healthyTasks(PROJECT, ['chasquid', 'dovecot', 'web', 'certbot', 'dockerproxy']);
  const specsBefore = await taskTemplates();
  appendFileSync(join(site, '.env'), 'MAIL_QUOTA=1G\n');
  const made = await mailctl(site, ['compose', '--swarm', '-o', stackFile]);
  t.is(made.code, 0, show(made));
  const gap = await refusedGap(PORT(143), async () => {
    const deployed = await deploy();
    t.is(deployed.code, 0, show(deployed));
    await waitReplaced(PROJECT, 'dovecot', before.dovecot);
  });
  const after = await healthyTasks(PROJECT, ['chasquid', 'dovecot', 'web', 'certbot', 'dockerproxy']);
  const specsAfter = await taskTemplates();
  t.deepEqual(Object.keys(specsAfter).filter((name) => specsAfter[name] !== specsBefore[name]), [`${PROJECT}_dovecot`], 'only dovecot\'s service spec changed');
  t.not(after.dovecot, before.dovecot, 'dovecot (quota) rolled');
  t.deepEqual([after.chasquid, after.web, after.certbot, after.dockerproxy], [before.chasquid, before.web, before.certbot, before.dockerproxy], 'nothing else');
  t.log(`IMAP refused connections for ${gap} ms during dovecot's rolling update`);
  const quota = await run('curl', ['-sk', `imaps://127.0.0.1:${PORT(993)}/`, '-u', 'first.last@swarm.test:swarm-pass-1234', '-X', 'GETQUOTAROOT INBOX']);
  t.regex(quota.stdout, /STORAGE \d+ 1048576/, quota.stdout);
});

test.serial('docker stack rm keeps the volumes: the mail is there after a redeploy', async (t) => {
  await compose(['--profile', 'acme', 'down', '--remove-orphans']);
  const removed = await run('docker', ['stack', 'rm', PROJECT]);
  t.is(removed.code, 0, show(removed));
  await removeSwarmStack(PROJECT);
  const { Volumes } = await docker.listVolumes({ filters: { label: [`dev.mailctl.project=${PROJECT}`] } });
  t.true(Volumes.some((v) => v.Name === `${PROJECT}-mail`) && Volumes.some((v) => v.Name === `${PROJECT}-certs`), Volumes.map((v) => v.Name).join(' '));
  const deployed = await deploy();
  t.is(deployed.code, 0, show(deployed));
  await healthyTasks(PROJECT, ['chasquid', 'dovecot']);
  t.true((await firstMessage('first.last@swarm.test', 'swarm-pass-1234')).includes('via-swarm'));
  t.true(readFileSync(stackFile, 'utf8').startsWith('# Made by `mailctl compose --swarm`'));
});

test.serial('a new domain: add-user, compose --swarm and a redeploy, and the web service serves its autoconfig', async (t) => {
  const added = await mailctl(site, ['add-user', 'kim@sixth.test', '--password-stdin'], 'kim-pass-12345\n');
  t.is(added.code, 0, show(added));
  t.regex(added.stderr, /compose --swarm/, 'add-user says how the web service learns the domain on Swarm');
  const made = await mailctl(site, ['compose', '--swarm', '-o', stackFile]);
  t.is(made.code, 0, show(made));
  const deployed = await deploy();
  t.is(deployed.code, 0, show(deployed));
  let answer = { stdout: '' };
  for (const until = Date.now() + 90_000; Date.now() < until && !answer.stdout.includes('sixth.test'); await sleep(1000)) {
    answer = await run('curl', ['-sk', '--max-time', '5', '--resolve', `autoconfig.sixth.test:${PORT(443)}:127.0.0.1`, `https://autoconfig.sixth.test:${PORT(443)}/mail/config-v1.1.xml`]);
  }
  t.regex(answer.stdout, /<domain>sixth\.test<\/domain>/, answer.stdout);
});
