/** The names a site's certificate carries, from its domains. Pure. */
import type { Config } from '../config/config.js';
import { webNames } from '../web/nginx.js';

/** The domains the stack serves: the main one first, always there. */
export function servedDomains(config: Config, domains: readonly string[] | undefined): string[] {
  return [...new Set([config.domain, ...[...(domains ?? [])].sort()])];
}

/** Every name the certificate carries: MAIL_HOSTNAME, ACME_EXTRA_NAMES, and each domain's autoconfig, autodiscover and mta-sts. */
export function certificateNames(config: Config, domains: readonly string[] | undefined): string[] {
  return [...new Set([config.hostname, ...config.acme.extraNames, ...servedDomains(config, domains).flatMap(webNames)])];
}
