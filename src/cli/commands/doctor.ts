import type { Command } from 'commander';
import { parseResolver } from '../../dns/check.js';
import { doctor } from '../../doctor/run.js';
import { anyFailed, type Check } from '../../doctor/judge.js';
import { OperationalError } from '../../core/errors.js';
import { printJson, type CliContext } from '../context.js';
import { runner, type Run } from '../runner.js';

export function register(program: Command, context: CliContext): void {
  program
    .command('doctor')
    .description('check engine, services, ports, certificate, DNS, reverse DNS and blocklists; exit 1 on any failure')
    .option('--resolver <host[:port]>', 'DNS server to ask (default: the system\'s)')
    .option('--json', 'print every check as JSON')
    .action(runner(context, async ({ config }: Run, opts: { resolver?: string; json?: boolean }) => {
      if (opts.resolver) parseResolver(opts.resolver);
      const checks = await doctor(config, { resolver: opts.resolver, connect: context.connect });
      const failed = checks.filter((c) => c.status === 'fail').length;
      if (opts.json) printJson(context, { project: config.project, ok: !anyFailed(checks), checks });
      else context.stdout.write(renderChecks(checks));
      if (failed) throw new OperationalError(`${failed} of ${checks.length} checks failed`);
    }));
}

function renderChecks(checks: readonly Check[]): string {
  const width = Math.max(...checks.map((c) => c.name.length));
  return checks.map((c) => {
    const line = `${c.status.toUpperCase().padEnd(4)}  ${c.name.padEnd(width)}  ${c.detail}`;
    return c.fix ? `${line}\n      ${' '.repeat(width)}  fix: ${c.fix}\n` : `${line}\n`;
  }).join('');
}
