/**
 * What mailctl asks of a container engine: this interface and nothing else.
 * `dockerode-engine.ts` is the real one (the only file that imports dockerode);
 * the tests' `test/helpers/fake-engine.ts` keeps containers, volumes and
 * networks in memory. Calls reject with the engine's HTTP status in
 * `statusCode` (404 missing, 409 conflict), which `orAbsent` and friends read.
 */
import type { ContainerCreateOptions, ContainerInspectInfo } from 'dockerode';
import type { FileSpec } from '../model/types.js';

export type { ContainerCreateOptions, ContainerInspectInfo };

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** One container of this project, as a listing shows it. */
export interface ContainerSummary {
  id: string;
  name: string;
  state: string;
  labels: Record<string, string>;
}

/** A container, by name or id. Nothing is asked of the engine until a method is called. */
export interface ContainerHandle {
  readonly ref: string;
  /** undefined when there is no such container. */
  inspect(): Promise<ContainerInspectInfo | undefined>;
  /** Already running is fine. */
  start(): Promise<void>;
  /** Already stopped is fine. */
  stop(timeoutSeconds?: number): Promise<void>;
  restart(timeoutSeconds?: number): Promise<void>;
  signal(signal: string): Promise<void>;
  rename(name: string): Promise<void>;
  /** Remove at once (killed if running); one already gone is fine. */
  remove(): Promise<void>;
  pause(): Promise<void>;
  unpause(): Promise<void>;
  /** stdout and stderr as text, interleaved as written. */
  logs(tail: number | 'all'): Promise<string>;
  /** Copy the logs to the two streams until the container stops. */
  followLogs(tail: number | undefined, stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream): Promise<void>;
  /** A secret goes on stdin, never in the command: exec inspect would show it. */
  exec(cmd: readonly string[], options?: { stdin?: string; user?: string }): Promise<ExecResult>;
  /**
   * Run `cmd` with stdin held open until `release()` (a lock held by a command
   * in the container); resolves once it prints `readyLine`. If this process
   * dies, the engine closes stdin and the command ends.
   */
  hold(cmd: readonly string[], readyLine: string): Promise<{ release(): Promise<void> }>;
  /**
   * Files relative to /, or, with `under` (a volume's mount point in a read-only
   * root, where the engine refuses an archive at /), those below it, put there.
   */
  putFiles(files: readonly FileSpec[], under?: string): Promise<void>;
  /** A tar archive of the given tar stream's entries, extracted at `path`. */
  putArchive(tar: NodeJS.ReadableStream, path: string): Promise<void>;
  /** undefined when the file does not exist. */
  readFile(path: string): Promise<Buffer | undefined>;
  /** Names directly under a directory; none when it does not exist. */
  listDir(path: string): Promise<string[]>;
  /** A tar stream of a path. */
  archive(path: string): Promise<NodeJS.ReadableStream>;
}

export interface VolumeSummary {
  name: string;
  labels: Record<string, string>;
}

/** A progress line of a build, pull or import. */
export type ProgressLine = (line: string, kind: 'step' | 'detail') => void;

export interface ImageBuild {
  /** The context: a tar stream. */
  context: NodeJS.ReadableStream;
  ref: string;
  buildArgs: Record<string, string>;
  labels: Record<string, string>;
  noCache: boolean;
}

export interface Engine {
  /** Rejects when no engine answers. */
  ping(): Promise<void>;
  /** Every container (running or not) carrying all these labels (`key=value`). */
  listContainers(labels: readonly string[]): Promise<ContainerSummary[]>;
  container(ref: string): ContainerHandle;
  createContainer(options: ContainerCreateOptions): Promise<ContainerHandle>;

  /** The names of the containers attached and its IPv4 subnet; undefined when there is no such network. */
  inspectNetwork(name: string): Promise<{ containers: string[]; subnet?: string } | undefined>;
  createNetwork(name: string, labels: Record<string, string>, subnet?: string): Promise<void>;
  removeNetwork(name: string): Promise<void>;

  volumeExists(name: string): Promise<boolean>;
  createVolume(name: string, labels: Record<string, string>): Promise<void>;
  removeVolume(name: string): Promise<void>;
  listVolumes(labels: readonly string[]): Promise<VolumeSummary[]>;

  /** undefined when the image is not on the engine. */
  imageId(ref: string): Promise<string | undefined>;
  /** This engine's node in a Swarm (undefined when it is in none), and whether it manages the Swarm. */
  swarmNode(): Promise<{ id: string; manager: boolean; labels: Record<string, string>; locked?: boolean } | undefined>;
  /** Swarm services carrying all these labels; none when this engine manages no Swarm. */
  listServices(labels: readonly string[]): Promise<{ id: string; name: string; labels: Record<string, string> }[]>;
  /** Add labels to a Swarm node (a manager's call). */
  labelNode(id: string, labels: Record<string, string>): Promise<void>;
  /**
   * New tasks for a Swarm service, of the same spec (`docker service update
   * --force`): how a Swarm task is restarted. Restarting its container
   * instead makes Swarm start a second task beside the restarted one.
   */
  forceUpdateService(id: string): Promise<void>;

  /** Build and tag; rejects with the failing step's message. Returns the image id. */
  buildImage(build: ImageBuild, onOutput: (line: string) => void): Promise<string | undefined>;
  /** Rejects when no registry answers within `timeoutMs`. */
  pullImage(ref: string, timeoutMs: number, onOutput: (line: string) => void): Promise<void>;
  /** A root filesystem tarball as image `ref`. */
  importImage(tarball: NodeJS.ReadableStream, ref: string, changes: string[]): Promise<void>;
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
