/** `mailctl up`: build what is missing, then reconcile the stack to its specs. */
import { installCertificate } from '../certs/install.js';
import { startingCertificate } from '../certs/source.js';
import type { Config } from '../config.js';
import { createOptions, createService, observeProject, reloadContainer, removeContainer, restartContainer, startService } from '../docker/containers.js';
import { ignoreNotModified, type Engine } from '../docker/engine.js';
import { OperationalError } from '../errors.js';
import { containerName } from '../layout.js';
import type { ServiceSpec } from '../spec/types.js';
import type { Progress } from '../progress.js';
import { changes, describeStep, plan, type Step } from '../reconcile/plan.js';
import { desiredGuard, desiredStack, ensureStackObjects, mailLogPaths } from './desired.js';
import { waitHealthy } from './health.js';
import { ensureDkimKeys, listDomains } from '../accounts/domains.js';
import { refreshForDomains } from '../web/refresh.js';
import { refreshSenders } from '../accounts/changes.js';
import { withAccountsLock } from '../accounts/lock.js';

export interface UpResult {
  dryRun: boolean;
  steps: { action: string; service: string; name: string; reason: string }[];
  seconds: number;
  caCertPath?: string;
  certificateSource: string;
}

const MAIL_SERVICES = ['chasquid', 'dovecot'];
/** Re-read their certificate on SIGHUP, keeping their connections. */
const RELOADED_ON_NEW_CERTIFICATE = ['dovecot', 'web'];

export interface UpOptions {
  dryRun?: boolean;
  /** Rebuild every image from scratch (current Debian packages): `mailctl upgrade`. */
  noCache?: boolean;
  /** Replace containers one at a time, each healthy before the next is touched. */
  rolling?: boolean;
}

export async function up(docker: Engine, config: Config, options: UpOptions, progress: Progress): Promise<UpResult> {
  const started = Date.now();
  const stack = await desiredStack(docker, config, progress, { noCache: options.noCache });
  const cert = startingCertificate(config, false, stack.domains);
  if (cert.caRemade && config.certMode === 'selfsigned') progress.step(`made a new local CA to cover every domain: clients must trust the new ${cert.caCertPath}`);
  const isGuard = (o: { service: string }) => o.service === 'guard';
  const observed = await observeProject(docker, config.project);
  const steps = plan(stack.desired, observed.filter((o) => !isGuard(o)));
  // The guard reads the mail containers' logs, so it is planned after them (second, below).
  const guardPreview = previewGuard(config, steps, plan(desiredGuard(config, stack, await mailLogPaths(docker, config)), observed.filter(isGuard)));
  const result = (dryRun: boolean): UpResult => ({
    dryRun,
    steps: [...steps, ...guardPreview].map(({ action, service, name, reason }) => ({ action, service, name, reason })),
    seconds: (Date.now() - started) / 1000,
    caCertPath: cert.caCertPath,
    certificateSource: cert.source,
  });
  if (options.dryRun) return result(true);

  const network = await ensureStackObjects(docker, config, stack, progress);
  const certChanged = await installCertificate(docker, config, stack.images.dovecot.ref, cert.pair, cert.placeholder);
  if (certChanged) progress.step(`installed the ${cert.placeholder ? 'temporary (local CA) ' : ''}certificate for ${config.hostname}`);

  await apply(docker, config, steps, network, progress, options.rolling ?? false);
  const touched = changes(steps).filter((s) => s.action !== 'remove').map((s) => s.name);
  if (certChanged) {
    // What was not just (re)created: dovecot re-reads its certificate on SIGHUP,
    // keeping its connections; chasquid reads it only at start.
    for (const step of steps.filter((s) => s.action === 'keep' && [...MAIL_SERVICES, 'web'].includes(s.service))) {
      if (RELOADED_ON_NEW_CERTIFICATE.includes(step.service)) {
        progress.step(`reloading ${step.name} (new certificate)`);
        await reloadContainer(docker, step.name);
      } else {
        progress.step(`restarting ${step.name} (new certificate)`);
        await restartContainer(docker, step.name);
        touched.push(step.name);
      }
    }
  }
  // Where the mail logs now are (a recreated mail container has a new one).
  const guardSteps = plan(desiredGuard(config, stack, await mailLogPaths(docker, config)), (await observeProject(docker, config.project)).filter(isGuard));
  await apply(docker, config, guardSteps, network, progress, false);
  touched.push(...changes(guardSteps).filter((s) => s.action !== 'remove').map((s) => s.name));
  await waitHealthy(docker, touched, progress);
  // Every domain signs its mail: keys for domains that have none (the main one, on the first up).
  await ensureDkimKeys(docker, config, progress);
  // chasquid was not running when the specs were made: the web service and the
  // certificate knew only the main domain. Now the list is known.
  if (!stack.domains && await refreshForDomains(docker, config, await listDomains(docker, config), progress)) {
    const chasquid = containerName(config.project, 'chasquid');
    progress.step(`restarting ${chasquid} (new certificate)`);
    await restartContainer(docker, chasquid);
    await waitHealthy(docker, [chasquid], progress);
  }
  // Who may send as what, from the accounts as they are (new on an upgraded stack; MAIL_SEND_LIMIT may have changed).
  await withAccountsLock(docker, config, () => refreshSenders(docker, config));
  return result(false);
}

type StepView = Pick<Step, 'action' | 'service' | 'name' | 'reason'>;

/**
 * What the second plan will do, as far as it can be known before the first
 * runs: a mail container (re)created there moves its log, so the guard
 * follows; before the mail containers exist it can only be "after them".
 */
function previewGuard(config: Config, mailSteps: readonly Step[], guardSteps: readonly Step[]): readonly StepView[] {
  if (!config.abuse.bans.enabled) return guardSteps;
  const name = containerName(config.project, 'guard');
  const moved = mailSteps.filter((s) => MAIL_SERVICES.includes(s.service) && (s.action === 'create' || s.action === 'recreate')).map((s) => s.service);
  const current = guardSteps.find((s) => s.service === 'guard');
  if (!current) return [{ action: 'create', service: 'guard', name, reason: 'not created yet (after the mail containers: it reads their logs)' }];
  if (moved.length && (current.action === 'keep' || current.action === 'start')) {
    return [{ action: 'recreate', service: 'guard', name, reason: `${moved.join(' and ')} log moves` }];
  }
  return guardSteps;
}

async function apply(docker: Engine, config: Config, steps: readonly Step[], network: string, progress: Progress, rolling: boolean): Promise<void> {
  for (const step of changes(steps)) {
    progress.step(describeStep(step));
    switch (step.action) {
      case 'recreate':
      case 'create': {
        // Rolling: dovecot comes first, and chasquid is replaced only once its deliveries have somewhere to go.
        const { spec, aspects } = step.desired;
        const replaced = step.action === 'recreate' ? await setAside(docker, step.containerId, spec.name) : undefined;
        let container;
        try {
          container = await createService(docker, createOptions(spec, config.project, network, aspects), spec);
        } catch (err) {
          if (replaced) await docker.getContainer(replaced).rename({ name: spec.name });
          throw err;
        }
        // The new container is ready (files in) before the old one stops: the service is down only for stop + start.
        if (replaced && rolling) {
          await replaceOrRollBack(docker, replaced, container.id, spec, progress);
          break;
        }
        if (replaced) await removeContainer(docker, replaced);
        await startService(docker, container.id, spec);
        break;
      }
      case 'start':
        await startService(docker, step.containerId);
        break;
      case 'remove':
        await removeContainer(docker, step.containerId);
        break;
    }
  }
}


/**
 * Rename a running container out of the way of its successor; it keeps serving
 * meanwhile. One that serves nothing (crash-looping after a failed `up`: the
 * engine cannot rename a host-network container between restarts) is removed.
 */
async function setAside(docker: Engine, id: string, name: string): Promise<string | undefined> {
  const container = docker.getContainer(id);
  try {
    await container.rename({ name: `${name}-replaced-${Date.now()}` });
    return id;
  } catch (err) {
    const state = (await container.inspect()).State;
    if (state.Running && !state.Restarting) throw err;
    await removeContainer(docker, id);
    return undefined;
  }
}

/**
 * Rolling replacement: the old container is only stopped until the new one is
 * healthy. If the new one does not get there, it is removed and the old one
 * comes back under its name, so a failed upgrade leaves the service as it was.
 */
async function replaceOrRollBack(docker: Engine, oldId: string, newId: string, spec: ServiceSpec, progress: Progress): Promise<void> {
  const old = docker.getContainer(oldId);
  await ignoreNotModified(old.stop({ t: 10 }));
  try {
    await startService(docker, newId, spec);
    await waitHealthy(docker, [spec.name], progress);
  } catch (err) {
    progress.step(`${spec.name} did not become healthy: rolling back to the container it replaced`);
    await removeContainer(docker, newId);
    await old.rename({ name: spec.name });
    await ignoreNotModified(old.start());
    await waitHealthy(docker, [spec.name], progress);
    const reason = err instanceof OperationalError ? err : undefined;
    throw new OperationalError(`${spec.name} was rolled back: ${reason?.message ?? (err as Error).message}`, reason?.details);
  }
  await removeContainer(docker, oldId);
}
