/** Waiting on a Swarm stack's tasks, for the Swarm e2e test and the bench. */
import { docker, run, sleep } from './e2e.js';

/** A service's task containers (running only, unless `all`). */
export const swarmTasks = (project: string, service: string, all = false) =>
  docker.listContainers({ all, filters: { label: [`dev.mailctl.project=${project}`, `dev.mailctl.service=${service}`, 'com.docker.swarm.service.id'] } });

/** The running, healthy task container of each service, by id; waits until every one is. */
export async function healthyTasks(project: string, services: string[], timeoutMs = 180_000): Promise<Record<string, string>> {
  for (const until = Date.now() + timeoutMs; ; await sleep(250)) {
    const found: Record<string, string> = {};
    for (const s of services) {
      const running = (await swarmTasks(project, s)).filter((c) => c.State === 'running' && /\(healthy\)/.test(c.Status));
      if (running.length === 1) found[s] = running[0].Id;
    }
    if (Object.keys(found).length === services.length) return found;
    if (Date.now() > until) throw new Error(`not healthy within ${timeoutMs / 1000} s: ${services.filter((s) => !found[s]).join(', ')}`);
  }
}

/** Waits until a healthy task other than `old` runs the service. */
export async function waitReplaced(project: string, service: string, old: string, timeoutMs = 180_000): Promise<void> {
  for (const until = Date.now() + timeoutMs; Date.now() < until; await sleep(250)) {
    const now = await healthyTasks(project, [service], 0).catch(() => undefined);
    if (now && now[service] !== old) return;
  }
  throw new Error(`${service} was not replaced within ${timeoutMs / 1000} s`);
}

/** `docker stack rm`, then wait until its containers are gone (the network goes with the last). */
export async function removeSwarmStack(project: string): Promise<void> {
  await run('docker', ['stack', 'rm', project]);
  for (let i = 0; i < 60 && (await docker.listContainers({ all: true, filters: { label: [`com.docker.stack.namespace=${project}`] } })).length; i++) await sleep(500);
}
