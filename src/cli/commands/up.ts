import type { Command } from 'commander';
import type { Config } from '../../config/config.js';
import { checkBindAddresses } from '../../stack/host.js';
import { up, type UpResult } from '../../stack/up.js';
import { describePlanStep, planChanges, refusedStep } from '../../plan/stack-plan.js';
import { UsageError } from '../../core/errors.js';
import type { CliContext } from '../context.js';
import { runner, type Run } from '../runner.js';

export function register(program: Command, context: CliContext): void {
  program
    .command('up')
    .description('build what is missing and start (or update) the mail server')
    .option('--dry-run', 'print what would change, change nothing')
    .option('--rolling', 'replace containers one at a time, each healthy before the next; roll back one that is not')
    .option('--json', 'print the result as JSON')
    .action(runner(context, async ({ config, progress, engine }: Run, opts: { dryRun?: boolean; rolling?: boolean; json?: boolean }) => {
      checkBindAddresses(config, context.env.DOCKER_HOST);
      if (config.sandbox && !opts.json) {
        context.stderr.write(`no ${config.envFile}: running the local sandbox (${config.domain} on ${config.binds.join(', ')}, self-signed certificate); \`mailctl init\` writes a real .env\n`);
      }
      const docker = await engine();
      const result = await up(docker, config, { dryRun: opts.dryRun, rolling: opts.rolling }, progress);
      const text = render(result, config);
      const refused = refusedStep(result.steps);
      return {
        json: { ...result, domain: config.domain, hostname: config.hostname, ports: config.ports },
        text,
        // A dry run shows the whole plan, then says what stops it.
        error: refused ? new UsageError(`${refused.name}: ${refused.reason}`) : undefined,
      };
    }));
}

function render(result: UpResult, config: Config): string {
  const lines: string[] = [];
  const changed = planChanges(result.steps);
  if (result.dryRun) {
    lines.push(changed.length ? 'would change:' : 'nothing to change');
    for (const s of result.steps) lines.push(`  ${describePlanStep(s)}`);
    return `${lines.join('\n')}\n`;
  }
  lines.push(changed.length ? `mail server for ${config.domain} is up (${result.seconds.toFixed(1)}s)` : `mail server for ${config.domain} is up to date (${result.seconds.toFixed(1)}s, nothing changed)`);
  const p = config.ports;
  lines.push(`  hostname     ${config.hostname}`);
  lines.push(`  listening on ${config.binds.join(', ')}`);
  lines.push(`  SMTP         ${p.smtp}   submission ${p.submission} (STARTTLS), ${p.submissions} (TLS)`);
  lines.push(`  IMAP         ${p.imap} (STARTTLS), ${p.imaps} (TLS)   POP3 ${p.pop3} (STARTTLS), ${p.pop3s} (TLS)`);
  lines.push(`  ManageSieve  ${p.managesieve} (STARTTLS)`);
  lines.push(`  certificate  ${result.certificateSource}${result.caCertPath ? `: clients trust ${result.caCertPath}` : ''}`);
  if (changed.length) {
    lines.push('next steps:');
    lines.push(`  npx mailctl add-user alice@${config.domain} --password-stdin   (or without the flag: a prompt)`);
    lines.push('  npx mailctl status');
    if (!config.sandbox) lines.push('  npx mailctl dns   (the records to publish)');
  }
  return `${lines.join('\n')}\n`;
}
