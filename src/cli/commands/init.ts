import type { Command } from 'commander';
import { resolve } from 'node:path';
import { CERT_MODES, type CertMode } from '../../config/config.js';
import { mainDomainRecords, ptrAdvice, zoneLines } from '../../dns/records.js';
import { UsageError } from '../../core/errors.js';
import { writeEnvFile, type InitAnswers } from '../../config/init.js';
import type { CliContext } from '../context.js';
import { ask } from '../prompt.js';

interface InitOptions {
  domain?: string;
  hostname?: string;
  ipv4?: string;
  ipv6?: string;
  certMode?: string;
  acmeEmail?: string;
  project?: string;
  force?: boolean;
}

export function register(program: Command, context: CliContext): void {
  program
    .command('init')
    .description('write a commented .env (from flags, or prompts on a terminal) and print the DNS records')
    .option('--domain <domain>', 'the mail domain (MAIL_DOMAIN)')
    .option('--hostname <name>', 'the server name (MAIL_HOSTNAME, default mail.DOMAIN)')
    .option('--ipv4 <address>', 'public IPv4 address (MAIL_IPV4)')
    .option('--ipv6 <address>', 'public IPv6 address (MAIL_IPV6)')
    .option('--cert-mode <mode>', `certificates: ${CERT_MODES.join(', ')} (default acme)`)
    .option('--acme-email <address>', 'contact for the ACME account')
    .option('--project <name>', 'MAILCTL_PROJECT (default mailctl)')
    .option('--force', 'replace an existing .env')
    .action(async (opts: InitOptions, command: Command) => {
      const { envFile } = command.optsWithGlobals<{ envFile?: string }>();
      const path = resolve(context.cwd, envFile ?? '.env');
      const interactive = context.stdin.isTTY && !opts.domain;
      const answers: InitAnswers = interactive ? await prompt(context, opts) : fromFlags(opts);
      const config = writeEnvFile(path, answers, opts.force ?? false);
      context.stdout.write(`wrote ${path}\n\nPublish these DNS records (zone-file syntax):\n\n`);
      context.stdout.write(zoneLines(mainDomainRecords(config)));
      context.stdout.write(ptrAdvice(config));
      context.stdout.write('\nThen run `mailctl up`.\n');
    });
}

function fromFlags(o: InitOptions): InitAnswers {
  if (!o.domain) throw new UsageError('init needs --domain (or run it on a terminal to be asked)');
  return { domain: o.domain, hostname: o.hostname, ipv4: o.ipv4, ipv6: o.ipv6, certMode: (o.certMode ?? 'acme') as CertMode, acmeEmail: o.acmeEmail, project: o.project };
}

async function prompt(context: CliContext, o: InitOptions): Promise<InitAnswers> {
  const domain = await ask(context, 'Mail domain (e.g. example.com)', o.domain);
  return {
    domain,
    hostname: (await ask(context, 'Server hostname', o.hostname ?? `mail.${domain}`)) || undefined,
    ipv4: (await ask(context, 'Public IPv4 address (empty: fill in later)', o.ipv4)) || undefined,
    ipv6: (await ask(context, 'Public IPv6 address (optional)', o.ipv6)) || undefined,
    certMode: (await ask(context, `Certificates (${CERT_MODES.join('/')})`, o.certMode ?? 'acme')) as CertMode,
    acmeEmail: (await ask(context, 'Contact e-mail for Let\'s Encrypt (optional)', o.acmeEmail)) || undefined,
    project: o.project,
  };
}
