/**
 * What the engine and the site directory hold now, as far as `up` cares:
 * read only (the base image, the images, the network, the volumes, the
 * containers, the certificate in its volume, the domains' DKIM keys). The
 * plan is made from this; `up --dry-run` stops there, having written nothing.
 */
import type { Config } from '../config/config.js';
import { imageTargets, type ImageTarget } from '../images/build.js';
import { observeProject, projectFilter } from '../docker/containers.js';
import type { Engine } from '../docker/engine.js';
import type { ImageName } from '../images/context.js';
import { CERT_FILE, CHASQUID_DOMAINS_DIR, containerName, DOVECOT_CERTS_DIR, networkName } from '../model/layout.js';
import { selectorOf } from '../dns/dkim.js';
import { senderMapCurrent } from '../accounts/changes.js';
import { neededImages, type MailLogs } from './services.js';
import type { Observed } from './containers.js';

export interface Observation {
  /** undefined: the base image is not on the engine (it will be pulled or made). */
  baseImageId?: string;
  /** The images the configuration needs, with their tags (known only once the base is). */
  targets: ImageTarget[];
  /** Image ids on the engine, by tag. */
  imageIds: Record<string, string>;
  network: boolean;
  /** The network's subnet, when it exists. */
  networkSubnet?: string;
  volumes: string[];
  containers: Observed[];
  /** The certificate in the volume: a PEM, null for none, undefined when it cannot be read without a container. */
  certificatePem?: string | null;
  mailLogs?: MailLogs;
  /** Each served domain and whether it has a DKIM key (only while chasquid runs). */
  dkim?: { domain: string; hasKey: boolean }[];
  /** The served domains (only while chasquid runs: before, the main one is all that is known). */
  domains?: string[];
  /** Whether the sender map is current (only while chasquid and dovecot run). */
  sendersCurrent?: boolean;
}

export async function observeStack(engine: Engine, config: Config): Promise<Observation> {
  const baseImageId = await engine.imageId(config.baseImage);
  const targets = baseImageId ? await imageTargets(config, baseImageId, neededImages(config) as ImageName[]) : [];
  // Independent questions, asked at once: a no-op `up` is mostly this.
  const [ids, containers, volumeList, network, mailLogs] = await Promise.all([
    Promise.all(targets.map(async (t) => [t.ref, await engine.imageId(t.ref)] as const)),
    observeProject(engine, config.project),
    engine.listVolumes(projectFilter(config.project)),
    engine.inspectNetwork(networkName(config.project)),
    mailLogPaths(engine, config),
  ]);
  const imageIds = Object.fromEntries(ids.filter((e): e is readonly [string, string] => e[1] !== undefined));
  const volumes = volumeList.map((v) => v.name);
  const running = (service: string) => containers.some((c) => c.service === service && c.state === 'running');
  const [certificatePem, dkim, sendersCurrent] = await Promise.all([
    certificateInVolume(engine, config, containers, volumes),
    running('chasquid') ? dkimState(engine, config) : undefined,
    running('chasquid') && running('dovecot') ? senderMapCurrent(engine, config) : undefined,
  ]);
  return {
    baseImageId, targets, imageIds, containers, volumes, network: network !== undefined, networkSubnet: network?.subnet,
    certificatePem, mailLogs, dkim, domains: dkim?.map((d) => d.domain), sendersCurrent,
  };
}

async function certificateInVolume(engine: Engine, config: Config, containers: Observed[], volumes: string[]): Promise<string | null | undefined> {
  if (!volumes.includes(`${config.project}-certs`)) return null;
  if (!containers.some((c) => c.service === 'dovecot')) return undefined;
  const pem = await engine.container(containerName(config.project, 'dovecot')).readFile(`${DOVECOT_CERTS_DIR}/${config.hostname}/${CERT_FILE}`);
  return pem?.toString() ?? null;
}

/** The mail containers' json-file logs on the engine's host, when both exist. */
export async function mailLogPaths(engine: Engine, config: Config): Promise<MailLogs | undefined> {
  const paths: Partial<MailLogs> = {};
  for (const service of ['chasquid', 'dovecot'] as const) {
    const info = await engine.container(containerName(config.project, service)).inspect();
    if (!info?.LogPath) return undefined;
    paths[service] = info.LogPath;
  }
  return paths as MailLogs;
}

async function dkimState(engine: Engine, config: Config): Promise<{ domain: string; hasKey: boolean }[]> {
  const chasquid = engine.container(containerName(config.project, 'chasquid'));
  const out = [];
  for (const domain of await chasquid.listDir(CHASQUID_DOMAINS_DIR)) {
    out.push({ domain, hasKey: (await chasquid.listDir(`${CHASQUID_DOMAINS_DIR}/${domain}`)).some((f) => selectorOf(f)) });
  }
  return out;
}
