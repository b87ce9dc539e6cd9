/** `mailctl build`: make the images that are missing (or all, with noCache). */
import { ensureBaseImage } from './base.js';
import type { Config } from '../config/config.js';
import { buildImage } from '../docker/build.js';
import type { Engine } from '../docker/engine.js';
import { contextDir, contextHash, imageRef, readContext, SERVICES, type ContextFile, type ImageName } from './context.js';
import type { Progress } from '../core/progress.js';
import { bundledFiles } from './bundles.js';

export interface BuiltImage {
  name: ImageName;
  ref: string;
  id: string;
  /** False when an image for this exact context and base already existed. */
  built: boolean;
  seconds: number;
}

/** An image as its context says it should be: its tag is known before anything is built. */
export interface ImageTarget {
  name: ImageName;
  ref: string;
  hash: string;
  dir: string;
  generated: ContextFile[];
}

export interface BuildOptions {
  names?: readonly ImageName[];
  noCache?: boolean;
}

/** Reads the contexts (and bundles our code) on a given base: no engine call. */
export async function imageTargets(config: Config, baseId: string, names: readonly ImageName[]): Promise<ImageTarget[]> {
  return Promise.all(names.map(async (name) => {
    const dir = contextDir(name, config.imagesDir);
    const generated = await bundledFiles(name);
    const hash = contextHash([...readContext(dir), ...generated], baseId);
    return { name, ref: imageRef(name, hash), hash, dir, generated };
  }));
}

export async function buildImages(engine: Engine, config: Config, options: BuildOptions, progress: Progress): Promise<BuiltImage[]> {
  const baseId = await ensureBaseImage(engine, config, progress, options.noCache);
  const results: BuiltImage[] = [];
  for (const target of await imageTargets(config, baseId, options.names ?? SERVICES)) {
    results.push(await buildTarget(engine, config, target, options.noCache ?? false, progress));
  }
  return results;
}

/** One image, unless an image for its exact context is already there. */
export async function buildTarget(engine: Engine, config: Config, target: ImageTarget, noCache: boolean, progress: Progress): Promise<BuiltImage> {
  const started = Date.now();
  const { name, ref } = target;
  const existing = noCache ? undefined : await engine.imageId(ref);
  if (existing) return { name, ref, id: existing, built: false, seconds: (Date.now() - started) / 1000 };
  progress.step(`building ${ref}`);
  const id = await buildImage(
    engine,
    { name, dir: target.dir, generated: target.generated, ref, contextHash: target.hash, buildArgs: { BASE_IMAGE: config.baseImage, DEBIAN_MIRROR: config.debianMirror }, noCache },
    (line) => {
      if (/^Step \d+\/\d+/.test(line)) progress.step(`  ${name}: ${line.slice(0, 160)}`);
      else progress.detail(`${name}: ${line}`);
    },
  );
  return { name, ref, id, built: true, seconds: (Date.now() - started) / 1000 };
}
