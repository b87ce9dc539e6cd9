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
import { ensureNetwork, ensureVolume, observeProject } from '../docker/containers.js';
import type { Engine } from '../docker/engine.js';
import { UsageError } from '../core/errors.js';
import type { ImageName } from '../images/context.js';
import { networkName } from '../model/layout.js';
import type { Progress } from '../core/progress.js';
import { neededImages } from './services.js';
import { waitHealthy } from '../runtime/health.js';
import { serviceEntry } from '../model/service-table.js';
import { listDomains } from '../accounts/domains.js';
import { restartService } from '../runtime/running.js';
import { refreshForDomains } from './refresh-domains.js';
import { applyContainerSteps } from './apply-containers.js';
import { changes, plan as planContainers } from './containers.js';
import { mailLogPaths } from './observe.js';
import { containerPlanSteps, desiredGuardFor, desiredServices, refusedStep, type PlanStep, type StackPlan } from './stack-plan.js';

export interface ExecuteOptions {
  rolling?: boolean;
  noCache?: boolean;
}

/**
 * Carries out the plan; returns the container steps as taken. They differ from
 * the plan's when an image was built: its id, known only now, can recreate a
 * container the plan kept (`upgrade` rebuilds images under the same tags).
 */
export async function executePlan(engine: Engine, config: Config, stackPlan: StackPlan, options: ExecuteOptions, progress: Progress): Promise<PlanStep[]> {
  const refused = refusedStep(stackPlan.steps);
  // Nothing is changed when one step cannot be taken.
  if (refused) throw new UsageError(`${refused.name}: ${refused.reason}`);
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
  // Not while chasquid's domains are unknown and a certificate is there: the catch-up below
  // installs one with every domain's names (a main-domain-only one now would be replaced at once).
  if (!of('certificate', 'keep').length && !(of('certificate', 'check').length && seen.certificatePem && !seen.domains)) {
    const cert = startingCertificate(config, false, seen.domains);
    if (cert.caRemade && config.certMode === 'selfsigned') progress.step(`made a new local CA to cover every name served: clients must trust the new ${cert.caCertPath}`);
    const dovecotImage = targets.find((t) => t.name === 'dovecot')!.ref;
    certChanged = await installCertificate(engine, config, dovecotImage, cert.pair, cert.placeholder);
    if (certChanged) progress.step(`installed the ${cert.placeholder ? 'temporary (local CA) ' : ''}certificate for ${config.hostname}`);
  }

  const isGuard = (o: { service: string }) => o.service === 'guard';
  // Re-derived only when an image was built (its id is known only now).
  const mailSteps = built || options.noCache
    ? planContainers(desiredServices(config, targets, imageIds, seen.domains), (await observeProject(engine, config.project)).filter((o) => !isGuard(o)))
    : stackPlan.containers;
  await applyContainerSteps(engine, config, mailSteps, network, progress, options.rolling ?? false);
  const touched = changes(mailSteps).filter((s) => s.action !== 'remove').map((s) => s.name);
  if (certChanged) {
    // What was not just (re)created: dovecot and nginx re-read their certificate on SIGHUP,
    // keeping their connections; chasquid reads it only at start.
    for (const step of mailSteps.filter((s) => s.action === 'keep' && serviceEntry(s.service)?.onNewCertificate)) {
      const reload = serviceEntry(step.service)!.onNewCertificate === 'reload';
      progress.step(`${reload ? 'reloading' : 'restarting'} ${step.name} (new certificate)`);
      if (reload) await engine.container(step.name).signal('SIGHUP');
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
  // chasquid was not running when the plan was made: the web service and the certificate
  // knew only the main domain. Now the list is known.
  if (!seen.domains && await refreshForDomains(engine, config, await listDomains(engine, config), progress)) {
    await restartService(engine, config, 'chasquid', 'new certificate (it reads it only at start)', progress);
  }
  // Who may send as what, from the accounts as they are (new on an upgraded stack; MAIL_SEND_LIMIT may have changed).
  if (!of('senders', 'keep').length || mailMoved) await refreshSendersIfStale(engine, config);
  return [...containerPlanSteps(mailSteps, options.rolling ? 'rolling' : 'replace'), ...containerPlanSteps(guardSteps, 'replace')];
}
