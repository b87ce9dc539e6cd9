/**
 * Remote clients with addresses of their own: a network namespace joined to
 * this host by a veth pair, with a benchmarking-range IPv4 (198.18.N.2) and a
 * unique-local IPv6 (fd00:N::2). What a daemon in the host's network sees
 * from there is exactly what it would see from another machine. Needs root.
 */
import { run, type RunResult } from './e2e.js';

export interface RemoteClient {
  name: string;
  v4: string;
  v6: string;
  /** This host's addresses on the link: where the client connects to. */
  hostV4: string;
  hostV6: string;
  /** A command inside the namespace. */
  exec(args: string[], stdin?: string): Promise<RunResult>;
}

async function must(args: string[]): Promise<void> {
  const r = await run('ip', args);
  if (r.code !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim()}`);
}

export async function removeRemoteClient(name: string): Promise<void> {
  await run('ip', ['netns', 'del', name]);
  await run('ip', ['link', 'del', `${name}-h`]);
}

/** Namespace `name` (at most 10 characters) on link N (1-254). */
export async function remoteClient(name: string, n: number): Promise<RemoteClient> {
  await removeRemoteClient(name);
  const hex = n.toString(16);
  const c: RemoteClient = {
    name, v4: `198.18.${n}.2`, v6: `fd00:${hex}::2`, hostV4: `198.18.${n}.1`, hostV6: `fd00:${hex}::1`,
    exec: (args, stdin) => run('ip', ['netns', 'exec', name, ...args], { stdin }),
  };
  await must(['netns', 'add', name]);
  await must(['link', 'add', `${name}-h`, 'type', 'veth', 'peer', 'name', `${name}-c`]);
  await must(['link', 'set', `${name}-c`, 'netns', name]);
  await must(['addr', 'add', `${c.hostV4}/24`, 'dev', `${name}-h`]);
  await must(['-6', 'addr', 'add', `${c.hostV6}/64`, 'dev', `${name}-h`, 'nodad']);
  await must(['link', 'set', `${name}-h`, 'up']);
  for (const args of [
    ['addr', 'add', `${c.v4}/24`, 'dev', `${name}-c`], ['-6', 'addr', 'add', `${c.v6}/64`, 'dev', `${name}-c`, 'nodad'],
    ['link', 'set', `${name}-c`, 'up'], ['link', 'set', 'lo', 'up'],
  ]) await must(['-n', name, ...args]);
  return c;
}
