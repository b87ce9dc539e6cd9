/**
 * Run by certbot's deploy hook in the sidecar after the new certificate is in
 * the certificates volume: restart chasquid (it reads certificates only at
 * start) and dovecot through the Docker API proxy, then wait until both are
 * healthy again. Prints one JSON line with what it restarted.
 */
import Docker from 'dockerode';

const project = process.env.MAILCTL_PROJECT ?? '';
const services = (process.env.RESTART_SERVICES ?? 'chasquid dovecot').split(/\s+/).filter(Boolean);
// DOCKER_HOST points at the proxy (tcp://<project>-dockerproxy:2375); dockerode honours it.
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
  const restarted: string[] = [];
  for (const service of services) {
    const name = `${project}-${service}`;
    await docker.getContainer(name).restart({ t: 10 });
    restarted.push(name);
  }
  await Promise.all(restarted.map((name) => waitHealthy(name, 90_000)));
  console.log(JSON.stringify({ restarted, at: new Date().toISOString() }));
}

main().catch((err) => {
  console.error(`mailctl restart-mail: ${(err as Error).message}`);
  process.exit(1);
});
