/** `mailctl init`: a commented .env, checked before it is written. Pure rendering + one atomic write. */
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { buildConfig, type Config, type CertMode, LETSENCRYPT } from './config.js';
import { writeAtomic } from '../core/files.js';
import { UsageError } from '../core/errors.js';

export interface InitAnswers {
  domain: string;
  hostname?: string;
  ipv4?: string;
  ipv6?: string;
  certMode: CertMode;
  acmeEmail?: string;
  project?: string;
}

export function renderEnvFile(a: InitAnswers): string {
  const line = (key: string, value: string | undefined, comment: string) =>
    `# ${comment}\n${value ? '' : '#'}${key}=${value ?? ''}\n`;
  return [
    '# mailctl settings. Change a value, then run `mailctl up`: only what it affects is recreated.\n',
    line('MAIL_DOMAIN', a.domain, 'The mail domain: addresses are user@MAIL_DOMAIN.'),
    line('MAIL_HOSTNAME', a.hostname, 'The server\'s name, in MX and in the certificate (default mail.MAIL_DOMAIN).'),
    line('MAIL_IPV4', a.ipv4, 'Public addresses of the server, for the DNS records (`mailctl dns`).'),
    line('MAIL_IPV6', a.ipv6, 'IPv6 is optional but encouraged.'),
    line('CERT_MODE', a.certMode, 'selfsigned (local CA), acme (certbot, Let\'s Encrypt) or manual (certs/<hostname>/).'),
    line('ACME_EMAIL', a.acmeEmail, 'Contact for the ACME account (expiry notices).'),
    line('ACME_SERVER', undefined, `ACME directory (default ${LETSENCRYPT}).`),
    line('MAILCTL_PROJECT', a.project, 'Prefix of containers, volumes and network (default mailctl).'),
    line('MAIL_BIND', undefined, 'Addresses chasquid and dovecot listen on, comma-separated (default 0.0.0.0,:: = every address, IPv4 and IPv6).'),
    line('MAIL_POSTMASTER', undefined, 'Where postmaster@ and abuse@ of every domain deliver (default: the first account added).'),
    line('MAIL_DNS', undefined, 'Resolvers the containers use (default: the engine\'s).'),
  ].join('\n');
}

/** Check the answers as a Config would, then write `path` (never over an existing file unless `force`). */
export function writeEnvFile(path: string, answers: InitAnswers, force: boolean): Config {
  if (existsSync(path) && !force) throw new UsageError(`${path} already exists: edit it, or run init with --force to replace it`);
  const valuesOf = (text: string) => Object.fromEntries(
    text.split('\n').filter((l) => /^[A-Z_0-9]+=/.test(l)).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  const config = buildConfig(valuesOf(renderEnvFile(answers)), { sandbox: false, envFile: path, siteDir: dirname(path) });
  // Written as normalised (lower case, punycode), so the file says what mailctl uses.
  writeAtomic(path, renderEnvFile({ ...answers, domain: config.domain, hostname: answers.hostname && config.hostname }), 0o600);
  return config;
}
