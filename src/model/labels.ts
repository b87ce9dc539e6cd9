/** Labels mark what mailctl made; only what carries them is ever changed or removed. */
export const LABEL = {
  managed: 'dev.mailctl.managed',
  project: 'dev.mailctl.project',
  service: 'dev.mailctl.service',
  configHash: 'dev.mailctl.config-hash',
  contextHash: 'dev.mailctl.context-hash',
  volume: 'dev.mailctl.volume',
  aspects: 'dev.mailctl.aspects',
  /** On a Swarm task: the id of the image it was made for (a tag can be rebuilt). */
  imageId: 'dev.mailctl.image-id',
} as const;

/** What Swarm puts on a task's container: the id of the service it is a task of. */
export const SWARM_SERVICE_LABEL = 'com.docker.swarm.service.id';

export function projectLabels(project: string, service?: string): Record<string, string> {
  return {
    [LABEL.managed]: 'true',
    [LABEL.project]: project,
    ...(service ? { [LABEL.service]: service } : {}),
  };
}
