/**
 * `mailctl backup FILE`: one archive of the stack's data and configuration.
 *
 * Consistency: the services that write the volumes (chasquid, dovecot, the
 * certbot sidecar) are paused (cgroup freezer) while the volumes are copied
 * out (uncompressed, to a temporary file next to FILE; compressed after).
 * Nothing is refused meanwhile: the kernel still accepts connections, and
 * they are answered when the services thaw. So the archive is one instant:
 * every message is either in the queue, or in a Maildir (cur/ or new/, which
 * dovecot fills only by rename), or both if a delivery was in flight; the
 * restore then delivers it again rather than lose it.
 */
import { tempPathFor } from '../core/files.js';
import { createReadStream, createWriteStream, existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { buildImages } from '../images/build.js';
import { localCaDir, manualCertDir } from '../certs/source.js';
import type { Config } from '../config/config.js';
import { observeProject } from '../docker/containers.js';
import { ignoreNotModified, isNotFound, shortReason, type Engine } from '../docker/engine.js';
import { withHelper } from '../docker/helper.js';
import { deferSignals } from '../core/signals.js';
import { OperationalError, UsageError } from '../core/errors.js';
import { volumeName, type VolumeName } from '../model/layout.js';
import type { Progress } from '../core/progress.js';
import type { FileSpec } from '../model/types.js';
import { BACKUP_FORMAT, BACKUP_ROOT, DATA_VOLUMES, MANIFEST_PATH, sitePath, volumePath, type BackupManifest } from './manifest.js';
import { version } from '../core/version.js';
import { byStopOrder } from '../runtime/running.js';
import { STOP_ORDER, type ServiceName } from '../model/service-table.js';

export interface BackupResult {
  file: string;
  bytes: number;
  seconds: number;
  /** How long chasquid and dovecot were frozen... */
  pausedSeconds: number;
  /** ...of which this long just to freeze them (a process in a disk write, e.g. an fsync, is frozen only after it). */
  freezeSeconds: number;
  volumes: VolumeName[];
  site: string[];
}


/** Where the archive goes must be usable before anything is asked of the engine. */
export function checkBackupTarget(file: string, force: boolean): void {
  if (existsSync(file) && !force) throw new UsageError(`${file} already exists: choose another name, or add --force to replace it`);
  if (!existsSync(dirname(file)) || !statSync(dirname(file)).isDirectory()) {
    throw new UsageError(`${dirname(file)} is not a directory: create it first, or write the backup elsewhere`);
  }
}

export async function backup(docker: Engine, config: Config, file: string, options: { force?: boolean }, progress: Progress): Promise<BackupResult> {
  const started = Date.now();
  checkBackupTarget(file, options.force ?? false);
  const volumes: VolumeName[] = [];
  for (const role of DATA_VOLUMES) {
    if (await docker.volumeExists(volumeName(config.project, role))) volumes.push(role);
  }
  if (!volumes.includes('mail') || !volumes.includes('users')) {
    throw new UsageError(`${config.project} has no data volumes (${volumeName(config.project, 'mail')} is missing): check MAILCTL_PROJECT, or run \`mailctl up\` first`);
  }
  const [helperImage] = await buildImages(docker, config, { names: ['dovecot'] }, progress);
  const site = siteFiles(config);
  const manifest: BackupManifest = {
    format: BACKUP_FORMAT,
    mailctlVersion: version(),
    createdAt: new Date().toISOString(),
    project: config.project,
    domain: config.domain,
    hostname: config.hostname,
    volumes,
    site: site.map((f) => f.path.slice(sitePath('').length)),
  };

  // Unguessable names, created exclusively with mode 0600: a name another local user
  // prepared (a file, a link) makes the backup fail instead of leaking it.
  const tmp = tempPathFor(file);
  const rawTmp = tempPathFor(file, '.tar');
  let pausedSeconds = 0;
  let freezeSeconds = 0;
  let stillPaused: string[] = [];
  const mounts = volumes.map((role) => ({ volume: volumeName(config.project, role), target: `/${volumePath(role)}`, readOnly: true }));
  try {
    // Ctrl-C while the services are paused would leave them frozen (and the helper behind): it waits.
    await deferSignals('the backup (the mail services are paused)', () => withHelper(docker, { image: helperImage.ref, project: config.project, mounts }, async (helper) => {
      await helper.putFiles([{ path: MANIFEST_PATH, content: `${JSON.stringify(manifest, null, 2)}\n`, mode: 0o644 }, ...site]);
      const writers = (await observeProject(docker, config.project, { swarmTasks: true }))
        // The services that write the data volumes, chasquid first.
        .filter((c) => c.state === 'running' && STOP_ORDER.includes(c.service as ServiceName))
        .sort(byStopOrder);
      progress.step(`pausing ${writers.map((w) => w.name).join(', ') || 'nothing (no service is running)'} while the volumes are copied`);
      const pausedAt = Date.now();
      const paused: typeof writers = [];
      try {
        for (const w of writers) {
          await docker.container(w.id).pause();
          paused.push(w);
        }
        freezeSeconds = (Date.now() - pausedAt) / 1000;
        // Uncompressed to disk while paused: gzip is several times slower than the copy,
        // so it runs after the services thaw. The key material inside (TLS, DKIM, the
        // local CA) makes both files secrets: owner-only.
        await pipeline(await helper.archive(`/${BACKUP_ROOT}`), createWriteStream(rawTmp, { mode: 0o600, flags: 'wx' }));
      } finally {
        // Only what was paused, even when a pause failed halfway.
        stillPaused = await unpauseAll(docker, paused.reverse());
        pausedSeconds = (Date.now() - pausedAt) / 1000;
      }
    }));
    progress.step(`services resumed after ${pausedSeconds.toFixed(1)} s; compressing`);
    await pipeline(createReadStream(rawTmp), createGzip({ level: 6 }), createWriteStream(tmp, { mode: 0o600, flags: 'wx' }));
    renameSync(tmp, file);
    if (stillPaused.length) {
      throw new OperationalError(`the backup was written to ${file}, but ${stillPaused.join('; ')}: the stack is frozen until they are unpaused (\`docker unpause NAME\`, or \`mailctl up\`)`);
    }
  } catch (err) {
    rmSync(tmp, { force: true });
    if (stillPaused.length && !(err instanceof OperationalError && err.message.includes('the stack is frozen'))) {
      throw new OperationalError(`backup of ${config.project} failed (${(err as Error).message}), and ${stillPaused.join('; ')}: the stack is frozen until they are unpaused (\`docker unpause NAME\`, or \`mailctl up\`)`);
    }
    if (err instanceof UsageError || err instanceof OperationalError) throw err;
    throw new OperationalError(`backup of ${config.project} failed, nothing was written to ${file}: ${(err as Error).message}`);
  } finally {
    rmSync(rawTmp, { force: true });
  }
  progress.step(`wrote ${file} (${(statSync(file).size / 1e6).toFixed(1)} MB; services paused ${pausedSeconds.toFixed(1)} s)`);
  return { file, bytes: statSync(file).size, seconds: (Date.now() - started) / 1000, pausedSeconds, freezeSeconds, volumes, site: manifest.site };
}

/**
 * Thaw every paused writer, whatever happens to the others; returns what could
 * not be thawed ("NAME: reason"), so the caller reports the state it leaves.
 */
export async function unpauseAll(docker: Pick<Engine, 'container'>, writers: readonly { id: string; name: string }[]): Promise<string[]> {
  const failed: string[] = [];
  for (const w of writers) {
    const container = docker.container(w.id);
    try {
      await ignoreNotModified(container.unpause());
    } catch (err) {
      if (isNotFound(err)) continue;
      // Someone else may have thawed it meanwhile: only a container still paused is a failure.
      const state = await container.inspect().catch(() => undefined);
      if (state && !state.State.Paused) continue;
      failed.push(`${w.name} could not be unpaused (${shortReason(err)})`);
    }
  }
  return failed;
}

/** The site's certificate sources, by their name in the archive (site/<name>/). */
export function certificateSources(config: Config): Record<string, string> {
  return { 'local-ca': localCaDir(config), 'manual-cert': manualCertDir(config) };
}

/** The site's own files that are part of its configuration: .env and the certificate sources. */
function siteFiles(config: Config): FileSpec[] {
  const files: FileSpec[] = [];
  if (!config.sandbox && existsSync(config.envFile)) files.push({ path: sitePath('.env'), content: readFileSync(config.envFile, 'utf8'), mode: 0o600 });
  for (const [name, dir] of Object.entries(certificateSources(config))) {
    if (!existsSync(dir)) continue;
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const full = join(dir, entry.name);
      files.push({ path: sitePath(`${name}/${entry.name}`), content: readFileSync(full, 'utf8'), mode: statSync(full).mode & 0o777 });
    }
  }
  return files;
}
