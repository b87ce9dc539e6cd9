/** MTA_STS_MODE: the mode of the MTA-STS policy the web service publishes (its text: web/mta-sts.ts). */
export const MTA_STS_MODES = ['testing', 'enforce', 'none'] as const;
export type MtaStsMode = (typeof MTA_STS_MODES)[number];

/** MTA_STS_MODE from .env: testing (default), enforce or none. */
export function parseMtaStsMode(raw: string | undefined, problems: string[]): MtaStsMode {
  if (raw === undefined) return 'testing';
  const mode = raw.toLowerCase();
  if ((MTA_STS_MODES as readonly string[]).includes(mode)) return mode as MtaStsMode;
  problems.push(`MTA_STS_MODE "${raw}" is not one of ${MTA_STS_MODES.join(', ')} (testing: senders report failures but deliver; enforce: they refuse to deliver without valid TLS)`);
  return 'testing';
}
