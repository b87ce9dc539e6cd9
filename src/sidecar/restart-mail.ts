/**
 * Run by certbot's deploy hook in the sidecar after the new certificate is in
 * the certificates volume, through the Docker API proxy: SIGHUP to dovecot
 * and to the web service's nginx (both re-read certificates and keep every
 * connection), a restart of
 * chasquid (it reads certificates only at start), then wait until chasquid is
 * healthy again. Prints one JSON line with what it did.
 */
import { dockerAtEnv } from '../docker/dockerode-engine.js';
import { containerName } from '../model/layout.js';
import { RELOADED_FOR_CERTIFICATE, RESTARTED_FOR_CERTIFICATE } from '../model/service-table.js';

const project = process.env.MAILCTL_PROJECT ?? '';
// DOCKER_HOST points at the proxy's unix socket (unix:///run/mailctl-proxy/docker.sock); dockerode honours it.
const docker = dockerAtEnv();

async function waitHealthy(name: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const info = await docker.container(name).inspect();
    if (info?.State.Health?.Status === 'healthy') return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${name} did not become healthy within ${timeoutMs / 1000}s`);
}

async function main(): Promise<void> {
  const reloaded = RELOADED_FOR_CERTIFICATE.map((s) => containerName(project, s));
  const restarted = RESTARTED_FOR_CERTIFICATE.map((s) => containerName(project, s));
  // A service the stack does not run (a stack made before the web service) is skipped.
  const signalled = (await Promise.all(reloaded.map(async (name) => docker.container(name).signal('SIGHUP').then(() => name, (err: { statusCode?: number }) => {
    if (err.statusCode !== 404) throw err;
    return undefined;
  })))).filter((name): name is string => name !== undefined);
  for (const name of restarted) await docker.container(name).restart(10);
  for (const name of [...restarted, ...signalled]) await waitHealthy(name, 90_000);
  console.log(JSON.stringify({ restarted, reloaded: signalled, at: new Date().toISOString() }));
}

main().catch((err) => {
  console.error(`mailctl restart-mail: ${(err as Error).message}`);
  process.exit(1);
});
