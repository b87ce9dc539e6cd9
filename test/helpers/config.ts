import { buildConfig, type Config } from '../../src/config/config.js';

/** A Config from raw .env values, as loadConfig would build it from a file. */
export function configFrom(raw: Record<string, string> = {}, siteDir = '/site'): Config {
  return buildConfig({ MAIL_DOMAIN: 'example.com', CERT_MODE: 'selfsigned', ...raw }, { sandbox: false, envFile: `${siteDir}/.env`, siteDir });
}
