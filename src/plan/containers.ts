/**
 * Reconcile as a pure plan: desired services + what the engine has -> steps.
 * Volumes are never part of a plan: data is only removed by `down --volumes`.
 */
import { changedAspects, configHash, decodeAspects, type Aspects } from '../model/hash.js';
import type { ServiceSpec } from '../model/types.js';
import type { Observed } from '../docker/containers.js';

export interface Desired {
  spec: ServiceSpec;
  aspects: Aspects;
}

export type { Observed };

interface StepBase {
  service: string;
  name: string;
  reason: string;
}
export type Step =
  | (StepBase & { action: 'create'; desired: Desired })
  | (StepBase & { action: 'recreate'; desired: Desired; containerId: string })
  | (StepBase & { action: 'start' | 'keep' | 'remove'; containerId: string });

export function plan(desired: readonly Desired[], observed: readonly Observed[]): Step[] {
  const steps: Step[] = [];
  const byName = new Map(observed.map((o) => [o.name, o]));
  for (const want of desired) {
    const { name, service } = want.spec;
    const have = byName.get(name);
    if (!have) {
      steps.push({ action: 'create', service, name, reason: 'not created yet', desired: want });
    } else if (have.configHash !== configHash(want.aspects)) {
      const changed = changedAspects(decodeAspects(have.aspectsLabel), want.aspects);
      const reason = changed.length > 0 ? `${changed.join(', ')} changed` : 'made by another mailctl version';
      steps.push({ action: 'recreate', service, name, reason, desired: want, containerId: have.id });
    } else if (have.state !== 'running') {
      steps.push({ action: 'start', service, name, reason: `was ${have.state}`, containerId: have.id });
    } else {
      steps.push({ action: 'keep', service, name, reason: 'up to date', containerId: have.id });
    }
  }
  const wanted = new Set(desired.map((d) => d.spec.name));
  for (const have of observed) {
    if (!wanted.has(have.name)) {
      steps.push({ action: 'remove', service: have.service, name: have.name, reason: 'no longer part of the stack', containerId: have.id });
    }
  }
  return steps;
}

export const changes = (steps: readonly Step[]) => steps.filter((s) => s.action !== 'keep');

/** One line per step, for logs and --dry-run. */
export function describeStep(step: Step): string {
  return `${step.action.padEnd(8)} ${step.name} (${step.reason})`;
}
