/**
 * The Swarm measurements of `make bench`: `docker stack deploy` of
 * `mailctl compose --swarm` output to every service healthy, and the longest
 * refused window on IMAP 143 while a changed setting rolls dovecot and on
 * SMTP 25 while chasquid's service is restarted (a forced update, as a
 * renewal does). On a single-node swarm made here when there is none (and
 * left at the end).
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { docker, portsFrom, removeProject, run, siteWithEnv, refusedGap } from '../test/helpers/e2e.js';
import { healthyTasks, removeSwarmStack, waitReplaced } from '../test/helpers/swarm.js';

type Add = (k: string, v: string) => void;
type Mailctl = (cwd: string, args: string[]) => Promise<{ code: number; stdout: string; stderr: string }>;

const PROJECT = 'mcbenchswarm';
const BASE = 43000;
export async function measureSwarm(mailctl: Mailctl, add: Add): Promise<void> {
  const made = (await docker.info()).Swarm?.LocalNodeState !== 'active';
  if (made && (await run('docker', ['swarm', 'init', '--advertise-addr', '127.0.0.1'])).code !== 0) throw new Error('swarm bench: docker swarm init failed');
  const site = siteWithEnv({ MAIL_DOMAIN: 'swarm.test', CERT_MODE: 'selfsigned', MAILCTL_PROJECT: PROJECT, MAIL_BIND: '127.0.0.1', ...portsFrom(BASE) });
  const file = join(site, 'stack.yml');
  const deploy = () => run('docker', ['stack', 'deploy', '--resolve-image', 'never', '-c', file, PROJECT]);
  try {
    if ((await mailctl(site, ['compose', '--swarm', '-o', file])).code !== 0) throw new Error('swarm bench: compose --swarm failed');
    const started = Date.now();
    if ((await deploy()).code !== 0) throw new Error('swarm bench: deploy failed');
    const first = await healthyTasks(PROJECT, ['dovecot', 'chasquid', 'web'], 300_000);
    add('Swarm: `docker stack deploy` to every service healthy (selfsigned: dovecot, chasquid, web)', `${((Date.now() - started) / 1000).toFixed(1)} s`);

    appendFileSync(join(site, '.env'), 'MAIL_QUOTA=1G\n');
    if ((await mailctl(site, ['compose', '--swarm', '-o', file])).code !== 0) throw new Error('swarm bench: compose --swarm (2) failed');
    const imapGap = await refusedGap(BASE + 143, async () => {
      await deploy();
      await waitReplaced(PROJECT, 'dovecot', first.dovecot);
    });
    const chasquid = (await docker.listServices({ filters: { name: [`${PROJECT}_chasquid`] } }))[0].ID;
    const smtpGap = await refusedGap(BASE + 25, async () => {
      await run('docker', ['service', 'update', '--detach', '--force', chasquid]);
      await waitReplaced(PROJECT, 'chasquid', first.chasquid);
    });
    add('Swarm: longest refused window, IMAP 143 while a changed setting rolls dovecot / SMTP 25 while chasquid\'s service is restarted (stop-first)', `${imapGap} ms / ${smtpGap} ms`);
  } finally {
    await removeSwarmStack(PROJECT);
    await removeProject(PROJECT);
    const node = (await docker.info()).Swarm?.NodeID;
    if (!made && node) await run('docker', ['node', 'update', '--label-rm', `dev.mailctl.data.${PROJECT}`, node]);
    if (made) await run('docker', ['swarm', 'leave', '--force']);
  }
}
