import type { Command } from 'commander';
import { stackStatus, type StackStatus } from '../../stack/status.js';
import { humanSize } from '../../config/mailbox.js';
import { usageText } from './quota.js';
import { printJson, type CliContext } from '../context.js';
import { runner, type Run } from '../runner.js';

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

export function register(program: Command, context: CliContext): void {
  program
    .command('status')
    .description('show services, health, ports, certificate, users and domains')
    .option('--json', 'print the status as JSON')
    .action(runner(context, async ({ config, engine }: Run, opts: { json?: boolean }) => {
      const status = await stackStatus(await engine(), config);
      if (opts.json) return printJson(context, status);
      context.stdout.write(renderStatus(status));
    }));
}
