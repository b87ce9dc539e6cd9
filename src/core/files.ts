/** Host files mailctl writes: never half of one, never through a name another user prepared. */
import { randomBytes } from 'node:crypto';
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/**
 * A temporary name next to `path` that nobody can guess: with exclusive
 * creation (flag 'wx'), a file or link another local user put there first
 * makes the write fail instead of being written through.
 */
export function tempPathFor(path: string, suffix = ''): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(8).toString('hex')}.partial${suffix}`);
}

/** Write a file by exclusive temp name (created with its final mode) + rename, so a crash never leaves half of it. */
export function writeAtomic(path: string, content: string | Buffer, mode: number): void {
  const tmp = tempPathFor(path);
  try {
    writeFileSync(tmp, content, { mode, flag: 'wx' });
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}
