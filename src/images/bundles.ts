/**
 * Our own code that runs inside images (the sidecar's restart hook, the Docker
 * API proxy), bundled by esbuild into one file each at build time and added to
 * the build context, so images carry no node_modules and the context hash
 * covers the code.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ContextFile, ImageName } from './context.js';
import { PACKAGE_ROOT } from '../core/paths.js';

/**
 * Bundling takes esbuild a few hundred ms a run, and every `up` needs the
 * bundles' hashes: the output is kept under node_modules/.cache, keyed by
 * every source file and esbuild's version, so an unchanged tree is bundled once.
 */
const CACHE_DIR = join(PACKAGE_ROOT, 'node_modules', '.cache', 'mailctl-bundles');
let sourceKey: string | undefined;

function sourcesHash(): string {
  if (sourceKey) return sourceKey;
  const hash = createHash('sha256');
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const full = join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else if (e.name.endsWith('.ts')) hash.update(`${full}\0`).update(readFileSync(full));
    }
  };
  walk(join(PACKAGE_ROOT, 'src'));
  hash.update(readFileSync(join(PACKAGE_ROOT, 'package-lock.json')));
  return (sourceKey = hash.digest('hex').slice(0, 32));
}

function cached(out: string, make: () => Promise<Buffer>): Promise<Buffer> {
  let path: string;
  try {
    path = join(CACHE_DIR, `${sourcesHash()}-${out}`);
    return Promise.resolve(readFileSync(path));
  } catch {
    return make().then((content) => {
      try {
        if (!path) return content;
        mkdirSync(CACHE_DIR, { recursive: true });
        // Whole or not at all: a name of its own, then renamed into place.
        const tmp = `${path}.${process.pid}.tmp`;
        writeFileSync(tmp, content);
        renameSync(tmp, path);
      } catch {
        // A read-only install: bundle every time.
      }
      return content;
    });
  }
}

const BUNDLES: Partial<Record<ImageName, { entry: string; out: string }[]>> = {
  certbot: [{ entry: 'src/sidecar/restart-mail.ts', out: 'mailctl-restart-mail.cjs' }],
  dockerproxy: [{ entry: 'src/sidecar/docker-proxy.ts', out: 'mailctl-docker-proxy.cjs' }],
  guard: [{ entry: 'src/sidecar/guard.ts', out: 'mailctl-guard.cjs' }],
};

export async function bundledFiles(name: ImageName): Promise<ContextFile[]> {
  const files: ContextFile[] = [];
  for (const bundle of BUNDLES[name] ?? []) {
    const content = await cached(bundle.out, async () => {
      const { build } = await import('esbuild');
      const result = await build({
        entryPoints: [join(PACKAGE_ROOT, bundle.entry)],
        bundle: true,
        platform: 'node',
        format: 'cjs',
        target: 'node20',
        minify: true,
        write: false,
        logLevel: 'silent',
        // ssh2's optional native parts: not used (we speak HTTP to the proxy or the socket).
        external: ['cpu-features', '*.node'],
      });
      return Buffer.from(result.outputFiles[0].contents);
    });
    files.push({ path: bundle.out, executable: false, content });
  }
  return files;
}
