/**
 * Every container's idle memory, next to what it may have (model/limits.ts):
 * a stack with the ACME sidecars and SpamAssassin (ClamAV's signatures cannot
 * be downloaded here), left a minute to settle.
 */
import { DEFAULT_LIMITS, PRIVILEGES } from '../src/model/limits.js';
import type { ImageName } from '../src/images/context.js';
import { docker, portsFrom, removeProject, siteWithEnv } from '../test/helpers/e2e.js';

type Add = (k: string, v: string) => void;

export async function measureFootprint(mailctl: (cwd: string, args: string[]) => Promise<{ code: number; stderr: string }>, add: Add): Promise<void> {
  const project = 'mcbench-all';
  await removeProject(project);
  const site = siteWithEnv({
    MAIL_DOMAIN: 'example.test', CERT_MODE: 'acme', ACME_SERVER: 'https://acme.invalid/dir', MAILCTL_PROJECT: project,
    MAIL_BIND: '127.0.0.1', SPAMASSASSIN: 'on', ...portsFrom(28000),
  });
  try {
    const up = await mailctl(site, ['up']);
    if (up.code !== 0) throw new Error(`up: ${up.stderr}`);
    await new Promise((r) => setTimeout(r, 60_000));
    for (const c of await docker.listContainers({ filters: { label: [`dev.mailctl.project=${project}`] } })) {
      const service = c.Labels['dev.mailctl.service'] as ImageName;
      const stats = await docker.getContainer(c.Id).stats({ stream: false });
      const mib = Math.round((stats.memory_stats.usage - (stats.memory_stats.stats?.cache ?? 0)) / 2 ** 20);
      const limit = DEFAULT_LIMITS[service];
      add(`idle: ${service} (capabilities: ${PRIVILEGES[service].capabilities.join(' ') || 'none'})`,
        `${mib} MiB of ${limit.memoryBytes / 2 ** 20} MiB; ${stats.pids_stats?.current ?? '?'} of ${limit.pids} processes`);
    }
  } finally {
    await mailctl(site, ['down', '--volumes', '--yes']).catch(() => undefined);
    await removeProject(project);
  }
}
