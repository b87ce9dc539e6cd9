/** Host files mailctl writes: never half of one. */
import { renameSync, writeFileSync } from 'node:fs';

/** Write a file by temp name + rename, so a crash never leaves half of it. */
export function writeAtomic(path: string, content: string | Buffer, mode: number): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, content, { mode });
  renameSync(tmp, path);
}
