/** `mailctl build`: make the images that are missing (or all, with noCache). */
import { ensureBaseImage } from './base-image.js';
import type { Config } from './config.js';
import { buildImage, imageId } from './docker/build.js';
import type { Engine } from './docker/engine.js';
import { contextDir, contextHash, imageRef, readContext, SERVICES, type ImageName } from './images.js';
import type { Progress } from './progress.js';
import { bundledFiles } from './bundles.js';

export interface BuiltImage {
  name: ImageName;
  ref: string;
  id: string;
  /** False when an image for this exact context and base already existed. */
  built: boolean;
  seconds: number;
}

export interface BuildOptions {
  names?: readonly ImageName[];
  noCache?: boolean;
}

export async function buildImages(docker: Engine, config: Config, options: BuildOptions, progress: Progress): Promise<BuiltImage[]> {
  const baseId = await ensureBaseImage(docker, config, progress, options.noCache);
  const results: BuiltImage[] = [];
  for (const name of options.names ?? SERVICES) {
    const started = Date.now();
    const dir = contextDir(name, config.imagesDir);
    const generated = await bundledFiles(name);
    const hash = contextHash([...readContext(dir), ...generated], baseId);
    const ref = imageRef(name, hash);
    const existing = options.noCache ? undefined : await imageId(docker, ref);
    if (existing) {
      results.push({ name, ref, id: existing, built: false, seconds: (Date.now() - started) / 1000 });
      continue;
    }
    progress.step(`building ${ref}`);
    const id = await buildImage(
      docker,
      { name, dir, generated, ref, contextHash: hash, buildArgs: { BASE_IMAGE: config.baseImage, DEBIAN_MIRROR: config.debianMirror }, noCache: options.noCache },
      (line) => {
        if (/^Step \d+\/\d+/.test(line)) progress.step(`  ${name}: ${line.slice(0, 160)}`);
        else progress.detail(`${name}: ${line}`);
      },
    );
    results.push({ name, ref, id, built: true, seconds: (Date.now() - started) / 1000 });
  }
  return results;
}
