/** The tmpfs a read-only root gets on /run, owned by the service's user when it runs as one. */
import type { ServiceSpec } from './types.js';

export const runTmpfs = (spec: Pick<ServiceSpec, 'runOwner'>) => `rw,nosuid,nodev,noexec,size=1m${spec.runOwner ? `,uid=${spec.runOwner.uid},gid=${spec.runOwner.gid}` : ''}`;
