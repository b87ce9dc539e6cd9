import type { Command } from 'commander';
import { currentDomains } from '../../accounts/domains.js';
import { renew } from '../../certs/renew.js';
import { printJson, type CliContext } from '../context.js';
import { runner, type Run } from '../runner.js';

export function register(program: Command, context: CliContext): void {
  program
    .command('renew')
    .description('renew the certificate now (acme: certbot; manual: re-read certs/<hostname>/) and restart (chasquid) or reload (dovecot) what serves it')
    .option('--force', 'renew even if the certificate is not due')
    .option('--json', 'print the result as JSON')
    .action(runner(context, async ({ config, progress, engine }: Run, opts: { force?: boolean; json?: boolean }) => {
      const docker = await engine();
      const result = await renew(docker, config, { force: opts.force, domains: await currentDomains(docker, config) }, progress);
      if (opts.json) return printJson(context, result);
      const line = (label: string, c?: { serial: string; notAfter: string }) =>
        `  ${label} ${c ? `serial ${c.serial}, expires ${c.notAfter}` : 'none'}\n`;
      context.stdout.write(result.renewed ? 'certificate renewed\n' : 'certificate unchanged (not due; --force renews now)\n');
      context.stdout.write(line('before', result.before));
      context.stdout.write(line('after ', result.after));
      context.stdout.write(`  restarted ${result.restarted.length ? result.restarted.join(', ') : 'nothing'}\n`);
      if (result.reloaded.length) context.stdout.write(`  reloaded  ${result.reloaded.join(', ')} (SIGHUP: no connection dropped)\n`);
    }));
}
