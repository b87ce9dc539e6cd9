/**
 * The plan of `up`, pure: from the configuration and an Observation, every
 * step in the order it runs: base image, images, network, volumes,
 * certificate, containers (with their strategy), reloads, the guard, DKIM
 * keys and the sender map. `up --dry-run` prints it; the executor runs it.
 */
import type { Config } from '../config/config.js';
import type { ImageTarget } from '../images/build.js';
import { plannedCertificate, acmeCaBundle } from '../certs/source.js';
import { containerName, networkName, volumeName } from '../model/layout.js';
import { MAIL_SERVICES, serviceEntry, type ServiceName } from '../model/service-table.js';
import { specAspects } from '../model/hash.js';
import { guardSpec, stackSpecs } from './services.js';
import { changes, plan as planContainers, type Desired, type Step } from './containers.js';
import type { Observation } from './observe.js';

export type StepKind = 'base-image' | 'image' | 'network' | 'volume' | 'certificate' | 'container' | 'reload' | 'dkim' | 'senders';

export interface PlanStep {
  kind: StepKind;
  action: string;
  name: string;
  reason: string;
  service?: string;
  /** Containers only: replaced at once, or rolling (the old one kept until the new one is healthy). */
  strategy?: 'replace' | 'rolling';
}

export interface StackPlan {
  steps: PlanStep[];
  /** The container steps, with what the executor needs to create each. */
  containers: Step[];
  /** What the plan was made from. */
  seen: Observation;
}

/** An image not built yet has no id: a stand-in that no container carries, so its containers are replaced. */
const pendingId = (ref: string) => `to be built: ${ref}`;

/** The services' desired state, given image tags and ids. */
export function desiredServices(config: Config, targets: readonly Pick<ImageTarget, 'name' | 'ref'>[], imageIds: Record<string, string>, domains?: readonly string[]): Desired[] {
  const refs = Object.fromEntries(targets.map((t) => [t.name, t.ref]));
  const specs = stackSpecs(config, { images: refs, domains, acmeCaBundle: acmeCaBundle(config), dockerSocket: config.dockerSocket });
  return specs.map((spec) => ({ spec, aspects: specAspects(spec, imageIds[spec.image] ?? pendingId(spec.image)) }));
}

export function desiredGuardFor(config: Config, targets: readonly ImageTarget[], imageIds: Record<string, string>, logs: Observation['mailLogs']): Desired[] {
  const target = targets.find((t) => t.name === 'guard');
  if (!config.abuse.bans.enabled || !logs || !target) return [];
  const spec = guardSpec(config, target.ref, logs);
  return [{ spec, aspects: specAspects(spec, imageIds[target.ref] ?? pendingId(target.ref)) }];
}

export function planStack(config: Config, seen: Observation, options: { rolling?: boolean; noCache?: boolean } = {}): StackPlan {
  const steps: PlanStep[] = [];
  steps.push(seen.baseImageId
    ? { kind: 'base-image', action: 'keep', name: config.baseImage, reason: 'on the engine' }
    : { kind: 'base-image', action: 'make', name: config.baseImage, reason: 'not on the engine: pulled, or made with debootstrap' });
  if (!seen.baseImageId) steps.push({ kind: 'image', action: 'build', name: 'every image', reason: 'on the new base' });
  for (const t of seen.targets) {
    const built = seen.imageIds[t.ref] !== undefined && !options.noCache;
    steps.push({ kind: 'image', action: built ? 'keep' : 'build', name: t.ref, reason: built ? 'built before' : options.noCache ? 'rebuilt without cache' : 'its context changed or is new' });
  }
  const network = networkName(config.project);
  if (seen.network && config.subnet && seen.networkSubnet && seen.networkSubnet !== config.subnet) {
    steps.push({ kind: 'network', action: 'refuse', name: network, reason: `it has the subnet ${seen.networkSubnet} and MAIL_SUBNET says ${config.subnet}: run \`mailctl down\`, then \`mailctl up\` makes it again (volumes, so mail, are kept)` });
  } else {
    steps.push({ kind: 'network', action: seen.network ? 'keep' : 'create', name: network, reason: seen.network ? 'exists' : 'not created yet' });
  }

  const desired = desiredServices(config, seen.targets, seen.imageIds, seen.domains);
  const volumes = new Set(desired.flatMap((d) => d.spec.mounts.flatMap((m) => (m.volume ? [m.volume] : []))));
  if (config.abuse.bans.enabled) volumes.add(volumeName(config.project, 'guard-state'));
  for (const v of volumes) steps.push({ kind: 'volume', action: seen.volumes.includes(v) ? 'keep' : 'create', name: v, reason: seen.volumes.includes(v) ? 'exists (never removed by up)' : 'not created yet' });

  const certificate = certificateStep(config, seen);
  steps.push(certificate);

  const isGuard = (o: { service: string }) => o.service === 'guard';
  const containers = planContainers(desired, seen.containers.filter((o) => !isGuard(o)));
  const strategy = options.rolling ? 'rolling' : 'replace';
  steps.push(...containerPlanSteps(containers, strategy));

  if (certificate.action === 'install') {
    for (const s of containers.filter((c) => c.action === 'keep' && serviceEntry(c.service)?.onNewCertificate)) {
      steps.push(serviceEntry(s.service)!.onNewCertificate === 'reload'
        ? { kind: 'reload', action: 'reload', service: s.service, name: s.name, reason: 'new certificate (SIGHUP: no connection refused)' }
        : { kind: 'reload', action: 'restart', service: s.service, name: s.name, reason: 'new certificate (read only at start)' });
    }
  }
  steps.push(...guardSteps(config, seen, containers));
  steps.push(...dkimSteps(config, seen));
  steps.push(seen.sendersCurrent === undefined
    ? { kind: 'senders', action: 'check', name: 'sender map', reason: 'who may send as what, rewritten from the accounts if it differs, once chasquid and dovecot run' }
    : seen.sendersCurrent
      ? { kind: 'senders', action: 'keep', name: 'sender map', reason: 'says what the accounts say' }
      : { kind: 'senders', action: 'rewrite', name: 'sender map', reason: 'differs from the accounts (a new mailctl, or MAIL_SEND_LIMIT changed)' });
  return { steps, containers, seen };
}

function certificateStep(config: Config, seen: Observation): PlanStep {
  const name = `certificate for ${config.hostname}`;
  const wanted = plannedCertificate(config, seen.domains);
  if (wanted.problem) return { kind: 'certificate', action: 'refuse', name, reason: wanted.problem };
  if (wanted.toMake) return { kind: 'certificate', action: 'install', name, reason: `makes ${wanted.toMake}` };
  if (seen.certificatePem === undefined) return { kind: 'certificate', action: 'check', name, reason: 'installed unless the volume has it (read once a container can)' };
  // chasquid's domains are unknown until it runs: the names of every domain are settled after it starts.
  if (!seen.domains && seen.certificatePem) return { kind: 'certificate', action: 'check', name, reason: 'with every domain\'s names once chasquid runs (it knows the domains)' };
  if (seen.certificatePem === null) return { kind: 'certificate', action: 'install', name, reason: 'none in the volume yet' };
  if (wanted.placeholder || seen.certificatePem === wanted.pair?.certPem) return { kind: 'certificate', action: 'keep', name, reason: wanted.placeholder ? 'certbot keeps it' : 'the volume has it' };
  return { kind: 'certificate', action: 'install', name, reason: 'the volume has another one' };
}

/** Container steps as the plan shows them (and as `up` reports what it did). */
export function containerPlanSteps(containers: readonly Step[], strategy: 'replace' | 'rolling'): PlanStep[] {
  return containers.map((s) => ({ kind: 'container', action: s.action, service: s.service, name: s.name, reason: s.reason, ...(s.action === 'recreate' ? { strategy } : {}) }));
}

/**
 * The guard reads the mail containers' logs, so it is planned after them: a
 * mail container (re)created moves its log and the guard follows; before the
 * mail containers exist it can only be "after them".
 */
function guardSteps(config: Config, seen: Observation, mail: readonly Step[]): PlanStep[] {
  if (!config.abuse.bans.enabled) {
    return seen.containers.filter((c) => c.service === 'guard').map((c) => ({ kind: 'container', action: 'remove', service: 'guard', name: c.name, reason: 'no longer part of the stack' }));
  }
  const name = containerName(config.project, 'guard');
  const current = planContainers(desiredGuardFor(config, seen.targets, seen.imageIds, seen.mailLogs), seen.containers.filter((c) => c.service === 'guard')).find((s) => s.service === 'guard');
  const moved = changes(mail).filter((s) => MAIL_SERVICES.includes(s.service as ServiceName) && (s.action === 'create' || s.action === 'recreate')).map((s) => s.service);
  if (!current) return [{ kind: 'container', action: 'create', service: 'guard', name, reason: 'not created yet (after the mail containers: it reads their logs)' }];
  if (moved.length && (current.action === 'keep' || current.action === 'start')) {
    return [{ kind: 'container', action: 'recreate', service: 'guard', name, reason: `${moved.join(' and ')} log moves`, strategy: 'replace' }];
  }
  // The guard is always replaced at once: it holds no connection.
  return [{ kind: 'container', action: current.action, service: 'guard', name, reason: current.reason, ...(current.action === 'recreate' ? { strategy: 'replace' as const } : {}) }];
}

function dkimSteps(config: Config, seen: Observation): PlanStep[] {
  if (!seen.dkim) return [{ kind: 'dkim', action: 'check', name: 'every served domain', reason: 'one without a key gets one once chasquid runs (its domains cannot be read before)' }];
  return seen.dkim.map((d) => ({ kind: 'dkim', action: d.hasKey ? 'keep' : 'create', name: d.domain, reason: d.hasKey ? 'has a key' : 'no DKIM key yet' }));
}

/** One line per step, for progress and --dry-run. */
export function describePlanStep(step: PlanStep): string {
  return `${step.action.padEnd(8)} ${step.kind.padEnd(11)} ${step.name} (${step.reason})${step.strategy === 'rolling' ? ' [rolling]' : ''}`;
}

/** A step the plan cannot take: its reason says why and what to do. */
export const refusedStep = (steps: readonly PlanStep[]) => steps.find((s) => s.action === 'refuse');

/** Steps that change something. */
export const planChanges = (steps: readonly PlanStep[]) => steps.filter((s) => s.action !== 'keep' && s.action !== 'check');
