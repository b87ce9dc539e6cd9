/**
 * What a backup archive holds and how it is laid out. Pure, so the format is
 * tested as data. The archive is a gzipped tar:
 *
 *   mailctl-backup/manifest.json        this manifest
 *   mailctl-backup/site/.env            the configuration (no secrets: passwords are hashes in `users`)
 *   mailctl-backup/site/local-ca/...    the local CA the clients trust (selfsigned and acme placeholder)
 *   mailctl-backup/site/manual-cert/... a manual certificate pair (CERT_MODE=manual)
 *   mailctl-backup/volumes/<role>/...   each data volume, owners and modes kept
 */
import { UsageError } from '../core/errors.js';
import type { VolumeName } from '../model/layout.js';

export const BACKUP_ROOT = 'mailctl-backup';
export const BACKUP_FORMAT = 'mailctl-backup/1';

/**
 * The volumes that hold data. Not dovecot-sockets and filter-sockets (runtime only) and not
 * clamav-db (signatures, downloaded again by freshclam).
 * Order matters for consistency without a pause: see backup.ts.
 */
export const DATA_VOLUMES: readonly VolumeName[] = ['users', 'chasquid-state', 'mail', 'certs', 'letsencrypt'];

export type SiteFile = 'env' | 'local-ca' | 'manual-cert';

export interface BackupManifest {
  format: typeof BACKUP_FORMAT;
  mailctlVersion: string;
  createdAt: string;
  project: string;
  domain: string;
  hostname: string;
  volumes: VolumeName[];
  /** Site files by archive path under site/, e.g. ".env", "local-ca/ca.crt". */
  site: string[];
}

export const volumePath = (role: VolumeName) => `${BACKUP_ROOT}/volumes/${role}`;
export const sitePath = (name: string) => `${BACKUP_ROOT}/site/${name}`;
export const MANIFEST_PATH = `${BACKUP_ROOT}/manifest.json`;

/** Parse and check a manifest read from an archive; a clear error for anything else. */
export function parseManifest(text: string, file: string): BackupManifest {
  let value: Partial<BackupManifest>;
  try {
    value = JSON.parse(text) as Partial<BackupManifest>;
  } catch {
    throw new UsageError(`${file}: the manifest is not JSON: the backup is damaged`);
  }
  if (value.format !== BACKUP_FORMAT) {
    throw new UsageError(`${file} is a backup of format ${String(value.format)}, not ${BACKUP_FORMAT}: restore it with the mailctl that made it`);
  }
  const volumes = Array.isArray(value.volumes) ? value.volumes : [];
  const unknown = volumes.filter((v) => !DATA_VOLUMES.includes(v));
  if (volumes.length === 0 || unknown.length || typeof value.project !== 'string' || typeof value.domain !== 'string') {
    throw new UsageError(`${file}: the manifest is incomplete or names unknown volumes (${unknown.join(', ') || 'none listed'}): the backup is damaged`);
  }
  return { ...value, site: Array.isArray(value.site) ? value.site : [] } as BackupManifest;
}

/** Pure: the volume role an archive entry belongs to, or undefined for manifest and site files. */
export function volumeOfEntry(name: string): VolumeName | undefined {
  const m = new RegExp(`^${BACKUP_ROOT}/volumes/([^/]+)/`).exec(name);
  return m && DATA_VOLUMES.includes(m[1] as VolumeName) ? (m[1] as VolumeName) : undefined;
}

/**
 * A Maildir message file in a backup (cur/ or new/, never tmp/, which only
 * holds deliveries in progress), counted per user: "domain/user".
 */
export function maildirMessageOwner(name: string): string | undefined {
  const m = new RegExp(`^${BACKUP_ROOT}/volumes/mail/([^/]+)/([^/]+)/Maildir/(?:\\.[^/]+/)?(?:cur|new)/[^/]+$`).exec(name);
  return m ? `${m[2]}@${m[1]}` : undefined;
}
