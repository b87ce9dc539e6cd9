/** Files in and out of containers (and their volumes) as tar archives. */
import { pack, extract } from 'tar-stream';
import type { Container } from 'dockerode';
import type { FileSpec } from '../spec/types.js';
import { orAbsent } from './engine.js';

/** A tar archive of files and directories, with owners and modes as given. */
export function tarOf(files: readonly FileSpec[]): Promise<Buffer> {
  const archive = pack();
  for (const file of files) {
    const name = file.path.replace(/^\/+/, '');
    const header = { name, mode: file.mode, uid: file.uid ?? 0, gid: file.gid ?? 0, mtime: new Date() };
    if (file.content === undefined) archive.entry({ ...header, type: 'directory' });
    else archive.entry(header, file.content);
  }
  archive.finalize();
  const chunks: Buffer[] = [];
  return new Promise((resolve, reject) => {
    archive.on('data', (c) => chunks.push(c as Buffer));
    archive.on('end', () => resolve(Buffer.concat(chunks)));
    archive.on('error', reject);
  });
}

/**
 * Put files into a container (created or running), relative to / or, for a
 * read-only root (which the engine refuses an archive at /), relative to the
 * volume they are on: `under` is its mount point.
 */
export async function putFiles(container: Container, files: readonly FileSpec[], under?: string): Promise<void> {
  const inside = under ? files.filter((f) => f.path.startsWith(`${under}/`)).map((f) => ({ ...f, path: f.path.slice(under.length + 1) })) : files;
  if (inside.length === 0) return;
  await container.putArchive(await tarOf(inside), { path: under ?? '/' });
}

/** Read one file from a container; undefined when it does not exist. */
export async function readFile(container: Container, path: string): Promise<Buffer | undefined> {
  const stream = await orAbsent(container.getArchive({ path }));
  if (!stream) return undefined;
  return new Promise((resolve, reject) => {
    const unpack = extract();
    let content: Buffer | undefined;
    unpack.on('entry', (header, entryStream, next) => {
      const chunks: Buffer[] = [];
      entryStream.on('data', (c) => chunks.push(c as Buffer));
      entryStream.on('end', () => {
        if (header.type === 'file' && content === undefined) content = Buffer.concat(chunks);
        next();
      });
      entryStream.resume();
    });
    unpack.on('finish', () => resolve(content));
    unpack.on('error', reject);
    stream.pipe(unpack);
  });
}

/** Names of the entries directly under a directory of a container. */
export async function listDir(container: Container, path: string): Promise<string[]> {
  const stream = await orAbsent(container.getArchive({ path }));
  if (!stream) return [];
  const base = path.replace(/\/+$/, '').split('/').pop()!;
  return new Promise((resolve, reject) => {
    const names = new Set<string>();
    const unpack = extract();
    unpack.on('entry', (header, entryStream, next) => {
      const parts = header.name.replace(/\/+$/, '').split('/');
      if (parts[0] === base && parts.length === 2) names.add(parts[1]);
      entryStream.on('end', next);
      entryStream.resume();
    });
    unpack.on('finish', () => resolve([...names].sort()));
    unpack.on('error', reject);
    stream.pipe(unpack);
  });
}
