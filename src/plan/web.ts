/**
 * The web service's container (client autoconfiguration, MTA-STS, port 80 for
 * http-01 and redirects). Pure.
 */
import type { Config } from '../config/config.js';
import { CHASQUID_GID, volumeName } from '../model/layout.js';
import type { ServiceSpec } from '../model/types.js';
import { certificateNames, servedDomains } from '../certs/names.js';
import { WEB_ACME_DIR, WEB_CERTS_DIR, WEB_HTTP_PORT, WEB_HTTPS_PORT, WEB_SITE_DIR, webSiteFiles } from '../web/nginx.js';

/** The web image's user (images/web/Dockerfile), in group chasquid to read the certificates. */
export const WEB_UID = 2502;

/**
 * nginx as an unprivileged user (images/web): no capability, a read-only
 * root, no Docker socket. Its files go into the web-site volume at create
 * time (a read-only root refuses them anywhere else). On the stack's network,
 * with the published ports: a web client's own address matters to nothing
 * here. In acme mode it carries the certificate's names as network aliases
 * (as certbot did when it answered http-01 itself), so an ACME server on that
 * network (the tests' pebble) reaches it, as the internet does through DNS.
 */
export function webSpec(config: Config, base: Omit<ServiceSpec, 'mounts'>, domains: readonly string[] | undefined): ServiceSpec {
  const served = servedDomains(config, domains);
  return {
    ...base,
    readOnlyRoot: true,
    // nginx's pid file and temporary files, as its own user (images/web).
    runOwner: { uid: WEB_UID, gid: CHASQUID_GID },
    // Ports below 1024 for any user, in its own network namespace only (Docker's
    // default since 20.10, made explicit): nginx binds 80 and 443 with no capability,
    // so an ACME server on the stack's network reaches it on 80 as the internet does.
    sysctls: { 'net.ipv4.ip_unprivileged_port_start': '0' },
    ports: [
      { container: WEB_HTTP_PORT, host: config.ports.http, binds: config.binds, key: 'MAIL_PORT_HTTP' },
      { container: WEB_HTTPS_PORT, host: config.ports.https, binds: config.binds, key: 'MAIL_PORT_HTTPS' },
    ],
    mounts: [
      { volume: volumeName(config.project, 'web-site'), target: WEB_SITE_DIR },
      { volume: volumeName(config.project, 'certs'), target: WEB_CERTS_DIR, readOnly: true },
      { volume: volumeName(config.project, 'acme-challenge'), target: WEB_ACME_DIR, readOnly: true },
    ],
    files: webSiteFiles(config, served),
    networkAliases: config.certMode === 'acme' ? certificateNames(config, served) : [],
    // nginx makes no DNS lookups.
    dns: [],
  };
}
