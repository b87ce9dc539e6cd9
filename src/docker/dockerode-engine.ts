/**
 * The Engine on a real Docker engine, through dockerode: the one file that
 * imports it. dockerode honours DOCKER_HOST.
 */
import { PassThrough } from 'node:stream';
import Docker from 'dockerode';
import type { FileSpec } from '../model/types.js';
import { OperationalError } from '../core/errors.js';
import { ignoreNotModified, isNotFound, orAbsent, shortReason, statusOf, type ContainerHandle, type Engine, type ExecResult, type ImageBuild } from './engine.js';
import { firstFileOf, namesUnder, tarOf } from './tar.js';
import { followStream } from './progress-stream.js';

/** Connect and check the engine answers. */
export async function connectEngine(): Promise<Engine> {
  const engine = new DockerodeEngine(new Docker());
  try {
    await engine.ping();
  } catch (err) {
    const where = process.env.DOCKER_HOST ?? '/var/run/docker.sock';
    throw new OperationalError(
      `no Docker engine answers at ${where} (${shortReason(err)}): start it with \`make engine\` ` +
        '(installs and starts Debian\'s docker.io as root) or `systemctl start docker`',
    );
  }
  return engine;
}

/** The engine at DOCKER_HOST (or the default socket), unchecked: for the sidecars. */
export const dockerAtEnv = (): Engine => new DockerodeEngine(new Docker());

export class DockerodeEngine implements Engine {
  constructor(private readonly docker: Docker) {}

  /** An engine that accepts and never answers is given 5 s; the request is aborted, so nothing keeps the process alive. */
  async ping() {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), 5000);
    try {
      // dockerode passes abortSignal to the request; its types do not say so.
      await (this.docker.ping as (opts: { abortSignal: AbortSignal }) => Promise<unknown>).call(this.docker, { abortSignal: abort.signal });
    } catch (err) {
      throw abort.signal.aborted ? new Error('no answer within 5s') : err;
    } finally {
      clearTimeout(timer);
    }
  }

  async listContainers(labels: readonly string[]) {
    const list = await this.docker.listContainers({ all: true, filters: { label: [...labels] } });
    return list.map((c) => ({ id: c.Id, name: (c.Names[0] ?? '').replace(/^\//, ''), state: c.State, labels: c.Labels ?? {} }));
  }

  container = (ref: string): ContainerHandle => new DockerodeContainer(this.docker, ref);

  async createContainer(options: Docker.ContainerCreateOptions) {
    const created = await this.docker.createContainer(options);
    return this.container(created.id);
  }

  async inspectNetwork(name: string) {
    const info = await orAbsent(this.docker.getNetwork(name).inspect());
    if (!info) return undefined;
    const subnet = (info.IPAM?.Config ?? []).map((c: { Subnet?: string }) => c.Subnet).find((s?: string) => s && !s.includes(':'));
    return { containers: Object.values((info.Containers ?? {}) as Record<string, { Name: string }>).map((c) => c.Name), subnet };
  }

  async createNetwork(name: string, labels: Record<string, string>, subnet?: string) {
    await this.docker.createNetwork({
      Name: name,
      Driver: 'bridge',
      Labels: labels,
      ...(subnet ? { IPAM: { Driver: 'default', Config: [{ Subnet: subnet }] } } : {}),
    });
  }

  removeNetwork = (name: string) => this.docker.getNetwork(name).remove().then(() => undefined);
  volumeExists = async (name: string) => (await orAbsent(this.docker.getVolume(name).inspect())) !== undefined;
  createVolume = (name: string, labels: Record<string, string>) => this.docker.createVolume({ Name: name, Labels: labels }).then(() => undefined);
  removeVolume = (name: string) => this.docker.getVolume(name).remove().then(() => undefined);

  async listVolumes(labels: readonly string[]) {
    const { Volumes } = await this.docker.listVolumes({ filters: { label: [...labels] } });
    return (Volumes ?? []).map((v) => ({ name: v.Name, labels: v.Labels ?? {} }));
  }

  async swarmNode() {
    const info = (await this.docker.info()) as { Swarm?: { NodeID?: string; LocalNodeState?: string; ControlAvailable?: boolean } };
    const id = info.Swarm?.NodeID;
    if (info.Swarm?.LocalNodeState === 'locked') return { id: id ?? '', manager: false, labels: {}, locked: true };
    if (!id || info.Swarm?.LocalNodeState !== 'active') return undefined;
    const manager = info.Swarm?.ControlAvailable === true;
    const labels = manager ? ((await this.docker.getNode(id).inspect()) as { Spec?: { Labels?: Record<string, string> } }).Spec?.Labels ?? {} : {};
    return { id, manager, labels };
  }

  async listServices(labels: readonly string[]) {
    try {
      const list = await this.docker.listServices({ filters: { label: [...labels] } });
      return list.map((s) => ({ id: s.ID ?? '', name: s.Spec?.Name ?? '', labels: s.Spec?.Labels ?? {} }));
    } catch (err) {
      // 503: this engine is in no Swarm, or is a worker (which cannot list services).
      if (statusOf(err) === 503) return [];
      throw err;
    }
  }

  async labelNode(id: string, labels: Record<string, string>) {
    const node = this.docker.getNode(id);
    const info = (await node.inspect()) as { Version: { Index: number }; Spec: { Labels?: Record<string, string> } };
    await node.update({ version: info.Version.Index, ...info.Spec, Labels: { ...(info.Spec.Labels ?? {}), ...labels } });
  }

  async forceUpdateService(id: string) {
    const service = this.docker.getService(id);
    const info = (await service.inspect()) as { Version: { Index: number }; Spec: { TaskTemplate: { ForceUpdate?: number } } };
    const spec = { ...info.Spec, TaskTemplate: { ...info.Spec.TaskTemplate, ForceUpdate: (info.Spec.TaskTemplate.ForceUpdate ?? 0) + 1 } };
    await service.update({ version: info.Version.Index, ...spec });
  }

  imageId = async (ref: string) => (await orAbsent(this.docker.getImage(ref).inspect()))?.Id;

  async buildImage(build: ImageBuild, onOutput: (line: string) => void) {
    let id: string | undefined;
    const stream = await this.docker.buildImage(build.context, {
      t: build.ref,
      buildargs: build.buildArgs,
      labels: build.labels,
      nocache: build.noCache,
      rm: true,
      forcerm: true,
      pull: false,
    } as Record<string, unknown>);
    await followStream(this.docker, stream, (event) => {
      if (event.aux?.ID) id = event.aux.ID;
      for (const line of (event.stream ?? event.status ?? '').split('\n')) if (line.trim() !== '') onOutput(line);
    });
    return id ?? (await this.imageId(build.ref));
  }

  async pullImage(ref: string, timeoutMs: number, onOutput: (line: string) => void) {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    try {
      const stream = await this.docker.pull(ref, { abortSignal: abort.signal });
      await followStream(this.docker, stream, (e) => {
        if (e.status) onOutput(`${e.id ? `${e.id}: ` : ''}${e.status}${e.progress ? ` ${e.progress}` : ''}`);
      });
    } catch (err) {
      throw new Error(abort.signal.aborted ? `no answer within ${timeoutMs / 1000}s` : shortReason(err));
    } finally {
      clearTimeout(timer);
    }
  }

  async importImage(tarball: NodeJS.ReadableStream, ref: string, changes: string[]) {
    const colon = ref.lastIndexOf(':');
    const [repo, tag] = colon > ref.lastIndexOf('/') ? [ref.slice(0, colon), ref.slice(colon + 1)] : [ref, 'latest'];
    const stream = await this.docker.importImage(tarball, { repo, tag, changes } as Record<string, unknown>);
    await followStream(this.docker, stream, () => {});
  }
}

class DockerodeContainer implements ContainerHandle {
  private readonly c: Docker.Container;
  constructor(private readonly docker: Docker, readonly ref: string) {
    this.c = docker.getContainer(ref);
  }

  inspect = () => orAbsent(this.c.inspect());
  start = () => ignoreNotModified(this.c.start());
  stop = (t = 10) => ignoreNotModified(this.c.stop({ t }));
  restart = (t = 10) => this.c.restart({ t }).then(() => undefined);
  signal = (signal: string) => this.c.kill({ signal }).then(() => undefined);
  rename = (name: string) => this.c.rename({ name }).then(() => undefined);
  pause = () => this.c.pause().then(() => undefined);
  unpause = () => this.c.unpause().then(() => undefined);

  remove = () => this.c.remove({ force: true }).catch((e) => { if (!isNotFound(e)) throw e; });

  async logs(tail: number | 'all') {
    const raw = (await this.c.logs({ stdout: true, stderr: true, tail: tail as number, follow: false })) as unknown as Buffer;
    return demuxToText(raw);
  }

  async followLogs(tail: number | undefined, stdout: NodeJS.WritableStream, stderr: NodeJS.WritableStream) {
    const stream = await this.c.logs({ follow: true, stdout: true, stderr: true, ...(tail === undefined ? {} : { tail }) });
    this.docker.modem.demuxStream(stream, stdout, stderr);
    await new Promise<void>((resolve) => stream.on('end', resolve));
  }

  async exec(cmd: readonly string[], options: { stdin?: string; user?: string } = {}): Promise<ExecResult> {
    const { stream, exec, stdout, stderr } = await this.attach(cmd, options.stdin !== undefined, options.user);
    const ended = endOf(stream, true);
    if (options.stdin !== undefined) {
      stream.write(options.stdin);
      // Half-close so the command sees end of input; the socket stays open for its output.
      (stream as unknown as { end(): void }).end();
    }
    await ended;
    const info = await exec.inspect();
    return { exitCode: info.ExitCode ?? -1, stdout: stdout(), stderr: stderr() };
  }

  async hold(cmd: readonly string[], readyLine: string) {
    const { stream, exec, out, stderr } = await this.attach(cmd, true);
    const ended = endOf(stream, false);
    let seen = '';
    const ready = await new Promise<boolean>((resolve) => {
      out.on('data', (c: Buffer) => {
        seen += c.toString();
        if (seen.includes(readyLine)) resolve(true);
      });
      void ended.then(() => resolve(false));
    });
    if (!ready) {
      const info = await exec.inspect();
      throw new Error(`${cmd.join(' ')} ended (exit ${info.ExitCode}) before it was ready: ${stderr().trim()}`);
    }
    return {
      async release() {
        (stream as unknown as { end(): void }).end();
        await ended;
      },
    };
  }

  async putFiles(files: readonly FileSpec[], under?: string) {
    const inside = under ? files.filter((f) => f.path.startsWith(`${under}/`)).map((f) => ({ ...f, path: f.path.slice(under.length + 1) })) : files;
    if (inside.length === 0) return;
    await this.c.putArchive(await tarOf(inside), { path: under ?? '/' });
  }

  putArchive = (tar: NodeJS.ReadableStream, path: string) => this.c.putArchive(tar, { path }).then(() => undefined);

  async readFile(path: string) {
    const stream = await orAbsent(this.c.getArchive({ path }));
    return stream ? firstFileOf(stream) : undefined;
  }

  async listDir(path: string) {
    const stream = await orAbsent(this.c.getArchive({ path }));
    return stream ? namesUnder(stream, path.replace(/\/+$/, '').split('/').pop()!) : [];
  }

  archive = (path: string) => this.c.getArchive({ path });

  /** An exec with its output split into stdout and stderr. */
  private async attach(cmd: readonly string[], withStdin: boolean, user?: string) {
    const exec = await this.c.exec({ Cmd: [...cmd], AttachStdout: true, AttachStderr: true, AttachStdin: withStdin, Tty: false, User: user });
    const stream = await exec.start({ hijack: true, stdin: withStdin });
    const out = new PassThrough();
    const err = new PassThrough();
    const outChunks: Buffer[] = [];
    const errChunks: Buffer[] = [];
    out.on('data', (c: Buffer) => outChunks.push(c));
    err.on('data', (c: Buffer) => errChunks.push(c));
    this.docker.modem.demuxStream(stream, out, err);
    return {
      stream, exec, out,
      stdout: () => Buffer.concat(outChunks).toString(),
      stderr: () => Buffer.concat(errChunks).toString(),
    };
  }
}

function endOf(stream: NodeJS.ReadWriteStream, rejectOnError: boolean): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    stream.on('end', resolve);
    stream.on('close', resolve);
    stream.on('error', (e) => (rejectOnError ? reject(e) : resolve()));
  });
}

/** Logs of a non-TTY container are framed: 8-byte headers before each chunk. */
export function demuxToText(raw: Buffer): string {
  const parts: string[] = [];
  let i = 0;
  while (i + 8 <= raw.length) {
    const size = raw.readUInt32BE(i + 4);
    parts.push(raw.subarray(i + 8, i + 8 + size).toString());
    i += 8 + size;
  }
  return (i === 0 ? raw.toString() : parts.join('')).trimEnd();
}

