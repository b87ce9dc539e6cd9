/**
 * The stack as a Docker Swarm stack file (`docker stack deploy -c`), made
 * from the same service specs `up` applies. Pure: specs in, a document and
 * the Swarm configs it references out.
 *
 * What differs from the compose file, and why:
 * - chasquid and dovecot join the `host` network, as `up` runs them: they
 *   listen on MAIL_BIND themselves and see every client's own address (the
 *   edge design); the web service publishes its ports in `mode: host`, never
 *   through Swarm's ingress mesh, which would hide the client.
 * - The other services share an attachable overlay network (one of the
 *   stack's own, beside `up`'s bridge), so a test or an ACME server can join it.
 * - Generated files are Swarm configs whose names carry a hash of their
 *   content: a changed file is a new config, which rolls only its service.
 * - Every service is pinned to the node labelled as holding this project's
 *   volumes (SWARM_NODE_LABEL): the volumes are local to that node.
 * - Updates and restarts are stop-first, one task at a time: two chasquids on
 *   one queue would send each message twice, and two dovecots on one mailbox
 *   index risk it. chasquid writes a message to its queue (fsync) before it
 *   answers 250, so a stopped task loses nothing it accepted; a sender meets
 *   a refused connection for the gap, and retries.
 */
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { healthcheckOf, loggingOf, splitFiles } from './compose-file.js';
import { LABEL, projectLabels } from './labels.js';
import type { FileSpec, ServiceSpec } from './types.js';

/** The node label that pins a project's services to the node that holds its volumes: `docker node update --label-add <this>=true`. */
export const swarmNodeLabel = (project: string) => `dev.mailctl.data.${project}`;
/** The stack's overlay network: not `up`'s bridge (`<project>-net`), which may exist beside it. */
/** 3.9: the first stack file version with a process limit (deploy.resources.limits.pids). */
export const SWARM_FILE_VERSION = '3.9';
export const swarmNetworkName = (project: string) => `${project}-swarm`;

export interface SwarmInputs {
  project: string;
  specs: readonly ServiceSpec[];
  /** Image ids by reference: a rebuilt image keeps its tag, and its id in a label makes its services roll. */
  imageIds?: Record<string, string>;
  /** Where the config files are written: an absolute path (read by `docker stack deploy` on the manager only). */
  filesDir: string;
}

export interface SwarmOutput {
  document: Record<string, unknown>;
  /** Config files to write, path relative to filesDir. */
  files: { path: string; content: string }[];
  /** What the specs keep on volumes, by service: written by mailctl before the deploy, as for compose. */
  volumeFiles: { spec: ServiceSpec; files: FileSpec[] }[];
  /** Settings Swarm cannot express, said once to the user. */
  notes: string[];
}

/** How Swarm replaces a task: see the header. `monitor` covers the health start period of the mail daemons. */
const UPDATE = { parallelism: 1, order: 'stop-first', failure_action: 'rollback', monitor: '30s' } as const;
const ROLLBACK = { parallelism: 1, order: 'stop-first' } as const;
const RESTART = { condition: 'any', delay: '5s', window: '120s' } as const;

/** A config's name: Swarm's configs are immutable, so new content is a new name. At most 64 characters. */
export function configName(project: string, service: string, path: string, content: string): string {
  const hash = createHash('sha256').update(content).digest('hex').slice(0, 12);
  // The file and its directory: chasquid has two chasquid.conf (port 25's and submission's).
  const file = path.split('/').filter(Boolean).slice(-2).join('-').replace(/[^A-Za-z0-9_.-]/g, '-');
  return `${project}-${service}-${file}`.slice(0, 64 - hash.length - 1).replace(/[-.]+$/, '') + `-${hash}`;
}

export function swarmDocument(inputs: SwarmInputs): SwarmOutput {
  const services: Record<string, unknown> = {};
  const volumes: Record<string, unknown> = {};
  const configs: Record<string, unknown> = {};
  const files: SwarmOutput['files'] = [];
  const volumeFiles: SwarmOutput['volumeFiles'] = [];
  const notes = new Set<string>();
  const network = swarmNetworkName(inputs.project);
  let hostNetwork = false;

  for (const spec of inputs.specs) {
    const { onVolumes, loose } = splitFiles(spec);
    if (onVolumes.length) volumeFiles.push({ spec, files: onVolumes });
    const serviceConfigs = loose.map((file) => {
      const key = `${spec.service}${file.path}`.replace(/[^A-Za-z0-9_.-]/g, '_');
      const name = configName(inputs.project, spec.service, file.path, file.content);
      // Named by content too: a stack file written earlier still finds its own content (Swarm would store what the path holds at deploy time under the old name).
      const path = `${spec.service}/${name}`;
      files.push({ path, content: file.content });
      configs[key] = { name, file: posix.join(inputs.filesDir, path) };
      // A config is read-only in the container whatever its mode; executable bits are kept.
      return { source: key, target: file.path, mode: file.mode & 0o555 };
    });
    for (const m of spec.mounts) if (m.volume) volumes[m.volume] = { external: true, name: m.volume };
    if (spec.hostNetwork) hostNetwork = true;

    const ports = spec.hostNetwork ? [] : spec.ports.map((p) => ({ target: p.container, published: p.host, protocol: 'tcp', mode: 'host' }));
    if (ports.length && spec.ports.some((p) => p.binds.some((b) => b !== '0.0.0.0' && b !== '::'))) {
      notes.add(`Swarm publishes ${spec.service}'s ports on every address of the node (it has no host address for a published port): MAIL_BIND applies to chasquid and dovecot only`);
    }
    // A stack file's tmpfs takes only a size, and Swarm makes it root's (0755): a service that runs
    // as its own user (web) keeps a writable root instead, whose /run its image gives to that user.
    const readOnly = spec.readOnlyRoot && !spec.runOwner;
    if (spec.readOnlyRoot && !readOnly) notes.add(`${spec.service}'s root filesystem is writable on Swarm (a stack file cannot give its user a tmpfs /run); it runs as its own user, with no capability`);
    if (spec.privileges.noNewPrivileges) notes.add('no-new-privileges is not a Swarm service setting on this engine (API 1.41): the services run without it; capabilities are still dropped');

    services[spec.service] = {
      image: spec.image,
      ...(spec.hostNetwork ? {} : { hostname: spec.service }),
      cap_drop: ['ALL'],
      ...(spec.privileges.capabilities.length ? { cap_add: [...spec.privileges.capabilities] } : {}),
      ...(spec.init ? { init: true } : {}),
      ...(spec.sysctls ? { sysctls: { ...spec.sysctls } } : {}),
      ...(readOnly ? { read_only: true } : {}),
      ...(Object.keys(spec.env).length ? { environment: { ...spec.env } } : {}),
      ...(ports.length ? { ports } : {}),
      volumes: [
        ...spec.mounts.map((m) => ({ type: m.bind ? 'bind' : 'volume', source: m.bind ?? m.volume, target: m.target, ...(m.readOnly ? { read_only: true } : {}) })),
        ...(readOnly ? [{ type: 'tmpfs', target: '/run', tmpfs: { size: 1 << 20 } }] : []),
      ],
      ...(serviceConfigs.length ? { configs: serviceConfigs } : {}),
      ...(spec.dns.length ? { dns: [...spec.dns] } : {}),
      networks: spec.hostNetwork ? { hostnet: {} } : { default: spec.networkAliases.length ? { aliases: [...spec.networkAliases] } : {} },
      healthcheck: healthcheckOf(spec),
      logging: loggingOf(spec),
      // Container labels: `add-user`, `status`, `backup` and `doctor` find the task's container by them.
      labels: { ...projectLabels(inputs.project, spec.service), ...(inputs.imageIds?.[spec.image] ? { [LABEL.imageId]: inputs.imageIds[spec.image] } : {}) },
      stop_grace_period: '10s',
      deploy: {
        mode: 'replicated',
        replicas: 1,
        // Names on the overlay resolve to the task itself: a service VIP (IPVS) was found unreachable from a container attached to the network (an ACME server's http-01).
        ...(spec.hostNetwork ? {} : { endpoint_mode: 'dnsrr' }),
        labels: projectLabels(inputs.project, spec.service),
        placement: { constraints: [`node.labels.${swarmNodeLabel(inputs.project)} == true`] },
        resources: { limits: { memory: String(spec.limits.memoryBytes), pids: spec.limits.pids } },
        restart_policy: RESTART,
        update_config: UPDATE,
        rollback_config: ROLLBACK,
      },
    };
  }

  const document: Record<string, unknown> = {
    version: SWARM_FILE_VERSION,
    services,
    networks: {
      default: { name: network, driver: 'overlay', attachable: true, labels: projectLabels(inputs.project) },
      ...(hostNetwork ? { hostnet: { external: true, name: 'host' } } : {}),
    },
    volumes,
    ...(Object.keys(configs).length ? { configs } : {}),
  };
  return { document, files, volumeFiles, notes: [...notes] };
}
