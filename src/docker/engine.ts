/**
 * The Docker engine connection, and the one place engine errors are mapped.
 * Only files under src/docker/ import dockerode.
 */
import Docker from 'dockerode';
import { OperationalError } from '../errors.js';

export type Engine = Docker;
export type { Container } from 'dockerode';

/** Connect (dockerode honours DOCKER_HOST) and check the engine answers. */
export async function connectEngine(): Promise<Engine> {
  const docker = new Docker();
  try {
    await withTimeout(docker.ping(), 5000);
  } catch (err) {
    const where = process.env.DOCKER_HOST ?? '/var/run/docker.sock';
    throw new OperationalError(
      `no Docker engine answers at ${where} (${shortReason(err)}): start it with \`make engine\` ` +
        '(installs and starts Debian\'s docker.io as root) or `systemctl start docker`',
    );
  }
  return docker;
}

/** HTTP status of an engine error: 304 not modified, 404 missing, 409 conflict. */
export function statusOf(err: unknown): number | undefined {
  return (err as { statusCode?: number } | null)?.statusCode;
}

export const isNotFound = (err: unknown) => statusOf(err) === 404;
export const isNotModified = (err: unknown) => statusOf(err) === 304;
export const isConflict = (err: unknown) => statusOf(err) === 409;

/** Run an engine call where 404 means "absent": returns undefined instead of throwing. */
export async function orAbsent<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return await call;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** Run an engine call where 304 (already started / stopped) is success. */
export async function ignoreNotModified(call: Promise<unknown>): Promise<void> {
  try {
    await call;
  } catch (err) {
    if (!isNotModified(err)) throw err;
  }
}

/** The engine's own message, without dockerode's "(HTTP code 500) server error -" prefix. */
export function shortReason(err: unknown): string {
  const e = err as { json?: { message?: string }; message?: string; code?: string };
  return (e?.json?.message ?? e?.message ?? e?.code ?? String(err)).replace(/^\(HTTP code \d+\)[^-]*- /, '').trim();
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer within ${ms / 1000}s`)), ms);
    promise.then(
      (v) => { clearTimeout(timer); resolve(v); },
      (e) => { clearTimeout(timer); reject(e); },
    );
  });
}
