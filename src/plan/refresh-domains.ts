/**
 * A domain added or removed changes what the web service serves and the
 * names the certificate carries: the certificate is reissued (local CA) and
 * installed, and the web container (and in acme mode the certbot sidecar,
 * which then asks for the new names) is replaced from its spec with the new
 * list, through the plan's own executor. Run before chasquid restarts, so it
 * starts on the new certificate.
 */
import { installCertificate } from '../certs/install.js';
import { startingCertificate } from '../certs/source.js';
import type { Config } from '../config/config.js';
import type { Progress } from '../core/progress.js';
import { observeProject } from '../docker/containers.js';
import type { Engine } from '../docker/engine.js';
import { containerName, networkName } from '../model/layout.js';
import { waitHealthy } from '../runtime/health.js';
import { locateService, reloadIfRunning } from '../runtime/running.js';
import { changes, plan as planContainers } from './containers.js';
import { applyContainerSteps } from './apply-containers.js';
import { neededImages, type StackService } from './services.js';
import { desiredServices } from './stack-plan.js';

/** Returns true when a new certificate was installed: chasquid must restart to serve it (callers do). */
export async function refreshForDomains(engine: Engine, config: Config, domains: readonly string[], progress: Progress): Promise<boolean> {
  let installed = false;
  if (config.certMode !== 'manual') {
    const cert = startingCertificate(config, false, domains);
    if (cert.caRemade && config.certMode === 'selfsigned') progress.step(`made a new local CA to cover every domain: clients must trust the new ${cert.caCertPath}`);
    const located = await locateService(engine, config, 'dovecot');
    const dovecot = located && (await engine.container(located.ref).inspect());
    if (dovecot && await installCertificate(engine, config, dovecot.Config.Image, cert.pair, cert.placeholder)) {
      progress.step(`installed a certificate for ${config.hostname} naming every domain's autoconfig, autodiscover and mta-sts`);
      installed = true;
      await engine.container(dovecot.Id).signal('SIGHUP');
      await reloadIfRunning(engine, config, 'web', progress);
    }
  }
  const services: StackService[] = config.certMode === 'acme' ? ['web', 'certbot'] : ['web'];
  for (const service of services) await remake(engine, config, service, domains, progress);
  return installed;
}

/** Replace one container from its spec with the new domains, on the image it runs, when the spec changed. */
async function remake(engine: Engine, config: Config, service: StackService, domains: readonly string[], progress: Progress): Promise<void> {
  const name = containerName(config.project, service);
  const located = await locateService(engine, config, service);
  if (!located) return;
  if (located.swarmService) {
    // Swarm runs it from the stack file: a new file, deployed, changes it.
    progress.step(`${service} serves the new domains once the stack is deployed again: run \`mailctl compose --swarm\`, then \`docker stack deploy\``);
    return;
  }
  const info = await engine.container(located.ref).inspect();
  if (!info) return;
  // Only this service's image matters: the others are named only to make the specs.
  const targets = neededImages(config).map((n) => ({ name: n, ref: n === service ? info.Config.Image : n }));
  const desired = desiredServices(config, targets, { [info.Config.Image]: info.Image }, domains).filter((d) => d.spec.service === service);
  const steps = planContainers(desired, (await observeProject(engine, config.project)).filter((o) => o.service === service));
  if (!changes(steps).length) return;
  progress.step(`recreating ${name}: the domains changed`);
  await applyContainerSteps(engine, config, steps, networkName(config.project), progress, false);
  await waitHealthy(engine, [name], progress);
}
