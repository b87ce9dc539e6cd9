/**
 * Short-lived helper containers: a way to read and write volumes without a
 * running stack (and without touching the host's filesystem). Never started
 * unless asked; always removed, whatever happens.
 */
import type { Container } from 'dockerode';
import { projectLabels } from '../labels.js';
import type { Engine } from './engine.js';

export interface HelperMount {
  volume: string;
  target: string;
  readOnly?: boolean;
}

export async function withHelper<T>(
  docker: Engine,
  options: { image: string; project: string; mounts: readonly HelperMount[]; start?: boolean },
  work: (helper: Container) => Promise<T>,
): Promise<T> {
  const helper = await docker.createContainer({
    Image: options.image,
    // Only a started helper runs anything: it waits for `exec` and is killed after.
    Entrypoint: ['sleep', 'infinity'],
    Cmd: [],
    Labels: projectLabels(options.project, 'helper'),
    HostConfig: {
      NetworkMode: 'none',
      Mounts: options.mounts.map((m) => ({ Type: 'volume' as const, Source: m.volume, Target: m.target, ReadOnly: m.readOnly ?? false })),
    },
  });
  try {
    if (options.start) await helper.start();
    return await work(helper);
  } finally {
    await helper.remove({ force: true }).catch(() => {});
  }
}
