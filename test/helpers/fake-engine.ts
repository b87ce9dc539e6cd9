/**
 * An Engine in memory, for unit tests of what talks to the engine: containers
 * (with a small filesystem each, exec dispatched to handlers the test gives),
 * volumes, networks and images. Every call that changes something is logged
 * in `calls` ("start p-dovecot"), so a test can say what happened, in order,
 * and that a dry run changed nothing.
 */
import { Readable } from 'node:stream';
import { createHash } from 'node:crypto';
import type { ContainerCreateOptions, ContainerHandle, ContainerInspectInfo, Engine, ExecResult, ImageBuild } from '../../src/docker/engine.js';
import type { FileSpec } from '../../src/model/types.js';

export const engineError = (statusCode: number, message: string) => Object.assign(new Error(message), { statusCode, json: { message } });

export interface FakeContainer {
  id: string;
  name: string;
  state: 'created' | 'running' | 'exited' | 'paused';
  labels: Record<string, string>;
  options: ContainerCreateOptions;
  files: Map<string, Buffer>;
  /** What the health check says once running (default healthy). */
  health: 'healthy' | 'unhealthy' | 'starting';
  /** Made by createContainer (not added by the test as already there). */
  created?: boolean;
}

/** A command run in a container: return its result, or undefined for "not handled" (exit 127). */
export type ExecHandler = (container: FakeContainer, cmd: readonly string[], stdin: string | undefined) => ExecResult | undefined;

export class FakeEngine implements Engine {
  readonly calls: string[] = [];
  readonly containers = new Map<string, FakeContainer>();
  readonly volumes = new Map<string, Record<string, string>>();
  readonly networks = new Map<string, Record<string, string>>();
  readonly images = new Map<string, string>();
  /** Failures to inject, by "operation name" (e.g. "unpause p-chasquid", "stop p-dovecot"). */
  readonly failures = new Map<string, Error>();
  /** What a container created (by createContainer) under this name does when started (default: runs, healthy). */
  readonly onStart = new Map<string, Partial<Pick<FakeContainer, 'state' | 'health'>>>();
  private nextId = 1;

  constructor(private readonly execHandlers: ExecHandler[] = []) {}

  /** A running container, as if made by an earlier `up`. */
  addContainer(name: string, labels: Record<string, string>, files: Record<string, string> = {}, state: FakeContainer['state'] = 'running'): FakeContainer {
    const c: FakeContainer = { id: `id${this.nextId++}`, name, state, labels, options: { name, Labels: labels }, files: new Map(Object.entries(files).map(([p, v]) => [p, Buffer.from(v)])), health: 'healthy' };
    this.containers.set(c.id, c);
    return c;
  }

  byName(name: string): FakeContainer | undefined {
    return [...this.containers.values()].find((c) => c.name === name || c.id === name);
  }

  private log(call: string): void {
    this.calls.push(call);
    const failure = this.failures.get(call);
    if (failure) throw failure;
  }

  async ping() {}

  async listContainers(labels: readonly string[]) {
    return [...this.containers.values()]
      .filter((c) => labels.every((l) => { const [k, v] = l.split('='); return c.labels[k] === v; }))
      .map((c) => ({ id: c.id, name: c.name, state: c.state, labels: c.labels }));
  }

  container(ref: string): ContainerHandle {
    return new FakeHandle(this, ref, this.execHandlers, (call) => this.log(call));
  }

  async createContainer(options: ContainerCreateOptions) {
    const name = options.name ?? `helper${this.nextId}`;
    if (options.name && this.byName(options.name)) throw engineError(409, `Conflict. The container name "/${name}" is already in use`);
    this.log(`create ${name}`);
    const c: FakeContainer = { id: `id${this.nextId++}`, name, state: 'created', labels: options.Labels ?? {}, options, files: new Map(), health: 'starting', created: true };
    this.containers.set(c.id, c);
    return this.container(c.id);
  }

  /** Subnets of networks, by name (what `docker network create --subnet` gave). */
  readonly subnets = new Map<string, string>();
  async inspectNetwork(name: string) {
    return this.networks.has(name) ? { containers: [] as string[], subnet: this.subnets.get(name) } : undefined;
  }
  async createNetwork(name: string, labels: Record<string, string>, subnet?: string) {
    this.log(`create network ${name}`);
    this.networks.set(name, labels);
    if (subnet) this.subnets.set(name, subnet);
  }
  async removeNetwork(name: string) { this.log(`remove network ${name}`); this.networks.delete(name); }
  async volumeExists(name: string) { return this.volumes.has(name); }
  async createVolume(name: string, labels: Record<string, string>) { this.log(`create volume ${name}`); this.volumes.set(name, labels); }
  async removeVolume(name: string) { this.log(`remove volume ${name}`); this.volumes.delete(name); }
  async listVolumes(labels: readonly string[]) {
    return [...this.volumes.entries()]
      .filter(([, l]) => labels.every((x) => { const [k, v] = x.split('='); return l[k] === v; }))
      .map(([name, l]) => ({ name, labels: l }));
  }
  async imageId(ref: string) { return this.images.get(ref); }
  async buildImage(build: ImageBuild) {
    this.log(`build ${build.ref}`);
    build.context.resume();
    const id = `sha256:${createHash('sha256').update(build.ref).digest('hex')}`;
    this.images.set(build.ref, id);
    return id;
  }
  /** The Swarm node this engine is (undefined: in no Swarm). */
  swarm?: { id: string; manager: boolean; labels: Record<string, string> };
  async swarmNode() { return this.swarm; }
  /** Swarm services (what `docker stack deploy` made). */
  readonly services: { id: string; name: string; labels: Record<string, string> }[] = [];
  async listServices(labels: readonly string[]) {
    return this.services.filter((s) => labels.every((l) => { const [k, v] = l.split('='); return s.labels[k] === v; }));
  }
  async labelNode(id: string, labels: Record<string, string>) {
    this.log(`label node ${id}`);
    if (!this.swarm || this.swarm.id !== id) throw engineError(404, `node ${id} not found`);
    Object.assign(this.swarm.labels, labels);
  }
  /** A Swarm service's task is replaced: its container goes, a new one of the same labels runs. */
  async forceUpdateService(id: string) {
    this.log(`force update service ${id}`);
    for (const c of [...this.containers.values()].filter((x) => x.labels['com.docker.swarm.service.id'] === id)) {
      this.containers.delete(c.id);
      this.addContainer(`${c.name.split('.')[0]}.1.new${this.nextId}`, { ...c.labels });
    }
  }
  async pullImage(ref: string) { this.log(`pull ${ref}`); throw new Error('no registry'); }
  async importImage(_tar: NodeJS.ReadableStream, ref: string) { this.log(`import ${ref}`); this.images.set(ref, `sha256:base-${ref}`); }
}

class FakeHandle implements ContainerHandle {
  constructor(private readonly engine: FakeEngine, readonly ref: string, private readonly handlers: ExecHandler[], private readonly log: (call: string) => void) {}

  private get c(): FakeContainer {
    const c = this.engine.byName(this.ref);
    if (!c) throw engineError(404, `No such container: ${this.ref}`);
    return c;
  }

  async inspect() {
    const c = this.engine.byName(this.ref);
    if (!c) return undefined;
    return {
      Id: c.id, Name: `/${c.name}`, LogPath: `/var/lib/docker/containers/${c.id}/${c.id}-json.log`,
      Config: { Image: c.options.Image ?? '', Labels: c.labels },
      HostConfig: c.options.HostConfig ?? {},
      State: { Status: c.state, Running: c.state === 'running', Paused: c.state === 'paused', Restarting: false, StartedAt: new Date().toISOString(), Health: c.state === 'running' ? { Status: c.health, Log: [] } : undefined },
    } as unknown as ContainerInspectInfo;
  }

  async start() {
    const c = this.c;
    this.log(`start ${c.name}`);
    if (c.state === 'running') return;
    const behaviour = (c.created && this.engine.onStart.get(c.name)) || {};
    c.state = behaviour.state ?? 'running';
    c.health = behaviour.health ?? 'healthy';
  }
  async stop() {
    const c = this.c;
    this.log(`stop ${c.name}`);
    if (c.state === 'running' || c.state === 'paused') c.state = 'exited';
  }
  async restart() { this.log(`restart ${this.c.name}`); this.c.state = 'running'; }
  async signal(signal: string) { this.log(`signal ${signal} ${this.c.name}`); }
  async rename(name: string) { const c = this.c; this.log(`rename ${c.name} ${name}`); c.name = name; }
  async remove() {
    const c = this.engine.byName(this.ref);
    if (!c) return;
    this.log(`remove ${c.name}`);
    this.engine.containers.delete(c.id);
  }
  async pause() { const c = this.c; this.log(`pause ${c.name}`); c.state = 'paused'; }
  async unpause() {
    const c = this.c;
    this.log(`unpause ${c.name}`);
    if (c.state !== 'paused') throw engineError(409, `Container ${c.name} is not paused`);
    c.state = 'running';
  }
  async logs() { return ''; }
  async followLogs() {}

  async exec(cmd: readonly string[], options: { stdin?: string; user?: string } = {}) {
    const c = this.c;
    if (c.state !== 'running') throw engineError(409, `Container ${c.name} is not running`);
    this.log(`exec ${c.name} ${cmd.join(' ')}`);
    for (const handle of this.handlers) {
      const r = handle(c, cmd, options.stdin);
      if (r) return r;
    }
    return builtinExec(c, cmd) ?? { exitCode: 127, stdout: '', stderr: `${cmd[0]}: not in the fake` };
  }

  async hold(cmd: readonly string[]) {
    const c = this.c;
    this.log(`hold ${c.name} ${cmd.join(' ')}`);
    return { release: async () => { this.log(`release ${c.name}`); } };
  }

  async putFiles(files: readonly FileSpec[], under?: string) {
    const c = this.c;
    for (const f of files) if (f.content !== undefined && (!under || f.path.startsWith(`${under}/`))) c.files.set(`/${f.path.replace(/^\/+/, '')}`, Buffer.from(f.content));
  }
  async putArchive() { this.log(`put archive ${this.c.name}`); }
  async readFile(path: string) { return this.c.files.get(path); }
  async listDir(path: string) {
    const prefix = `${path.replace(/\/+$/, '')}/`;
    return [...new Set([...this.c.files.keys()].filter((p) => p.startsWith(prefix)).map((p) => p.slice(prefix.length).split('/')[0]))].sort();
  }
  async archive() { return Readable.from([]); }
}

/** The shell commands mailctl runs itself, on the fake filesystem. */
function builtinExec(c: FakeContainer, cmd: readonly string[]): ExecResult | undefined {
  const ok = { exitCode: 0, stdout: '', stderr: '' };
  if (cmd[0] === 'rm' && cmd.includes('-rf')) {
    const dir = cmd[cmd.length - 1].replace(/\/+$/, '');
    for (const p of [...c.files.keys()]) if (p === dir || p.startsWith(`${dir}/`)) c.files.delete(p);
    return ok;
  }
  if (cmd[0] === 'mkdir') return ok;
  return undefined;
}
