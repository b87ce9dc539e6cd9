/** Containers, networks and volumes of one project, as the engine sees them. */
import type { Container, ContainerCreateOptions } from 'dockerode';
import { OperationalError } from '../errors.js';
import { LABEL, projectLabels } from '../labels.js';
import type { Observed } from '../reconcile/plan.js';
import { configHash, encodeAspects, type Aspects } from '../spec/hash.js';
import { publishedAddresses } from '../spec/listen.js';
import type { ServiceSpec } from '../spec/types.js';
import { putFiles } from './archive.js';
import { ignoreNotModified, isConflict, isNotFound, orAbsent, shortReason, type Engine } from './engine.js';

export async function observeProject(docker: Engine, project: string): Promise<Observed[]> {
  const list = await docker.listContainers({
    all: true,
    filters: { label: [`${LABEL.managed}=true`, `${LABEL.project}=${project}`] },
  });
  return list.map((c) => ({
    id: c.Id,
    name: (c.Names[0] ?? '').replace(/^\//, ''),
    service: c.Labels[LABEL.service] ?? '',
    state: c.State,
    configHash: c.Labels[LABEL.configHash],
    aspectsLabel: c.Labels[LABEL.aspects],
  }));
}

export async function ensureNetwork(docker: Engine, name: string, project: string, subnet?: string): Promise<void> {
  if (await orAbsent(docker.getNetwork(name).inspect())) return;
  try {
    await docker.createNetwork({
      Name: name,
      Driver: 'bridge',
      Labels: projectLabels(project),
      ...(subnet ? { IPAM: { Driver: 'default', Config: [{ Subnet: subnet }] } } : {}),
    });
  } catch (err) {
    if (!isConflict(err)) throw new OperationalError(`cannot create network ${name}: ${shortReason(err)}`);
  }
}

export async function ensureVolume(docker: Engine, name: string, project: string, role: string): Promise<boolean> {
  if (await orAbsent(docker.getVolume(name).inspect())) return false;
  await docker.createVolume({ Name: name, Labels: { ...projectLabels(project), [LABEL.volume]: role } });
  return true;
}

export function createOptions(spec: ServiceSpec, project: string, network: string, aspects: Aspects): ContainerCreateOptions {
  const exposed: Record<string, object> = {};
  const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
  // In the host's network the daemon listens on its ports itself: nothing to publish.
  for (const p of spec.hostNetwork ? [] : spec.ports) {
    exposed[`${p.container}/tcp`] = {};
    bindings[`${p.container}/tcp`] = publishedAddresses(p.binds).map((address) => ({ HostIp: address, HostPort: String(p.host) }));
  }
  return {
    name: spec.name,
    // The service name, never MAIL_HOSTNAME: on a user-defined network a
    // container's hostname becomes a DNS alias, and MAIL_HOSTNAME must lead
    // to the certbot sidecar for http-01 (see FIELD-NOTES).
    ...(spec.hostNetwork ? {} : { Hostname: spec.service }),
    Image: spec.image,
    Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
    Labels: {
      ...projectLabels(project, spec.service),
      [LABEL.configHash]: configHash(aspects),
      [LABEL.aspects]: encodeAspects(aspects),
    },
    ExposedPorts: exposed,
    Healthcheck: {
      Test: ['CMD', ...spec.health.test],
      Interval: spec.health.intervalSeconds * 1e9,
      Timeout: spec.health.timeoutSeconds * 1e9,
      StartPeriod: spec.health.startPeriodSeconds * 1e9,
      Retries: spec.health.retries,
    },
    HostConfig: {
      Mounts: spec.mounts.map((m) => ({ Type: m.bind ? 'bind' : 'volume', Source: (m.bind ?? m.volume)!, Target: m.target, ReadOnly: m.readOnly ?? false })),
      PortBindings: bindings,
      ...(spec.hostNetwork ? { NetworkMode: 'host' } : {}),
      CapDrop: ['ALL'],
      CapAdd: spec.privileges.capabilities,
      ...(spec.privileges.noNewPrivileges ? { SecurityOpt: ['no-new-privileges'] } : {}),
      Memory: spec.limits.memoryBytes,
      MemorySwap: spec.limits.memoryBytes,
      PidsLimit: spec.limits.pids,
      ...(spec.readOnlyRoot ? { ReadonlyRootfs: true, Tmpfs: { '/run': runTmpfs(spec) } } : {}),
      RestartPolicy: { Name: 'unless-stopped' },
      LogConfig: { Type: 'json-file', Config: { 'max-size': spec.logs.maxSize, 'max-file': String(spec.logs.maxFiles) } },
      Dns: spec.dns,
      Init: spec.init ?? false,
      ...(spec.sysctls ? { Sysctls: spec.sysctls } : {}),
    },
    NetworkingConfig: { EndpointsConfig: spec.hostNetwork ? { host: {} } : { [network]: { Aliases: spec.networkAliases } } },
  };
}

/** The options of the tmpfs a read-only root gets on /run. */
export const runTmpfs = (spec: ServiceSpec) => `rw,nosuid,nodev,noexec,size=1m${spec.runOwner ? `,uid=${spec.runOwner.uid},gid=${spec.runOwner.gid}` : ''}`;

/** Create a container from its spec and put its files in, without starting it. */
export async function createService(docker: Engine, options: ContainerCreateOptions, spec: ServiceSpec): Promise<Container> {
  const container = await docker.createContainer(options);
  if (!spec.readOnlyRoot) await putFiles(container, spec.files);
  // A read-only root takes files only on its volumes, each put relative to its mount point.
  else for (const mount of spec.mounts.filter((m) => m.volume && !m.readOnly)) await putFiles(container, spec.files, mount.target);
  return container;
}

/** Start a container, turning "port is already allocated" into a line that names the .env key. */
export async function startService(docker: Engine, id: string, spec?: ServiceSpec): Promise<void> {
  try {
    await ignoreNotModified(docker.getContainer(id).start());
  } catch (err) {
    const reason = shortReason(err);
    const port = /(?:0\.0\.0\.0|[\d.]+|\[[\da-f:]+\]):(\d+)/i.exec(reason)?.[1] ?? /port (\d+)/.exec(reason)?.[1];
    const taken = /already allocated|address already in use/i.test(reason);
    const entry = spec?.ports.find((p) => String(p.host) === port);
    if (taken && entry) {
      throw new OperationalError(
        `port ${entry.host} on ${entry.binds.join(', ')} is already in use, so ${spec!.name} cannot start: ` +
          `stop what listens there, or set ${entry.key} in .env to a free port`,
      );
    }
    throw new OperationalError(`cannot start ${spec?.name ?? id}: ${reason}`);
  }
}

export async function removeContainer(docker: Engine, id: string): Promise<void> {
  const container = docker.getContainer(id);
  await ignoreNotModified(container.stop({ t: 10 }).catch((e) => { if (!isNotFound(e)) throw e; }));
  await container.remove({ force: true }).catch((e) => { if (!isNotFound(e)) throw e; });
}

export async function restartContainer(docker: Engine, name: string): Promise<void> {
  await docker.getContainer(name).restart({ t: 10 });
}

/** SIGHUP to the container's PID 1: dovecot re-reads its certificate, chasquid its users and aliases; nothing restarts. */
export async function reloadContainer(docker: Engine, name: string): Promise<void> {
  await docker.getContainer(name).kill({ signal: 'SIGHUP' });
}

/** The last lines a container printed (stdout and stderr), for error reports. */
export async function logTail(docker: Engine, name: string, lines: number | 'all' = 20): Promise<string> {
  try {
    const raw = (await docker.getContainer(name).logs({ stdout: true, stderr: true, tail: lines as number, follow: false })) as Buffer;
    return demuxToText(raw);
  } catch {
    return '';
  }
}

/** Logs of a non-TTY container are framed: 8-byte headers before each chunk. */
export function demuxToText(raw: Buffer): string {
  const parts: string[] = [];
  let i = 0;
  while (i + 8 <= raw.length) {
    const size = raw.readUInt32BE(i + 4);
    parts.push(raw.subarray(i + 8, i + 8 + size).toString());
    i += 8 + size;
  }
  return (i === 0 ? raw.toString() : parts.join('')).trimEnd();
}

export interface Health {
  state: string;
  health?: string;
  lastProbe?: string;
  startedAt?: string;
}

export async function healthOf(docker: Engine, name: string): Promise<Health | undefined> {
  const info = await orAbsent(docker.getContainer(name).inspect());
  if (!info) return undefined;
  const log = info.State.Health?.Log ?? [];
  return {
    state: info.State.Status,
    health: info.State.Health?.Status,
    lastProbe: log.length ? log[log.length - 1].Output.trim() : undefined,
    startedAt: info.State.StartedAt,
  };
}
