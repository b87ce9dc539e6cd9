/**
 * Run by certbot's deploy hook in the sidecar after the new certificate is in
 * the certificates volume, through the Docker API proxy: SIGHUP to dovecot
 * and to the web service's nginx (both re-read certificates and keep every
 * connection), a restart of
 * chasquid (it reads certificates only at start), then wait until chasquid is
 * healthy again. Prints one JSON line with what it did.
 */
import Docker from 'dockerode';

const project = process.env.MAILCTL_PROJECT ?? '';
// DOCKER_HOST points at the proxy's unix socket (unix:///run/mailctl-proxy/docker.sock); dockerode honours it.
const docker = new Docker();

async function waitHealthy(name: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const info = await docker.getContainer(name).inspect();
    if (info.State.Health?.Status === 'healthy') return;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${name} did not become healthy within ${timeoutMs / 1000}s`);
}

async function main(): Promise<void> {
  const reloaded = `${project}-dovecot`;
  await docker.getContainer(reloaded).kill({ signal: 'SIGHUP' });
  const restarted = `${project}-chasquid`;
  await docker.getContainer(restarted).restart({ t: 10 });
  // nginx serves the same certificate on the web ports (a stack made before the web service has none).
  const web = `${project}-web`;
  const webReloaded = await docker.getContainer(web).kill({ signal: 'SIGHUP' }).then(() => true, (err: { statusCode?: number }) => {
    if (err.statusCode !== 404) throw err;
    return false;
  });
  await waitHealthy(restarted, 90_000);
  await waitHealthy(reloaded, 90_000);
  console.log(JSON.stringify({ restarted: [restarted], reloaded: webReloaded ? [reloaded, web] : [reloaded], at: new Date().toISOString() }));
}

main().catch((err) => {
  console.error(`mailctl restart-mail: ${(err as Error).message}`);
  process.exit(1);
});
