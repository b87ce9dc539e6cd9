import type { Command } from 'commander';
import { healthOf, logTail } from '../../docker/containers.js';
import { SERVICES } from '../../images/context.js';
import { OperationalError, UsageError } from '../../core/errors.js';
import { containerName } from '../../model/layout.js';
import { down } from '../../stack/down.js';
import { followLogs } from '../../stack/logs.js';
import { stackStatus, type StackStatus } from '../../stack/status.js';
import { humanSize } from '../../config/mailbox.js';
import { usageText } from './quota.js';
import { printJson, type CliContext } from '../context.js';
import { runner, type Run } from '../runner.js';

export function register(program: Command, context: CliContext): void {
  program
    .command('down')
    .description('stop and remove the containers and network (data volumes are kept)')
    .option('--volumes', 'also remove every data volume: mail, users, queue, certificates')
    .option('--yes', 'confirm --volumes')
    .option('--json', 'print the result as JSON')
    .action(runner(context, async ({ config, progress, engine }: Run, opts: { volumes?: boolean; yes?: boolean; json?: boolean }) => {
      if (opts.volumes && !opts.yes) {
        throw new UsageError(`--volumes deletes all mail, users and certificates of ${config.project}: add --yes to confirm`);
      }
      const result = await down(await engine(), config, { volumes: opts.volumes }, progress);
      if (opts.json) return printJson(context, result);
      context.stdout.write(`${config.project} is down (${result.containers.length} containers removed; ` +
        `${opts.volumes ? `${result.volumes.length} volumes removed` : 'data volumes kept'})\n`);
    }));

  program
    .command('status')
    .description('show services, health, ports, certificate, users and domains')
    .option('--json', 'print the status as JSON')
    .action(runner(context, async ({ config, engine }: Run, opts: { json?: boolean }) => {
      const status = await stackStatus(await engine(), config);
      if (opts.json) return printJson(context, status);
      context.stdout.write(renderStatus(status));
    }));

  program
    .command('logs')
    .description("print a service's logs (chasquid, dovecot, ...)")
    .argument('<service>', 'the service, e.g. chasquid or dovecot')
    .option('-f, --follow', 'keep printing new lines')
    .option('-n, --tail <lines>', 'only the last N lines', (v) => {
      if (!/^\d+$/.test(v)) throw new UsageError(`--tail "${v}" is not a number of lines`);
      return Number(v);
    })
    .action(runner(context, async ({ config, engine }: Run, service: string, opts: { follow?: boolean; tail?: number }) => {
      if (!(SERVICES as readonly string[]).includes(service)) {
        throw new UsageError(`unknown service "${service}": one of ${SERVICES.join(', ')}`);
      }
      const docker = await engine();
      const name = containerName(config.project, service);
      if (!(await healthOf(docker, name))) throw new OperationalError(`${name} does not exist: is the stack up, with ${service} on (\`mailctl status\`)?`);
      if (!opts.follow) {
        const text = await logTail(docker, name, opts.tail ?? 'all');
        context.stdout.write(text ? `${text}\n` : '');
        return;
      }
      await followLogs(docker, name, opts.tail, context.stdout, context.stderr);
    }));
}

function age(seconds?: number): string {
  if (seconds === undefined) return '-';
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  if (seconds < 172800) return `${Math.round(seconds / 3600)}h`;
  return `${Math.round(seconds / 86400)}d`;
}

function renderStatus(s: StackStatus): string {
  const lines = [`${s.project}: ${s.domain} (${s.hostname})`];
  if (s.services.length === 0) lines.push('  no containers: start the stack with `mailctl up`');
  for (const svc of s.services) {
    lines.push(`  ${svc.service.padEnd(9)} ${svc.state.padEnd(8)} ${svc.health.padEnd(9)} up ${age(svc.uptimeSeconds).padEnd(5)} ${svc.image}  ${svc.network === 'host' && svc.ports.length ? 'listens on ' : ''}${svc.ports.join(' ')}`);
    if (svc.version) lines.push(`  ${''.padEnd(9)} ${svc.version}`);
  }
  const cert = (c: NonNullable<StackStatus['certificate']>) =>
    `${c.subject}, issuer ${c.issuer}, expires ${c.notAfter} (${c.daysLeft} days), serial ${c.serial}`;
  if (s.certificate) lines.push(`  certificate ${cert(s.certificate)} [${s.certMode}]`);
  if (s.served && s.served.serial !== s.certificate?.serial) lines.push(`  served      ${cert(s.served)} (not yet the one above: restart pending)`);
  if (s.acme?.lastSuccess) lines.push(`  acme        last success ${s.acme.lastSuccess}`);
  if (s.acme?.lastError) lines.push(`  acme        LAST ERROR ${s.acme.lastError.replace(/\n/g, ' | ')}`);
  lines.push(`  filters     spamassassin ${s.filters.spamassassin ? 'on' : 'off'}, clamav ${s.filters.clamav ? 'on' : 'off'}`);
  if (s.users !== undefined) lines.push(`  users       ${s.users}`);
  if (s.domains !== undefined) lines.push(`  domains     ${s.domains.length} (${s.domains.join(', ')})`);
  if (s.quota) {
    lines.push(`  quota       ${s.quota.default ? `${humanSize(s.quota.default)} a mailbox (MAIL_QUOTA)` : 'none (MAIL_QUOTA=0)'}`);
    for (const u of s.quota.usage) lines.push(`    ${u.address}  ${usageText(u)}`);
  }
  return `${lines.join('\n')}\n`;
}
