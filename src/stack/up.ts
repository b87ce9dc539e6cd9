/** `mailctl up`: observe, plan, and (unless a dry run) execute the plan. */
import { refuseOnSwarm } from '../runtime/running.js';
import { localCaDir } from '../certs/source.js';
import type { Config } from '../config/config.js';
import type { Engine } from '../docker/engine.js';
import type { Progress } from '../core/progress.js';
import { executePlan } from '../plan/execute.js';
import { observeStack } from '../plan/observe.js';
import { planStack, type PlanStep } from '../plan/stack-plan.js';
import { join } from 'node:path';
import { withProjectLock } from '../core/project-lock.js';

export interface UpResult {
  dryRun: boolean;
  /** The whole plan: images, network, volumes, certificate, containers, reloads, DKIM, senders. */
  steps: PlanStep[];
  seconds: number;
  caCertPath?: string;
  certificateSource: string;
}

export interface UpOptions {
  dryRun?: boolean;
  /** Rebuild every image from scratch (current Debian packages): `mailctl upgrade`. */
  noCache?: boolean;
  /** Replace containers one at a time, each healthy before the next is touched. */
  rolling?: boolean;
}

const SOURCE = { selfsigned: 'local CA', manual: 'manual', acme: 'ACME (certbot sidecar)' } as const;

export async function up(engine: Engine, config: Config, options: UpOptions, progress: Progress): Promise<UpResult> {
  const started = Date.now();
  const result = (steps: PlanStep[], dryRun: boolean, caCertPath?: string, source: string = SOURCE[config.certMode]): UpResult => ({
    dryRun, steps, seconds: (Date.now() - started) / 1000, caCertPath, certificateSource: source,
  });
  await refuseOnSwarm(engine, config, options.noCache ? 'upgrade' : 'up');
  if (options.dryRun) {
    const stackPlan = planStack(config, await observeStack(engine, config), options);
    return result(stackPlan.steps, true, config.certMode === 'manual' ? undefined : join(localCaDir(config), 'ca.crt'));
  }
  // Observed under the lock: another up cannot change the stack between the look and the change.
  return withProjectLock(config.project, options.noCache ? 'upgrade' : 'up', (line) => progress.step(line), async () => {
    const stackPlan = planStack(config, await observeStack(engine, config), options);
    const taken = await executePlan(engine, config, stackPlan, options, progress);
    return result(withContainerSteps(stackPlan.steps, taken), false, config.certMode === 'manual' ? undefined : join(localCaDir(config), 'ca.crt'));
  });
}

/** The plan's steps with its container steps replaced by those taken, where the plan had its first one. */
export function withContainerSteps(planned: readonly PlanStep[], taken: readonly PlanStep[]): PlanStep[] {
  const at = planned.findIndex((s) => s.kind === 'container');
  const others = planned.filter((s) => s.kind !== 'container');
  return at < 0 ? [...others, ...taken] : [...others.slice(0, at), ...taken, ...others.slice(at)];
}
