/** Labels mark what mailctl made; only what carries them is ever changed or removed. */
export const LABEL = {
  managed: 'dev.mailctl.managed',
  project: 'dev.mailctl.project',
  service: 'dev.mailctl.service',
  configHash: 'dev.mailctl.config-hash',
  contextHash: 'dev.mailctl.context-hash',
  volume: 'dev.mailctl.volume',
  aspects: 'dev.mailctl.aspects',
} as const;

export function projectLabels(project: string, service?: string): Record<string, string> {
  return {
    [LABEL.managed]: 'true',
    [LABEL.project]: project,
    ...(service ? { [LABEL.service]: service } : {}),
  };
}
