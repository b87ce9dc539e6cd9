/** `mailctl status`: what runs, how healthy, which certificate, how many users and domains. */
import { runningService } from '../runtime/running.js';
import { listUsers } from '../accounts/users.js';
import { listDomains } from '../accounts/domains.js';
import { accountsUsage, type QuotaUsage } from '../accounts/quota.js';
import { volumeCertificatePem, summarizeCertificate, type CertSummary } from '../certs/install.js';
import { serviceEntry } from '../model/service-table.js';
import type { Config } from '../config/config.js';
import { observeProject } from '../docker/containers.js';
import type { Engine } from '../docker/engine.js';
import { servedCertificate } from '../certs/probe.js';
import { hostPort, probeAddress } from '../model/listen.js';
import { servicePorts, type StackService } from '../plan/services.js';
import { SIDECAR_STATE_DIR } from '../model/layout.js';

export interface ServiceStatus {
  service: string;
  name: string;
  state: string;
  health: string;
  image: string;
  /** host: listens on the host's addresses itself (ports are where); stack: on the stack's network (ports are published). */
  network: 'host' | 'stack';
  /** The daemon's own version (chasquid, dovecot), asked of the running container. */
  version?: string;
  startedAt?: string;
  uptimeSeconds?: number;
  ports: string[];
}

export interface StackStatus {
  project: string;
  domain: string;
  hostname: string;
  services: ServiceStatus[];
  /** The certificate in the volume, which the services load at start... */
  certificate?: CertSummary;
  /** ...and the one chasquid really serves on its submission-over-TLS port. */
  served?: CertSummary;
  certMode: string;
  filters: { spamassassin: boolean; clamav: boolean };
  /** acme: the sidecar's last successful run and last error. */
  acme?: { lastSuccess?: string; lastError?: string };
  users?: number;
  domains?: string[];
  /** MAIL_QUOTA, and each account's usage (dovecot's count, as list-users shows it). */
  quota?: { default?: number; usage: QuotaUsage[] };
}

/** How each daemon tells its version (first line of output). */

async function daemonVersion(docker: Engine, name: string, cmd: readonly string[]): Promise<string | undefined> {
  const r = await docker.container(name).exec(cmd).catch(() => undefined);
  if (r?.exitCode !== 0) return undefined;
  const first = `${r.stdout}${r.stderr}`.trim().split('\n')[0];
  // dovecot prints its number alone: name it, as chasquid does.
  return first.startsWith(cmd[0]) ? first : `${cmd[0]} ${first}`;
}

export async function stackStatus(docker: Engine, config: Config): Promise<StackStatus> {
  const all = await observeProject(docker, config.project, { swarmTasks: true });
  // Swarm keeps the containers of tasks it replaced: a service's running task is its state.
  const observed = all.filter((o) => !o.swarmService || o.state === 'running' || !all.some((x) => x.swarmService === o.swarmService && x.state === 'running'));
  const services: ServiceStatus[] = [];
  for (const o of observed.filter((c) => c.service !== 'helper')) {
    const info = await docker.container(o.id).inspect();
    if (!info) continue;
    const running = info.State.Status === 'running';
    const versionCommand = serviceEntry(o.service)?.versionCommand;
    const started = Date.parse(info.State.StartedAt);
    // In the host's network the daemon listens itself: its addresses are the configuration's.
    const ports = info.HostConfig.NetworkMode === 'host'
      ? servicePorts(config, o.service as StackService).flatMap((p) => p.binds.map((a) => hostPort(a, p.host)))
      : Object.entries(info.HostConfig.PortBindings ?? {}).flatMap(([inside, binds]) =>
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
      network: info.HostConfig.NetworkMode === 'host' ? 'host' : 'stack',
      ...(running && versionCommand ? { version: await daemonVersion(docker, o.name, versionCommand) } : {}),
    });
  }
  services.sort((a, b) => a.service.localeCompare(b.service));
  const isUp = (s: string) => services.some((x) => x.service === s && x.state === 'running');
  const pem = await volumeCertificatePem(docker, config);
  return {
    project: config.project,
    domain: config.domain,
    hostname: config.hostname,
    services,
    certMode: config.certMode,
    filters: { ...config.filters },
    certificate: pem ? summarizeCertificate(pem) : undefined,
    served: isUp('chasquid') ? await servedCertificate(probeAddress(config.binds), config.ports.submissions, config.hostname) : undefined,
    acme: isUp('certbot') ? await sidecarState(docker, config) : undefined,
    users: isUp('dovecot') ? (await listUsers(docker, config)).length : undefined,
    domains: isUp('chasquid') ? await listDomains(docker, config) : undefined,
    quota: isUp('dovecot') ? { default: config.mailbox.quotaBytes || undefined, usage: await accountsUsage(docker, config) } : undefined,
  };
}

async function sidecarState(docker: Engine, config: Config): Promise<{ lastSuccess?: string; lastError?: string }> {
  const certbot = await runningService(docker, config, 'certbot');
  const read = async (file: string) => (await certbot.readFile(`${SIDECAR_STATE_DIR}/${file}`))?.toString().trim() || undefined;
  return { lastSuccess: await read('last-success'), lastError: await read('last-error') };
}
