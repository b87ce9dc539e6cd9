/** `mailctl up`: build what is missing, then reconcile the stack to its specs. */
import { buildImages } from '../build.js';
import { installCertificate } from '../certs/install.js';
import { acmeCaBundle, startingCertificate } from '../certs/source.js';
import type { Config } from '../config.js';
import { createOptions, createService, ensureNetwork, ensureVolume, observeProject, removeContainer, restartContainer, startService } from '../docker/containers.js';
import type { Engine } from '../docker/engine.js';
import { networkName } from '../layout.js';
import type { Progress } from '../progress.js';
import { changes, describeStep, plan, type Desired, type Step } from '../reconcile/plan.js';
import { specAspects } from '../spec/hash.js';
import { neededImages, stackSpecs } from '../spec/services.js';
import { waitHealthy } from './health.js';
import { ensureDkimKeys } from '../accounts/domains.js';

export interface UpResult {
  dryRun: boolean;
  steps: { action: string; service: string; name: string; reason: string }[];
  seconds: number;
  caCertPath?: string;
  certificateSource: string;
}

const MAIL_SERVICES = ['chasquid', 'dovecot'];

export async function up(docker: Engine, config: Config, options: { dryRun?: boolean }, progress: Progress): Promise<UpResult> {
  const started = Date.now();
  const images = await buildImages(docker, config, { names: neededImages(config) }, progress);
  const byName = Object.fromEntries(images.map((i) => [i.name, i]));
  const cert = startingCertificate(config);
  const specs = stackSpecs(config, {
    images: Object.fromEntries(images.map((i) => [i.name, i.ref])),
    acmeCaBundle: acmeCaBundle(config),
    dockerSocket: config.dockerSocket,
  });
  const desired: Desired[] = specs.map((spec) => ({ spec, aspects: specAspects(spec, byName[spec.service].id) }));
  const steps = plan(desired, await observeProject(docker, config.project));
  const result = (dryRun: boolean): UpResult => ({
    dryRun,
    steps: steps.map(({ action, service, name, reason }) => ({ action, service, name, reason })),
    seconds: (Date.now() - started) / 1000,
    caCertPath: cert.caCertPath,
    certificateSource: cert.source,
  });
  if (options.dryRun) return result(true);

  const network = networkName(config.project);
  await ensureNetwork(docker, network, config.project, config.subnet);
  const volumes = new Set(specs.flatMap((s) => s.mounts.flatMap((m) => (m.volume ? [m.volume] : []))));
  for (const volume of volumes) {
    if (await ensureVolume(docker, volume, config.project, volume.slice(config.project.length + 1))) progress.step(`created volume ${volume}`);
  }
  const certChanged = await installCertificate(docker, config, byName.dovecot.ref, cert.pair, cert.placeholder);
  if (certChanged) progress.step(`installed the ${cert.placeholder ? 'temporary (local CA) ' : ''}certificate for ${config.hostname}`);

  await apply(docker, config, steps, network, progress);
  const touched = changes(steps).filter((s) => s.action !== 'remove').map((s) => s.name);
  if (certChanged) {
    // chasquid reads its certificate only at start: restart what was not just (re)created.
    for (const step of steps.filter((s) => s.action === 'keep' && MAIL_SERVICES.includes(s.service))) {
      progress.step(`restarting ${step.name} (new certificate)`);
      await restartContainer(docker, step.name);
      touched.push(step.name);
    }
  }
  await waitHealthy(docker, touched, progress);
  // Every domain signs its mail: keys for domains that have none (the main one, on the first up).
  await ensureDkimKeys(docker, config, progress);
  return result(false);
}

async function apply(docker: Engine, config: Config, steps: readonly Step[], network: string, progress: Progress): Promise<void> {
  for (const step of changes(steps)) {
    progress.step(describeStep(step));
    switch (step.action) {
      case 'recreate':
        await removeContainer(docker, step.containerId);
      // falls through
      case 'create': {
        const { spec, aspects } = step.desired;
        const container = await createService(docker, createOptions(spec, config.project, network, aspects), spec);
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

