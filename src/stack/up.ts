/** `mailctl up`: observe, plan, and (unless a dry run) execute the plan. */
import { startingCertificate, localCaDir } from '../certs/source.js';
import type { Config } from '../config/config.js';
import type { Engine } from '../docker/engine.js';
import type { Progress } from '../core/progress.js';
import { executePlan } from '../plan/execute.js';
import { observeStack } from '../plan/observe.js';
import { planStack, type PlanStep } from '../plan/stack-plan.js';
import { join } from 'node:path';

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
  const stackPlan = planStack(config, await observeStack(engine, config), options);
  const result = (dryRun: boolean, caCertPath?: string, source: string = SOURCE[config.certMode]): UpResult => ({
    dryRun, steps: stackPlan.steps, seconds: (Date.now() - started) / 1000, caCertPath, certificateSource: source,
  });
  if (options.dryRun) return result(true, config.certMode === 'manual' ? undefined : join(localCaDir(config), 'ca.crt'));
  await executePlan(engine, config, stackPlan, options, progress);
  const cert = startingCertificate(config);
  return result(false, cert.caCertPath, cert.source);
}
