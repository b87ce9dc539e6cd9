/**
 * `mailctl restore FILE`: a backup back into a stack (the same project name
 * or another one). The whole archive is read and checked before anything is
 * touched, so a damaged file changes nothing. A stack that already has users
 * or mail is only replaced when asked (--force).
 */
import { parse as parseDotenv } from 'dotenv';
import { createReadStream, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import type TarStream from 'tar-stream';
import { lazy } from '../core/lazy.js';

const tarStream = lazy<typeof TarStream>('tar-stream');
import { buildImages } from '../images/build.js';
import type { Config } from '../config/config.js';
import { ensureVolume, observeProject } from '../docker/containers.js';
import { ignoreNotModified, isNotFound, shortReason, type ContainerHandle, type Engine } from '../docker/engine.js';
import { withHelper } from '../docker/helper.js';
import { withProjectLock } from '../core/project-lock.js';
import { OperationalError, UsageError } from '../core/errors.js';
import { writeAtomic } from '../core/files.js';
import { volumeName, type VolumeName } from '../model/layout.js';
import type { Progress } from '../core/progress.js';
import { neededImages } from '../plan/services.js';
import { up } from '../stack/up.js';
import { certificateSources } from './backup.js';
import { byStopOrder, refuseOnSwarm } from '../runtime/running.js';
import { maildirMessageOwner, MANIFEST_PATH, parseManifest, sitePath, volumeOfEntry, volumePath, type BackupManifest } from './manifest.js';

export interface BackupContents {
  manifest: BackupManifest;
  /** Site files (.env, local CA, manual certificate) by their name under site/. */
  site: Map<string, { content: Buffer; mode: number }>;
  /** Regular files per volume. */
  files: Partial<Record<VolumeName, number>>;
  /** Messages per user ("user@domain"). */
  messages: Record<string, number>;
}

/** Read the whole archive: its manifest, site files and a count of what it holds. Throws a UsageError for a bad file. */
export async function readBackup(file: string): Promise<BackupContents> {
  if (!existsSync(file)) throw new UsageError(`${file} does not exist: give the path of a file made by \`mailctl backup\``);
  let manifestText: string | undefined;
  const site = new Map<string, { content: Buffer; mode: number }>();
  const files: Partial<Record<VolumeName, number>> = {};
  const messages: Record<string, number> = {};
  const unpack = tarStream().extract();
  unpack.on('entry', (header, stream, next) => {
    const chunks: Buffer[] = [];
    const small = header.name === MANIFEST_PATH || header.name.startsWith(sitePath(''));
    stream.on('data', (c) => { if (small) chunks.push(c as Buffer); });
    stream.on('error', () => { /* a damaged archive: the pipeline below reports it */ });
    stream.on('end', () => {
      if (header.type === 'file') {
        if (header.name === MANIFEST_PATH) manifestText = Buffer.concat(chunks).toString();
        else if (small) site.set(header.name.slice(sitePath('').length), { content: Buffer.concat(chunks), mode: header.mode ?? 0o600 });
        const role = volumeOfEntry(header.name);
        if (role) files[role] = (files[role] ?? 0) + 1;
        const owner = maildirMessageOwner(header.name);
        if (owner) messages[owner] = (messages[owner] ?? 0) + 1;
      }
      next();
    });
    stream.resume();
  });
  try {
    await pipeline(createReadStream(file), createGunzip(), unpack);
  } catch (err) {
    throw new UsageError(`${file} is not a complete mailctl backup (${(err as Error).message}): nothing was changed`);
  }
  if (manifestText === undefined) throw new UsageError(`${file} has no ${MANIFEST_PATH}: it is not a mailctl backup; nothing was changed`);
  return { manifest: parseManifest(manifestText, file), site, files, messages };
}

/**
 * The backup's .env, written where the configuration is read from when there
 * is none yet (a new host). Never replaces an existing .env. Returns the path written.
 */
/**
 * Settings that choose what code runs or whom the stack trusts: a backup is
 * data, and does not get to pick them unless told (`restore --trust-backup`).
 */
export const TRUST_KEYS = [
  'MAILCTL_BASE_IMAGE', 'MAILCTL_DEBIAN_MIRROR', 'MAILCTL_IMAGES_DIR', 'MAILCTL_DOCKER_SOCKET',
  'ACME_SERVER', 'ACME_CA_BUNDLE', 'MAIL_DNS', 'MAIL_TRUSTED_NETWORKS', 'MAIL_BAN',
] as const;

export interface Withheld { key: string; value: string; why: 'security-relevant' | 'not one line' }

export interface EnvRestore {
  /** Where the backup's .env was written (the site had none). */
  written?: string;
  /** Settings of the backup left out: security-relevant, or not writable back as one line. */
  withheld: Withheld[];
  /** Where the site's own .env (kept) and the backup's differ. */
  differences: { key: string; here?: string; backup?: string }[];
}

/**
 * Pure: the backup's .env without the settings it may not choose, rebuilt
 * from what dotenv reads in it (not filtered line by line: dotenv also takes
 * `KEY: value` and a lone CR as a line end), one `KEY=value` per line. A
 * value that cannot be written back unambiguously is withheld too.
 */
export function withoutTrustKeys(env: string): { content: string; withheld: Withheld[] } {
  const values = parseDotenv(env);
  const withheld: Withheld[] = [];
  const lines = ['# From a backup, by `mailctl restore` (settings that choose code or trust are left out; see the README).'];
  for (const [key, value] of Object.entries(values)) {
    const writable = !/[\r\n]/.test(value) && !(value.includes("'") && value.includes('"'));
    if ((TRUST_KEYS as readonly string[]).includes(key)) withheld.push({ key, value, why: 'security-relevant' });
    else if (!writable) withheld.push({ key, value, why: 'not one line' });
    else lines.push(`${key}=${value.includes("'") ? `"${value}"` : `'${value}'`}`);
  }
  return { content: `${lines.join('\n')}\n`, withheld };
}

/**
 * A new host has no .env: the backup's becomes it, less the security-relevant
 * settings unless `trust`. A site that has one keeps it; what differs is said.
 */
export function restoreEnvFile(contents: BackupContents, config: Config, trust = false): EnvRestore {
  const env = contents.site.get('.env');
  if (!env) return { withheld: [], differences: [] };
  const backup = env.content.toString();
  if (existsSync(config.envFile)) {
    const here = parseDotenv(readFileSync(config.envFile));
    const theirs = parseDotenv(backup);
    const keys = [...new Set([...Object.keys(here), ...Object.keys(theirs)])].sort();
    return { withheld: [], differences: keys.filter((k) => here[k] !== theirs[k]).map((key) => ({ key, here: here[key], backup: theirs[key] })) };
  }
  const { content, withheld } = trust ? { content: backup, withheld: [] } : withoutTrustKeys(backup);
  writeAtomic(config.envFile, content, 0o600);
  return { written: config.envFile, withheld, differences: [] };
}

export interface RestoreResult {
  file: string;
  project: string;
  fromProject: string;
  volumes: VolumeName[];
  files: number;
  messages: number;
  /** The mailboxes that have messages ("user@domain"). */
  mailboxes: string[];
  siteFilesWritten: string[];
  seconds: number;
}

export async function restore(
  docker: Engine, config: Config, file: string, contents: BackupContents, options: { force?: boolean }, progress: Progress,
): Promise<RestoreResult> {
  return withProjectLock(config.project, 'restore', (line) => progress.step(line), () => restoreUnlocked(docker, config, file, contents, options, progress));
}

async function restoreUnlocked(
  docker: Engine, config: Config, file: string, contents: BackupContents, options: { force?: boolean }, progress: Progress,
): Promise<RestoreResult> {
  const started = Date.now();
  const { manifest } = contents;
  await refuseOnSwarm(docker, config, 'restore');
  const images = await buildImages(docker, config, { names: neededImages(config) }, progress);
  const helperImage = images.find((i) => i.name === 'dovecot')!.ref;
  for (const role of manifest.volumes) await ensureVolume(docker, volumeName(config.project, role), config.project, role);
  const mounts = manifest.volumes.map((role) => ({ volume: volumeName(config.project, role), target: `/${volumePath(role)}` }));

  await withHelper(docker, { image: helperImage, project: config.project, mounts, start: true }, async (helper) => {
    const existing = await dataIn(helper);
    if (existing && !options.force) {
      throw new UsageError(`${config.project} already has data (${existing}): restoring would replace it. Back it up first, then add --force`);
    }
    await stopServices(docker, config, progress);
    progress.step(`restoring ${manifest.volumes.map((r) => volumeName(config.project, r)).join(', ')} from ${file}`);
    const targets = mounts.map((m) => m.target);
    const cleared = await helper.exec(['find', ...targets, '-mindepth', '1', '-delete']);
    if (cleared.exitCode !== 0) throw new OperationalError(`cannot empty the volumes of ${config.project}: ${cleared.stderr.trim()}`);
    // The engine unpacks the gzipped tar itself, keeping numeric owners and modes.
    await helper.putArchive(createReadStream(file), '/');
    const counted = await helper.exec(['sh', '-c', `find ${targets.join(' ')} -type f | wc -l`]);
    const want = Object.values(contents.files).reduce((a, b) => a + b, 0);
    if (Number(counted.stdout.trim()) !== want) {
      throw new OperationalError(`restore of ${file} is incomplete: ${counted.stdout.trim()} files in the volumes, ${want} in the backup`);
    }
  });

  const siteFilesWritten = restoreCertificateSources(contents, config);
  progress.step(`data restored; starting ${config.project}`);
  await up(docker, config, {}, progress);
  return {
    file,
    project: config.project,
    fromProject: manifest.project,
    volumes: manifest.volumes,
    files: Object.values(contents.files).reduce((a, b) => a + b, 0),
    messages: Object.values(contents.messages).reduce((a, b) => a + b, 0),
    mailboxes: Object.keys(contents.messages).sort(),
    siteFilesWritten,
    seconds: (Date.now() - started) / 1000,
  };
}

/** "3 users, mail" when the volumes hold accounts or messages; undefined when they are empty. */
async function dataIn(helper: ContainerHandle): Promise<string | undefined> {
  const users = `/${volumePath('users')}/passwd`;
  const mail = `/${volumePath('mail')}`;
  const probe = await helper.exec(['sh', '-c', `u=$(grep -c . ${users} 2>/dev/null || true); m=$(find ${mail} -type f 2>/dev/null | head -n 1); echo "\${u:-0} \${m:+yes}"`]);
  const [users_, mailFound] = probe.stdout.trim().split(/\s+/);
  const parts = [Number(users_) > 0 ? `${users_} user(s)` : '', mailFound === 'yes' ? 'mail' : ''].filter(Boolean);
  return parts.length ? parts.join(', ') : undefined;
}

/** Stop (not remove) the stack's containers: nothing may write the volumes while they are replaced. */
export async function stopServices(docker: Engine, config: Config, progress: Progress): Promise<void> {
  // Swarm would start a stopped task again, on the volumes being replaced.
  await refuseOnSwarm(docker, config, 'restore');
  const running = (await observeProject(docker, config.project))
    .filter((c) => c.service !== 'helper' && (c.state === 'running' || c.state === 'paused'))
    .sort(byStopOrder);
  for (const c of running) {
    progress.step(`stopping ${c.name}`);
    try {
      // A paused container cannot be stopped cleanly: thaw it first.
      if (c.state === 'paused') await ignoreNotModified(docker.container(c.id).unpause());
      await docker.container(c.id).stop(10);
    } catch (err) {
      if (isNotFound(err)) continue;
      // Nothing is emptied while something may still write the volumes.
      throw new OperationalError(`could not stop ${c.name} (${shortReason(err)}): nothing was restored and no data was touched; ` +
        `the containers stopped so far are ${running.slice(0, running.indexOf(c)).map((s) => s.name).join(', ') || 'none'} (\`mailctl up\` starts them again)`);
    }
  }
}

/** The local CA and a manual certificate, where this site expects them, unless it has its own. */
function restoreCertificateSources(contents: BackupContents, config: Config): string[] {
  const written: string[] = [];
  const dirs = certificateSources(config);
  const groups = new Map<string, [string, { content: Buffer; mode: number }][]>();
  for (const [name, file] of contents.site) {
    const [group, base] = name.split('/');
    if (!base || !dirs[group]) continue;
    groups.set(group, [...(groups.get(group) ?? []), [base, file]]);
  }
  for (const [group, files] of groups) {
    const dir = dirs[group];
    if (existsSync(dir)) continue;
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    for (const [base, file] of files) {
      // Keys owner-only, the rest readable at most, whatever modes the archive claims.
      writeAtomic(join(dir, base), file.content, /\.key$|privkey/.test(base) ? 0o600 : file.mode & 0o644);
      written.push(join(dir, base));
    }
  }
  return written;
}
