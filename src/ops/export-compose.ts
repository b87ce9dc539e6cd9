/**
 * `mailctl compose [-o FILE]`: the stack as a compose file. What compose
 * cannot do by itself is done here, on this engine: the images are built, the
 * network and volumes made, the certificate installed, and the directories
 * the specs keep on volumes created. After that `docker-compose up -d` runs
 * the same stack `mailctl up` would. With `--swarm`, a stack file for
 * `docker stack deploy` (src/model/swarm-file.ts), pinned to this node.
 */
import { chmodSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type Yaml from 'yaml';
import { lazy } from '../core/lazy.js';

const loadYaml = lazy<typeof Yaml>('yaml');
import { installCertificate } from '../certs/install.js';
import { startingCertificate } from '../certs/source.js';
import { composeDocument } from '../model/compose-file.js';
import type { Config } from '../config/config.js';
import { makeDkimKey } from '../accounts/dkim-keys.js';
import { CHASQUID_DOMAINS_DIR } from '../model/layout.js';
import type { ServiceSpec } from '../model/types.js';
import type { Engine } from '../docker/engine.js';
import { withProjectLock } from '../core/project-lock.js';
import { withHelper } from '../docker/helper.js';
import { writeAtomic } from '../core/files.js';
import type { Progress } from '../core/progress.js';
import { desiredStack, ensureStackObjects, ensureStackVolumes } from '../stack/desired.js';
import { swarmDocument, swarmNodeLabel } from '../model/swarm-file.js';
import { labelDataNode, refreshRunningSwarm, swarmManager } from './swarm.js';
import { refuseOnSwarm } from '../runtime/running.js';

export interface ComposeResult {
  /** The compose file, or undefined when printed. */
  file?: string;
  yaml: string;
  filesDir: string;
  services: string[];
  /** A Swarm stack file (`--swarm`): the node label that pins it, and what Swarm cannot express. */
  swarm?: { nodeLabel: string; notes: string[] };
}

export interface ComposeOptions {
  output?: string;
  /** A stack file for `docker stack deploy` instead of a compose file. */
  swarm?: boolean;
  /** Rebuild the images with current Debian packages (an upgrade). */
  noCache?: boolean;
}

const volumeMounts = (spec: ServiceSpec) =>
  spec.mounts.flatMap((m) => (m.volume ? [{ volume: m.volume, target: m.target, readOnly: m.readOnly }] : []));

/** Where the config files go: next to the file (or in the site directory when it is printed). */
export const composeFilesDir = (dir: string, project: string, swarm?: boolean) => join(dir, `${project}-${swarm ? 'swarm-' : ''}files`);

export async function exportCompose(docker: Engine, config: Config, options: ComposeOptions, progress: Progress): Promise<ComposeResult> {
  return withProjectLock(config.project, 'compose', (line) => progress.step(line), () => prepareCompose(docker, config, options, progress));
}

async function prepareCompose(docker: Engine, config: Config, options: ComposeOptions, progress: Progress): Promise<ComposeResult> {
  const node = options.swarm ? await swarmManager(docker, config) : undefined;
  // A docker-compose file for a project Swarm runs would start a second stack on its volumes.
  if (!node) await refuseOnSwarm(docker, config, 'compose');
  const stack = await desiredStack(docker, config, progress, { noCache: options.noCache });
  const network = node ? undefined : await ensureStackObjects(docker, config, stack, progress);
  if (node) await ensureStackVolumes(docker, config, stack, progress);
  const cert = startingCertificate(config);
  const newCertificate = await installCertificate(docker, config, stack.images.dovecot.ref, cert.pair, cert.placeholder);
  if (newCertificate) progress.step(`installed the certificate for ${config.hostname}`);

  const filesDir = composeFilesDir(options.output ? dirname(options.output) : config.siteDir, config.project, options.swarm);
  const specs = stack.desired.map((d) => d.spec);
  const out = node
    ? swarmDocument({ project: config.project, specs, filesDir, imageIds: Object.fromEntries(Object.values(stack.images).map((i) => [i.ref, i.id])) })
    : composeDocument({ project: config.project, network: network!, subnet: config.subnet, specs: stack.desired, filesDir });

  for (const { spec, files } of out.volumeFiles) {
    await withHelper(docker, { image: spec.image, project: config.project, mounts: volumeMounts(spec), start: spec.service === 'chasquid' }, async (helper) => {
      await helper.putFiles(files);
      // `up` makes the DKIM keys once chasquid runs; compose cannot, so they are made here.
      if (spec.service !== 'chasquid') return;
      for (const domain of await helper.listDir(CHASQUID_DOMAINS_DIR)) {
        if (await makeDkimKey(helper, config, domain)) progress.step(`made the DKIM key of ${domain}`);
      }
    });
  }
  for (const file of out.files) {
    const path = join(filesDir, file.path);
    mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
    // Bind-mounted (compose): the container sees the host file's mode (writeAtomic's is masked by the umask).
    // Swarm configs: read once by `docker stack deploy`, which sets the mode itself.
    const mode = 'mode' in file ? file.mode : 0o644;
    writeAtomic(path, file.content, mode);
    chmodSync(path, mode);
  }
  let swarm: ComposeResult['swarm'];
  if (node) {
    const nodeLabel = await labelDataNode(docker, config, node, progress);
    await refreshRunningSwarm(docker, config, newCertificate, progress);
    const notes = 'notes' in out ? out.notes : [];
    if (config.abuse.bans.enabled) notes.push('the guard (MAIL_BAN) is not part of a Swarm stack: it reads the mail containers\' log files, whose paths Swarm makes per task (README: Docker Swarm)');
    swarm = { nodeLabel, notes };
  }
  const how = node
    ? `# Deploy on this Swarm's manager: docker stack deploy --resolve-image never -c <this file> ${config.project}\n` +
      `# Volumes and the certificate were prepared on this node (labelled ${swarmNodeLabel(config.project)}=true) by mailctl.\n`
    : '# Network, volumes and the certificate were prepared on this engine by mailctl.\n';
  const yaml = `# Made by \`mailctl compose${node ? ' --swarm' : ''}\` for ${config.project} (${config.hostname}); regenerate rather than edit.\n` +
    `${how}${loadYaml().stringify(out.document, { lineWidth: 0, aliasDuplicateObjects: false })}`;
  if (options.output) writeAtomic(options.output, yaml, 0o644);
  return { file: options.output, yaml, filesDir, services: specs.map((s) => s.service), ...(swarm ? { swarm } : {}) };
}
