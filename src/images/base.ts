/**
 * The Debian base every image builds FROM. Present: use it. Missing: pull it
 * (users with a registry). No registry: make it with debootstrap + import,
 * under the same name (air-gapped hosts, and this project's CI).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '../config/config.js';
import type { Engine } from '../docker/engine.js';
import { OperationalError } from '../core/errors.js';
import type { Progress } from '../core/progress.js';

const PULL_TIMEOUT_MS = 60_000;

/**
 * The base image's id. With `refresh` (upgrade) a present base is pulled again
 * when a registry answers; without one it is kept: the images' own
 * `apt-get upgrade` then brings its packages up to date.
 */
export async function ensureBaseImage(docker: Engine, config: Config, progress: Progress, refresh = false): Promise<string> {
  const present = await docker.imageId(config.baseImage);
  if (present && refresh) {
    progress.step(`pulling ${config.baseImage} for newer packages`);
    try {
      await docker.pullImage(config.baseImage, PULL_TIMEOUT_MS, (line: string) => progress.detail(line));
    } catch (err) {
      progress.step(`pulling ${config.baseImage} failed (${(err as Error).message}): keeping the base this engine has`);
    }
    return (await docker.imageId(config.baseImage)) ?? present;
  }
  if (present) return present;

  progress.step(`base image ${config.baseImage} is not on this engine: pulling it`);
  try {
    await docker.pullImage(config.baseImage, PULL_TIMEOUT_MS, (line: string) => progress.detail(line));
  } catch (err) {
    progress.step(`pulling ${config.baseImage} failed (${(err as Error).message}): making it with debootstrap`);
    await bootstrapBase(docker, config, progress);
  }
  const id = await docker.imageId(config.baseImage);
  if (!id) throw new OperationalError(`base image ${config.baseImage} is still missing after pull and bootstrap`);
  return id;
}

/** Debian suite to bootstrap for a base image name: only Debian's own images can be remade. */
export function suiteFor(baseImage: string): string | undefined {
  const match = /^(?:docker\.io\/)?(?:library\/)?debian:([a-z]+)(?:-slim)?$/.exec(baseImage);
  return match?.[1];
}

/** The apt sources a bootstrapped base gets: main plus updates and security, like the official image. */
export function aptSources(mirror: string, suite: string): string {
  const security = mirror.replace(/\/debian\/?$/, '/debian-security');
  return [
    `deb ${mirror} ${suite} main`,
    `deb ${mirror} ${suite}-updates main`,
    `deb ${security} ${suite}-security main`,
    '',
  ].join('\n');
}

async function bootstrapBase(docker: Engine, config: Config, progress: Progress): Promise<void> {
  const suite = suiteFor(config.baseImage);
  if (!suite) {
    throw new OperationalError(
      `cannot pull ${config.baseImage} and only Debian images (debian:<suite>-slim) can be bootstrapped: ` +
        'load the image with `docker load` or set MAILCTL_BASE_IMAGE=debian:trixie-slim',
    );
  }
  await ensureDebootstrap(progress);
  const root = mkdtempSync(join(tmpdir(), 'mailctl-rootfs-'));
  try {
    progress.step(`debootstrap --variant=minbase ${suite} from ${config.debianMirror} (about a minute)`);
    await run('debootstrap', ['--variant=minbase', suite, root, config.debianMirror], (line: string) => progress.detail(line));
    writeFileSync(join(root, 'etc/apt/sources.list'), aptSources(config.debianMirror, suite));
    // debootstrap leaves ~80 MB of apt lists and packages behind: not part of a base.
    for (const dir of ['var/lib/apt/lists', 'var/cache/apt/archives']) {
      rmSync(join(root, dir), { recursive: true, force: true });
    }
    mkdirSync(join(root, 'var/lib/apt/lists/partial'), { recursive: true });
    mkdirSync(join(root, 'var/cache/apt/archives/partial'), { recursive: true });
    progress.step(`importing the bootstrapped system as ${config.baseImage}`);
    const tar = spawn('tar', ['-C', root, '--numeric-owner', '-c', '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
    await docker.importImage(tar.stdout, config.baseImage, ['CMD ["bash"]']);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

async function ensureDebootstrap(progress: Progress): Promise<void> {
  if (existsSync('/usr/sbin/debootstrap')) return;
  if (process.getuid?.() !== 0 || !existsSync('/usr/bin/apt-get')) {
    throw new OperationalError('no registry answers and debootstrap is missing: install it (Debian: apt-get install debootstrap) and run again as root');
  }
  progress.step('installing debootstrap (apt-get)');
  await run('apt-get', ['install', '-y', '-q', '--no-install-recommends', 'debootstrap'], (l) => progress.detail(l));
}

function run(cmd: string, args: string[], onLine: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
    const tail: string[] = [];
    const collect = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) {
        if (!line.trim()) continue;
        tail.push(line);
        if (tail.length > 10) tail.shift();
        onLine(line);
      }
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('error', (err) => reject(new OperationalError(`${cmd} could not start: ${err.message}`)));
    child.on('close', (code) => code === 0 ? resolve() : reject(new OperationalError(`${cmd} failed (exit ${code})`, tail.join('\n'))));
  });
}
