/**
 * One command that changes a project's containers at a time on this host
 * (`up`, `upgrade`, `down`, `restore`, `compose`): two at once would each
 * replace what the other just made. The lock is a file holding the holder's
 * pid, in a directory only this user can write; a holder that died leaves a
 * file whose pid no longer runs, which the next command takes over.
 */
import { lstatSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OperationalError } from './errors.js';

const WAIT_MS = 15 * 60_000;

function lockDir(): string {
  const uid = process.getuid?.() ?? 0;
  const dir = join(tmpdir(), `mailctl-${uid}`);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = lstatSync(dir);
  // Another local user could have made it first: then it is not ours to trust.
  if (!st.isDirectory() || st.uid !== uid || (st.mode & 0o077) !== 0) {
    throw new OperationalError(`${dir} is not a directory only this user can write: remove it (another user may have made it)`);
  }
  return dir;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

export async function withProjectLock<T>(project: string, what: string, onWait: (line: string) => void, work: () => Promise<T>): Promise<T> {
  const path = join(lockDir(), `${project}.lock`);
  const mine = `${process.pid} ${what}\n`;
  const started = Date.now();
  for (;;) {
    try {
      writeFileSync(path, mine, { flag: 'wx', mode: 0o600 });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const [pid, ...holder] = (readFileSync(path, 'utf8').trim() || '0').split(' ');
    // This process holds it already (restore runs up): no second lock.
    if (Number(pid) === process.pid) return work();
    if (!alive(Number(pid))) {
      rmSync(path, { force: true });
      continue;
    }
    if (Date.now() - started > WAIT_MS) throw new OperationalError(`\`mailctl ${holder.join(' ')}\` (pid ${pid}) has been changing ${project} for over ${WAIT_MS / 60_000} minutes: wait for it, or stop it`);
    onWait(`waiting for \`mailctl ${holder.join(' ')}\` (pid ${pid}), which is changing ${project}`);
    await new Promise((r) => setTimeout(r, 500));
  }
  try {
    return await work();
  } finally {
    if (readFileSync(path, 'utf8') === mine) rmSync(path, { force: true });
  }
}
