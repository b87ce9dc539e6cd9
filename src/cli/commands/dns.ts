import type { Command } from 'commander';
import { stackRecords } from '../../accounts/records.js';
import { checkRecords, parseResolver } from '../../dns/check.js';
import { ptrAdvice, zoneLines } from '../../dns/records.js';
import { OperationalError } from '../../core/errors.js';
import { normalizeDomain } from '../../names/validate.js';
import { printJson, type CliContext } from '../context.js';
import { runner, type Run } from '../runner.js';

export function register(program: Command, context: CliContext): void {
  program
    .command('dns')
    .description('print the DNS records to publish (A/AAAA, MX, SPF, DKIM, DMARC); --check resolves them')
    .option('--domain <domain>', 'only this domain')
    .option('--check', 'resolve every record and report ok / missing / wrong (exit 1 unless all ok)')
    .option('--resolver <host[:port]>', 'DNS server to ask (default: the system\'s)')
    .option('--json', 'print a JSON array, one object per record')
    .action(runner(context, async ({ config, engine }: Run, opts: { domain?: string; check?: boolean; resolver?: string; json?: boolean }) => {
      if (opts.resolver) parseResolver(opts.resolver);
      const only = opts.domain ? normalizeDomain(opts.domain) : undefined;
      const docker = await engine();
      const records = await stackRecords(docker, config, only);
      if (!opts.check) {
        if (opts.json) return printJson(context, records);
        context.stdout.write(zoneLines(records));
        context.stdout.write(ptrAdvice(config));
        return;
      }
      const results = await checkRecords(records, opts.resolver);
      if (opts.json) printJson(context, results);
      else {
        for (const r of results) {
          const line = `${r.status.padEnd(7)} ${r.name} ${r.type}`;
          context.stdout.write(r.status === 'ok' ? `${line}\n` : `${line}: expected ${r.value ?? 'any'}${r.found.length ? `, found ${r.found.join(' | ')}` : ''}\n`);
        }
      }
      const bad = results.filter((r) => r.status !== 'ok').length;
      if (bad) throw new OperationalError(`${bad} of ${results.length} DNS records are missing or wrong`);
    }));
}
