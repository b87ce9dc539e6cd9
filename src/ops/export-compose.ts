/**
 * `mailctl compose [-o FILE]`: the stack as a compose file. What compose
 * cannot do by itself is done here, on this engine: the images are built, the
 * network and volumes made, the certificate installed, and the directories
 * the specs keep on volumes created. After that `docker-compose up -d` runs
 * the same stack `mailctl up` would.
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
import { desiredStack, ensureStackObjects } from '../stack/desired.js';

export interface ComposeResult {
  /** The compose file, or undefined when printed. */
  file?: string;
  yaml: string;
  filesDir: string;
  services: string[];
}

const volumeMounts = (spec: ServiceSpec) =>
  spec.mounts.flatMap((m) => (m.volume ? [{ volume: m.volume, target: m.target, readOnly: m.readOnly }] : []));

export async function exportCompose(docker: Engine, config: Config, options: { output?: string }, progress: Progress): Promise<ComposeResult> {
  return withProjectLock(config.project, 'compose', (line) => progress.step(line), () => prepareCompose(docker, config, options, progress));
}

async function prepareCompose(docker: Engine, config: Config, options: { output?: string }, progress: Progress): Promise<ComposeResult> {
  const stack = await desiredStack(docker, config, progress);
  const network = await ensureStackObjects(docker, config, stack, progress);
  const cert = startingCertificate(config);
  if (await installCertificate(docker, config, stack.images.dovecot.ref, cert.pair, cert.placeholder)) {
    progress.step(`installed the certificate for ${config.hostname}`);
  }

  const filesDir = join(options.output ? dirname(options.output) : config.siteDir, `${config.project}-files`);
  const out = composeDocument({ project: config.project, network, subnet: config.subnet, specs: stack.desired, filesDir });

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
    writeAtomic(path, file.content, file.mode);
    // Bind-mounted: the container sees the host file's mode (writeAtomic's is masked by the umask).
    chmodSync(path, file.mode);
  }
  const yaml = `# Made by \`mailctl compose\` for ${config.project} (${config.hostname}); regenerate rather than edit.\n` +
    `# Network, volumes and the certificate were prepared on this engine by mailctl.\n${loadYaml().stringify(out.document, { lineWidth: 0 })}`;
  if (options.output) writeAtomic(options.output, yaml, 0o644);
  return { file: options.output, yaml, filesDir, services: stack.desired.map((d) => d.spec.service) };
}
