/**
 * What decides "recreate this container": a hash per aspect of the spec
 * (image id, files, ports, ...). The overall config hash is compared; the
 * aspect hashes say *why* it changed. The image *id* is hashed, not its tag:
 * a rebuilt image keeps its tag but not its id.
 */
import { createHash } from 'node:crypto';
import type { ServiceSpec } from './types.js';

export type Aspects = Record<string, string>;

const short = (value: unknown) => createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 12);

export function specAspects(spec: ServiceSpec, imageId: string): Aspects {
  return {
    image: short(imageId),
    files: short(spec.files),
    ports: short(spec.ports),
    mounts: short(spec.mounts),
    env: short(spec.env),
    network: short([spec.dns, spec.networkAliases, spec.hostNetwork ?? false]),
    health: short(spec.health),
    logs: short(spec.logs),
    privileges: short(spec.privileges),
    limits: short(spec.limits),
    ...(spec.readOnlyRoot ? { rootfs: 'read-only' } : {}),
    ...(spec.runOwner ? { run: short(spec.runOwner) } : {}),
    ...(spec.sysctls ? { sysctls: short(spec.sysctls) } : {}),
    ...(spec.init ? { init: 'yes' } : {}),
  };
}

/** Serialised into one label: "image=ab12...,files=cd34...". */
export function encodeAspects(aspects: Aspects): string {
  return Object.entries(aspects).map(([k, v]) => `${k}=${v}`).join(',');
}

export function decodeAspects(label: string | undefined): Aspects {
  if (!label) return {};
  return Object.fromEntries(label.split(',').map((pair) => pair.split('=') as [string, string]));
}

export function configHash(aspects: Aspects): string {
  return short(aspects);
}

/** Names of the aspects that differ, e.g. ["image", "files"]. */
export function changedAspects(before: Aspects, after: Aspects): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].filter((k) => before[k] !== after[k]).sort();
}
