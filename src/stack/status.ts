/** `mailctl status`: what runs, how healthy, which certificate, how many users and domains. */
import { listDomains, listUsers } from '../accounts/users.js';
import { servedCertificatePem, summarizeCertificate, type CertSummary } from '../certs/install.js';
import type { Config } from '../config.js';
import { observeProject } from '../docker/containers.js';
import type { Engine } from '../docker/engine.js';

export interface ServiceStatus {
  service: string;
  name: string;
  state: string;
  health: string;
  image: string;
  startedAt?: string;
  uptimeSeconds?: number;
  ports: string[];
}

export interface StackStatus {
  project: string;
  domain: string;
  hostname: string;
  services: ServiceStatus[];
  certificate?: CertSummary;
  users?: number;
  domains?: string[];
}

export async function stackStatus(docker: Engine, config: Config): Promise<StackStatus> {
  const observed = await observeProject(docker, config.project);
  const services: ServiceStatus[] = [];
  for (const o of observed.filter((c) => c.service !== 'helper')) {
    const info = await docker.getContainer(o.id).inspect();
    const running = info.State.Status === 'running';
    const started = Date.parse(info.State.StartedAt);
    const ports = Object.entries(info.HostConfig.PortBindings ?? {}).flatMap(([inside, binds]) =>
      ((binds ?? []) as { HostIp: string; HostPort: string }[]).map((b) => `${b.HostIp || '0.0.0.0'}:${b.HostPort}->${inside}`));
    services.push({
      service: o.service,
      name: o.name,
      state: info.State.Status,
      health: info.State.Health?.Status ?? 'none',
      image: info.Config.Image,
      startedAt: running ? info.State.StartedAt : undefined,
      uptimeSeconds: running ? Math.round((Date.now() - started) / 1000) : undefined,
      ports: ports.sort(),
    });
  }
  services.sort((a, b) => a.service.localeCompare(b.service));
  const isUp = (s: string) => services.some((x) => x.service === s && x.state === 'running');
  const pem = await servedCertificatePem(docker, config);
  return {
    project: config.project,
    domain: config.domain,
    hostname: config.hostname,
    services,
    certificate: pem ? summarizeCertificate(pem) : undefined,
    users: isUp('dovecot') ? (await listUsers(docker, config)).length : undefined,
    domains: isUp('chasquid') ? await listDomains(docker, config) : undefined,
  };
}
