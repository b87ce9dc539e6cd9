/**
 * The stack as a docker compose file, made from the same service specs `up`
 * applies. Pure: specs in, a document and the files it references out.
 *
 * - Images, ports, mounts, environment, DNS, aliases and healthchecks are the specs'.
 * - Generated files (chasquid.conf, dovecot.conf, the hook) are written next
 *   to the compose file and bind-mounted read-only, by absolute path, so
 *   the file also works for `docker stack deploy` on the node that has them
 *   (docker-compose 1.x ignores `configs`). Directories the specs create on
 *   a volume (a domain's directory) are put there by `mailctl compose` itself.
 * - Volumes are `external`, with mailctl's names: `mailctl compose` creates
 *   them, so `docker-compose down -v` never removes data, and
 *   `mailctl backup`, `add-user` and `status` work on either kind of stack.
 * - Labels carry mailctl's config hash: `mailctl up` sees these containers as
 *   up to date, so both tools can run the same stack.
 */
import { posix } from 'node:path';
import { projectLabels, LABEL } from './labels.js';
import { configHash, encodeAspects, type Aspects } from './hash.js';
import { publishedAddresses } from './listen.js';
import type { FileSpec, ServiceSpec } from './types.js';
import { runTmpfs } from './tmpfs.js';

export const COMPOSE_VERSION = '3.8';

export interface ComposeInputs {
  project: string;
  network: string;
  subnet?: string;
  specs: readonly { spec: ServiceSpec; aspects: Aspects }[];
  /** Where the config files are written: an absolute path. */
  filesDir: string;
}

export interface ComposeOutput {
  document: Record<string, unknown>;
  /** Files to write: path relative to filesDir. */
  files: { path: string; content: string; mode: number }[];
  /**
   * Directories and files the specs keep on volumes, by service: written by a
   * helper of the service's own image with its own mounts, so a new volume is
   * first filled from the image (owners included), as `up` does.
   */
  volumeFiles: { spec: ServiceSpec; files: FileSpec[] }[];
}

const seconds = (n: number) => `${n}s`;

export const healthcheckOf = (spec: ServiceSpec) => ({
  test: ['CMD', ...spec.health.test],
  interval: seconds(spec.health.intervalSeconds),
  timeout: seconds(spec.health.timeoutSeconds),
  start_period: seconds(spec.health.startPeriodSeconds),
  retries: spec.health.retries,
});

export const loggingOf = (spec: ServiceSpec) => ({ driver: 'json-file', options: { 'max-size': spec.logs.maxSize, 'max-file': String(spec.logs.maxFiles) } });

/**
 * A spec's files: those on one of its volumes (written there before the
 * start) and the loose ones (generated configuration, mounted from outside).
 * Directories exist only on volumes.
 */
export function splitFiles(spec: ServiceSpec): { onVolumes: FileSpec[]; loose: (FileSpec & { content: string })[] } {
  const onVolumes: FileSpec[] = [];
  const loose: (FileSpec & { content: string })[] = [];
  for (const file of spec.files) {
    if (spec.mounts.some((m) => m.volume && (file.path === m.target || file.path.startsWith(`${m.target}/`)))) onVolumes.push(file);
    else if (file.content === undefined) throw new Error(`${spec.name}: directory ${file.path} is not on a volume`);
    else loose.push({ ...file, content: file.content });
  }
  return { onVolumes, loose };
}

export function composeDocument(inputs: ComposeInputs): ComposeOutput {
  const services: Record<string, unknown> = {};
  const volumes: Record<string, unknown> = {};
  const files: ComposeOutput['files'] = [];
  const volumeFiles: ComposeOutput['volumeFiles'] = [];

  for (const { spec, aspects } of inputs.specs) {
    const { onVolumes, loose } = splitFiles(spec);
    const binds = loose.map((file) => {
      const path = `${spec.service}${file.path}`;
      files.push({ path, content: file.content, mode: file.mode });
      return { type: 'bind', source: posix.join(inputs.filesDir, path), target: file.path, read_only: true };
    });
    if (onVolumes.length) volumeFiles.push({ spec, files: onVolumes });
    for (const m of spec.mounts) if (m.volume) volumes[m.volume] = { external: true, name: m.volume };

    const published = spec.hostNetwork ? [] : spec.ports.flatMap((p) => publishedAddresses(p.binds).map((a) => `${a.includes(':') ? `[${a}]` : a}:${p.host}:${p.container}`));
    services[spec.service] = {
      image: spec.image,
      container_name: spec.name,
      ...(spec.hostNetwork ? { network_mode: 'host' } : { hostname: spec.service }),
      cap_drop: ['ALL'],
      ...(spec.privileges.capabilities.length ? { cap_add: [...spec.privileges.capabilities] } : {}),
      ...(spec.privileges.noNewPrivileges ? { security_opt: ['no-new-privileges:true'] } : {}),
      mem_limit: spec.limits.memoryBytes,
      memswap_limit: spec.limits.memoryBytes,
      pids_limit: spec.limits.pids,
      ...(spec.init ? { init: true } : {}),
      ...(spec.sysctls ? { sysctls: { ...spec.sysctls } } : {}),
      ...(spec.readOnlyRoot ? { read_only: true, tmpfs: [`/run:${runTmpfs(spec)}`] } : {}),
      restart: 'unless-stopped',
      logging: loggingOf(spec),
      ...(Object.keys(spec.env).length ? { environment: { ...spec.env } } : {}),
      ...(published.length ? { ports: published } : {}),
      volumes: [
        ...spec.mounts.map((m) => ({
          type: m.bind ? 'bind' : 'volume',
          source: m.bind ?? m.volume,
          target: m.target,
          ...(m.readOnly ? { read_only: true } : {}),
        })),
        ...binds,
      ],
      ...(spec.dns.length ? { dns: [...spec.dns] } : {}),
      ...(spec.hostNetwork ? {} : { networks: { default: spec.networkAliases.length ? { aliases: [...spec.networkAliases] } : null } }),
      healthcheck: healthcheckOf(spec),
      labels: {
        ...projectLabels(inputs.project, spec.service),
        [LABEL.configHash]: configHash(aspects),
        [LABEL.aspects]: encodeAspects(aspects),
      },
      // chasquid authenticates and delivers through dovecot's sockets.
      ...(spec.service === 'chasquid' ? { depends_on: ['dovecot'] } : {}),
    };
  }

  const document: Record<string, unknown> = {
    version: COMPOSE_VERSION,
    services,
    // Not external: `docker-compose up` makes it when `mailctl down` has removed it.
    networks: {
      default: {
        name: inputs.network,
        labels: projectLabels(inputs.project),
        ...(inputs.subnet ? { ipam: { config: [{ subnet: inputs.subnet }] } } : {}),
      },
    },
    volumes,
  };
  return { document, files, volumeFiles };
}
