/**
 * A domain added or removed changes what the web service serves and the
 * names the certificate carries: the web container (and in acme mode the
 * certbot sidecar, which then asks for the new names) is made again from its
 * spec with the new list, and the local CA's certificate is reissued. Called
 * by add-domain / del-domain (and add-user of a new domain) before chasquid
 * restarts, so chasquid starts on the new certificate.
 */
import { installCertificate } from '../certs/install.js';
import { reloadWeb } from '../certs/renew.js';
import { acmeCaBundle, startingCertificate } from '../certs/source.js';
import type { Config } from '../config.js';
import { createOptions, createService, reloadContainer, removeContainer, startService } from '../docker/containers.js';
import { orAbsent, type Engine } from '../docker/engine.js';
import { LABEL } from '../labels.js';
import { containerName, networkName } from '../layout.js';
import type { Progress } from '../progress.js';
import { configHash, specAspects } from '../spec/hash.js';
import { neededImages, stackSpecs, type StackService } from '../spec/services.js';
import { waitHealthy } from '../stack/health.js';

/** Returns true when a new certificate was installed: chasquid must restart to serve it (callers do). */
export async function refreshForDomains(docker: Engine, config: Config, domains: readonly string[], progress: Progress): Promise<boolean> {
  let installed = false;
  if (config.certMode !== 'manual') {
    const cert = startingCertificate(config, false, domains);
    if (cert.caRemade && config.certMode === 'selfsigned') progress.step(`made a new local CA to cover every domain: clients must trust the new ${cert.caCertPath}`);
    const dovecot = await orAbsent(docker.getContainer(containerName(config.project, 'dovecot')).inspect());
    if (dovecot && await installCertificate(docker, config, dovecot.Config.Image, cert.pair, cert.placeholder)) {
      progress.step(`installed a certificate for ${config.hostname} naming every domain's autoconfig, autodiscover and mta-sts`);
      installed = true;
      await reloadContainer(docker, dovecot.Id);
      await reloadWeb(docker, config, progress);
    }
  }
  const services: StackService[] = config.certMode === 'acme' ? ['web', 'certbot'] : ['web'];
  for (const service of services) await remake(docker, config, service, domains, progress);
  return installed;
}

/** Make one container again from its spec, with the image it runs, when the spec changed. */
async function remake(docker: Engine, config: Config, service: StackService, domains: readonly string[], progress: Progress): Promise<void> {
  const name = containerName(config.project, service);
  const info = await orAbsent(docker.getContainer(name).inspect());
  if (!info) return;
  // Only this service's image matters: the others are named for the spec's shape.
  const images = { ...Object.fromEntries(neededImages(config).map((n) => [n, n])), [service]: info.Config.Image };
  const spec = stackSpecs(config, { images, domains, acmeCaBundle: acmeCaBundle(config), dockerSocket: config.dockerSocket }).find((s) => s.service === service);
  if (!spec) return;
  const aspects = specAspects(spec, info.Image);
  if (info.Config.Labels?.[LABEL.configHash] === configHash(aspects)) return;
  progress.step(`recreating ${name}: the domains changed`);
  // As `up` does: the new container is ready (files in) before the old one stops.
  await docker.getContainer(info.Id).rename({ name: `${name}-replaced-${Date.now()}` });
  const container = await createService(docker, createOptions(spec, config.project, networkName(config.project), aspects), spec);
  await removeContainer(docker, info.Id);
  await startService(docker, container.id, spec);
  await waitHealthy(docker, [name], progress);
}
