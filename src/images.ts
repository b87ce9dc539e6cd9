/**
 * The images mailctl builds, and how a build context is identified: a hash of
 * every file in images/<service>/ (path, executable bit, content) and the base
 * image's id. The tag is that hash, so an unchanged context is never rebuilt
 * and a changed base (a new debootstrap, a new pull) rebuilds everything.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { IMAGES_DIR } from './paths.js';
import { UsageError } from './errors.js';

export const SERVICES = ['chasquid', 'dovecot', 'certbot', 'dockerproxy', 'spamassassin', 'clamav', 'guard', 'web'] as const;
export type ImageName = (typeof SERVICES)[number];

export interface ContextFile {
  path: string;
  executable: boolean;
  content: Buffer;
}

export function contextDir(name: ImageName, imagesDir = IMAGES_DIR): string {
  return join(imagesDir, name);
}

/** Every file of a build context, sorted by path. */
export function readContext(dir: string): ContextFile[] {
  const files: ContextFile[] = [];
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const full = join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) {
        files.push({
          path: relative(dir, full).split(sep).join('/'),
          executable: (statSync(full).mode & 0o111) !== 0,
          content: readFileSync(full),
        });
      }
    }
  };
  walk(dir);
  return files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Pure: the content hash of a context on a given base image id. */
export function contextHash(files: readonly ContextFile[], baseImageId: string): string {
  const hash = createHash('sha256');
  hash.update(`base ${baseImageId}\n`);
  for (const file of files) {
    hash.update(`${file.path}\0${file.executable ? 'x' : '-'}\0${file.content.length}\0`);
    hash.update(file.content);
  }
  return hash.digest('hex');
}

/** The image reference for a context hash: mailctl/<name>:<first 12 hex digits>. */
export function imageRef(name: ImageName, hash: string): string {
  return `mailctl/${name}:${hash.slice(0, 12)}`;
}

export function parseImageNames(names: readonly string[]): ImageName[] {
  return names.length === 0 ? [...SERVICES] : names.map((n) => {
    if (!(SERVICES as readonly string[]).includes(n)) {
      throw new UsageError(`unknown service "${n}": choose from ${SERVICES.join(', ')}`);
    }
    return n as ImageName;
  });
}
