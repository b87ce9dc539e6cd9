/**
 * The executor of a StackPlan: runs its steps against the engine in order.
 * Container steps are re-derived once the images exist (a built image's id
 * is known only then); they come out as the plan showed them.
 */
import { refreshSendersIfStale } from '../accounts/changes.js';
import { ensureDkimKeys } from '../accounts/dkim-keys.js';
import { ensureBaseImage } from '../images/base.js';
import { buildTarget, imageTargets } from '../images/build.js';
import { installCertificate } from '../certs/install.js';
import { startingCertificate } from '../certs/source.js';
import type { Config } from '../config/config.js';
import { createService, ensureNetwork, ensureVolume, observeProject, removeContainer, startService } from '../docker/containers.js';
import { createOptions } from '../docker/create-options.js';
import type { Engine } from '../docker/engine.js';
import { OperationalError } from '../core/errors.js';
import type { ImageName } from '../images/context.js';
import { networkName } from '../model/layout.js';
import type { Progress } from '../core/progress.js';
import { neededImages } from './services.js';
import type { ServiceSpec } from '../model/types.js';
import { waitHealthy } from '../runtime/health.js';
import { changes, describeStep, plan as planContainers, type Step } from './containers.js';
import { mailLogPaths } from './observe.js';
import { desiredGuardFor, desiredServices, type StackPlan } from './stack-plan.js';

export interface ExecuteOptions {
  rolling?: boolean;
  noCache?: boolean;
}

export async function executePlan(engine: Engine, config: Config, stackPlan: StackPlan, options: ExecuteOptions, progress: Progress): Promise<void> {
  const { seen } = stackPlan;
  const of = (kind: string, action?: string) => stackPlan.steps.filter((s) => s.kind === kind && (!action || s.action === action));
  // What the plan says is there is not asked again: a no-op `up` is the observation and little else.
  const baseId = seen.baseImageId && !options.noCache ? seen.baseImageId : await ensureBaseImage(engine, config, progress, options.noCache);
  // The same tags as observed, unless the base changed under them (made now, or pulled anew).
  const targets = baseId === seen.baseImageId ? seen.targets : await imageTargets(config, baseId, neededImages(config) as ImageName[]);
  const imageIds: Record<string, string> = {};
  let built = false;
  for (const target of targets) {
    const known = options.noCache ? undefined : seen.imageIds[target.ref];
    const image = known ? undefined : await buildTarget(engine, config, target, options.noCache ?? false, progress);
    imageIds[target.ref] = known ?? image!.id;
    built ||= image?.built ?? false;
  }

  const network = networkName(config.project);
  if (of('network', 'create').length && (await ensureNetwork(engine, network, config.project, config.subnet))) progress.step(`created network ${network}`);
  for (const v of of('volume', 'create')) {
    if (await ensureVolume(engine, v.name, config.project, v.name.slice(config.project.length + 1))) progress.step(`created volume ${v.name}`);
  }

  let certChanged = false;
  if (!of('certificate', 'keep').length) {
    const cert = startingCertificate(config);
    const dovecotImage = targets.find((t) => t.name === 'dovecot')!.ref;
    certChanged = await installCertificate(engine, config, dovecotImage, cert.pair, cert.placeholder);
    if (certChanged) progress.step(`installed the ${cert.placeholder ? 'temporary (local CA) ' : ''}certificate for ${config.hostname}`);
  }

  const isGuard = (o: { service: string }) => o.service === 'guard';
  // Re-derived only when an image was built (its id is known only now).
  const mailSteps = built || options.noCache
    ? planContainers(desiredServices(config, targets, imageIds), (await observeProject(engine, config.project)).filter((o) => !isGuard(o)))
    : stackPlan.containers;
  await applyContainerSteps(engine, config, mailSteps, network, progress, options.rolling ?? false);
  const touched = changes(mailSteps).filter((s) => s.action !== 'remove').map((s) => s.name);
  if (certChanged) {
    // What was not just (re)created: dovecot re-reads its certificate on SIGHUP,
    // keeping its connections; chasquid reads it only at start.
    for (const step of mailSteps.filter((s) => s.action === 'keep' && (s.service === 'dovecot' || s.service === 'chasquid'))) {
      progress.step(`${step.service === 'dovecot' ? 'reloading' : 'restarting'} ${step.name} (new certificate)`);
      if (step.service === 'dovecot') await engine.container(step.name).signal('SIGHUP');
      else {
        await engine.container(step.name).restart(10);
        touched.push(step.name);
      }
    }
  }
  // Where the mail logs now are (a recreated mail container has a new one).
  const mailMoved = changes(mailSteps).length > 0;
  const guardSteps = planContainers(
    desiredGuardFor(config, targets, imageIds, mailMoved ? await mailLogPaths(engine, config) : seen.mailLogs),
    (mailMoved || built ? await observeProject(engine, config.project) : seen.containers).filter(isGuard),
  );
  await applyContainerSteps(engine, config, guardSteps, network, progress, false);
  touched.push(...changes(guardSteps).filter((s) => s.action !== 'remove').map((s) => s.name));
  await waitHealthy(engine, touched, progress);
  // Every domain signs its mail: keys for domains that have none (the main one, on the first up).
  if (of('dkim').some((s) => s.action !== 'keep')) await ensureDkimKeys(engine, config, progress);
  // Who may send as what, from the accounts as they are (new on an upgraded stack; MAIL_SEND_LIMIT may have changed).
  await refreshSendersIfStale(engine, config);
}

/** Create, recreate, start and remove containers; rolling: one at a time, each healthy before the next. */
export async function applyContainerSteps(engine: Engine, config: Config, steps: readonly Step[], network: string, progress: Progress, rolling: boolean): Promise<void> {
  for (const step of changes(steps)) {
    progress.step(describeStep(step));
    switch (step.action) {
      case 'recreate':
      case 'create': {
        const { spec, aspects } = step.desired;
        const replaced = step.action === 'recreate' ? await setAside(engine, step.containerId, spec.name) : undefined;
        let id: string;
        try {
          id = (await createService(engine, createOptions(spec, config.project, network, aspects), spec)).ref;
        } catch (err) {
          if (replaced) await engine.container(replaced).rename(spec.name);
          throw err;
        }
        // The new container is ready (files in) before the old one stops: the service is down only for stop + start.
        if (replaced && rolling) {
          await replaceOrRollBack(engine, replaced, id, spec, progress);
          break;
        }
        if (replaced) await removeContainer(engine, replaced);
        await startService(engine, id, spec);
        break;
      }
      case 'start':
        await startService(engine, step.containerId);
        break;
      case 'remove':
        await removeContainer(engine, step.containerId);
        break;
    }
  }
}

/**
 * Rename a running container out of the way of its successor; it keeps serving
 * meanwhile. One that serves nothing (crash-looping after a failed `up`: the
 * engine cannot rename a host-network container between restarts) is removed.
 */
async function setAside(engine: Engine, id: string, name: string): Promise<string | undefined> {
  const container = engine.container(id);
  try {
    await container.rename(`${name}-replaced-${Date.now()}`);
    return id;
  } catch (err) {
    const state = (await container.inspect())?.State;
    if (state?.Running && !state.Restarting) throw err;
    await removeContainer(engine, id);
    return undefined;
  }
}

/**
 * Rolling replacement: the old container is only stopped until the new one is
 * healthy. If the new one does not get there, it is removed and the old one
 * comes back under its name, so a failed upgrade leaves the service as it was.
 */
async function replaceOrRollBack(engine: Engine, oldId: string, newId: string, spec: ServiceSpec, progress: Progress): Promise<void> {
  const old = engine.container(oldId);
  await old.stop(10);
  try {
    await startService(engine, newId, spec);
    await waitHealthy(engine, [spec.name], progress);
  } catch (err) {
    progress.step(`${spec.name} did not become healthy: rolling back to the container it replaced`);
    await removeContainer(engine, newId);
    await old.rename(spec.name);
    await old.start();
    await waitHealthy(engine, [spec.name], progress);
    const reason = err instanceof OperationalError ? err : undefined;
    throw new OperationalError(`${spec.name} was rolled back: ${reason?.message ?? (err as Error).message}`, reason?.details);
  }
  await removeContainer(engine, oldId);
}
