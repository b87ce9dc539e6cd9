/**
 * Waiting until services answer. The images' HEALTHCHECK probes a protocol
 * greeting; the engine runs it only every few seconds, so while waiting we
 * also run the same probe ourselves and accept whichever succeeds first.
 */
import { healthOf, logTail } from '../docker/containers.js';
import type { Engine } from '../docker/engine.js';
import { OperationalError } from '../core/errors.js';
import type { Progress } from '../core/progress.js';
import { HEALTH_PROBE } from '../model/layout.js';
import { serviceEntry } from '../model/service-table.js';

const TIMEOUT_MS = 120_000;

export async function waitHealthy(docker: Engine, names: readonly string[], progress: Progress, timeoutMs = TIMEOUT_MS): Promise<void> {
  await Promise.all(names.map((name) => {
    // The service is the container name's last part (<project>-<service>).
    const own = serviceEntry(name.slice(name.lastIndexOf('-') + 1))?.healthyWithinSeconds ?? 0;
    return waitOne(docker, name, progress, Math.max(timeoutMs, own * 1000));
  }));
}

async function waitOne(docker: Engine, name: string, progress: Progress, timeoutMs: number): Promise<void> {
  const started = Date.now();
  let last = 'no probe yet';
  while (Date.now() - started < timeoutMs) {
    const health = await healthOf(docker, name);
    if (!health) throw new OperationalError(`${name} disappeared while starting`);
    if (health.state === 'exited' || health.state === 'dead' || health.state === 'restarting') {
      const log = await logTail(docker, name, 200);
      // The line that says why (a port that cannot be bound, a fatal error) leads the message.
      const lines = log.split('\n').reverse();
      const why = lines.find((l) => /Error listening|bind\(|address already in use|cannot assign requested address/i.test(l)) ?? lines.find((l) => /Fatal|☠/.test(l));
      throw new OperationalError(`${name} stopped while starting (${health.state})${why ? `: ${why.trim()}` : ''}; its last log lines:`, log.split('\n').slice(-20).join('\n'));
    }
    if (health.health === 'healthy') break;
    if (health.state === 'running') {
      const probe = await docker.container(name).exec(HEALTH_PROBE).catch(() => undefined);
      if (probe?.exitCode === 0) break;
      last = health.lastProbe || probe?.stderr.trim() || 'probe failed';
    }
    progress.detail(`waiting for ${name} to answer (${Math.round((Date.now() - started) / 1000)}s)`);
    await new Promise((r) => setTimeout(r, 300));
  }
  if (Date.now() - started >= timeoutMs) {
    throw new OperationalError(
      `${name} did not become healthy within ${timeoutMs / 1000}s (last probe: ${last}); its last log lines:`,
      await logTail(docker, name),
    );
  }
  progress.step(`${name} is healthy (${((Date.now() - started) / 1000).toFixed(1)}s)`);
}
