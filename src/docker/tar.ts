/** Files in and out of containers as tar archives: building one, reading one. */
import type TarStream from 'tar-stream';
import { lazy } from '../core/lazy.js';

const tarStream = lazy<typeof TarStream>('tar-stream');
import type { FileSpec } from '../model/types.js';

/** A tar archive of files and directories, with owners and modes as given. */
export function tarOf(files: readonly FileSpec[]): Promise<Buffer> {
  const archive = tarStream().pack();
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

/** The content of the first regular file of a tar stream. */
export function firstFileOf(stream: NodeJS.ReadableStream): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const unpack = tarStream().extract();
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

/** Names directly under the directory `base` at the top of a tar stream (the engine's archive of a directory). */
export function namesUnder(stream: NodeJS.ReadableStream, base: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const names = new Set<string>();
    const unpack = tarStream().extract();
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
