/**
 * Short-lived helper containers: a way to read and write volumes without a
 * running stack (and without touching the host's filesystem). Never started
 * unless asked; always removed, whatever happens.
 */
import { projectLabels } from '../model/labels.js';
import type { ContainerHandle, Engine } from './engine.js';

export interface HelperMount {
  volume: string;
  target: string;
  readOnly?: boolean;
}

export async function withHelper<T>(
  engine: Engine,
  options: { image: string; project: string; mounts: readonly HelperMount[]; start?: boolean },
  work: (helper: ContainerHandle) => Promise<T>,
): Promise<T> {
  const helper = await engine.createContainer({
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
    await helper.remove().catch(() => {});
  }
}
