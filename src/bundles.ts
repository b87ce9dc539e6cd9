/**
 * Our own code that runs inside images (the sidecar's restart hook, the Docker
 * API proxy), bundled by esbuild into one file each at build time and added to
 * the build context, so images carry no node_modules and the context hash
 * covers the code.
 */
import { build } from 'esbuild';
import { join } from 'node:path';
import type { ContextFile, ImageName } from './images.js';
import { PACKAGE_ROOT } from './paths.js';

const BUNDLES: Partial<Record<ImageName, { entry: string; out: string }[]>> = {
  certbot: [{ entry: 'src/sidecar/restart-mail.ts', out: 'mailctl-restart-mail.cjs' }],
  dockerproxy: [{ entry: 'src/sidecar/docker-proxy.ts', out: 'mailctl-docker-proxy.cjs' }],
  guard: [{ entry: 'src/sidecar/guard.ts', out: 'mailctl-guard.cjs' }],
};

export async function bundledFiles(name: ImageName): Promise<ContextFile[]> {
  const files: ContextFile[] = [];
  for (const bundle of BUNDLES[name] ?? []) {
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
    files.push({ path: bundle.out, executable: false, content: Buffer.from(result.outputFiles[0].contents) });
  }
  return files;
}
