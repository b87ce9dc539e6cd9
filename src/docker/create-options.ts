/** How a ServiceSpec becomes the engine's create options: a pure translation. */
import type { ContainerCreateOptions } from './engine.js';
import { LABEL, projectLabels } from '../model/labels.js';
import { configHash, encodeAspects, type Aspects } from '../model/hash.js';
import { publishedAddresses } from '../model/listen.js';
import type { ServiceSpec } from '../model/types.js';
import { runTmpfs } from '../model/tmpfs.js';

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
    // to the certbot sidecar for http-01, not to this container.
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
