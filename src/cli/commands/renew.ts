import type { Command } from 'commander';
import { renew } from '../../certs/renew.js';
import { connectEngine } from '../../docker/dockerode-engine.js';
import { createProgress } from '../../progress.js';
import { configFor, printJson, type CliContext } from '../context.js';

export function register(program: Command, context: CliContext): void {
  program
    .command('renew')
    .description('renew the certificate now (acme: certbot; manual: re-read certs/<hostname>/) and restart (chasquid) or reload (dovecot) what serves it')
    .option('--force', 'renew even if the certificate is not due')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { force?: boolean; json?: boolean }, command: Command) => {
      const config = configFor(command, context);
      const progress = createProgress(context.stderr, opts.json);
      const result = await renew(await connectEngine(), config, { force: opts.force }, progress);
      progress.stop();
      if (opts.json) return printJson(context, result);
      const line = (label: string, c?: { serial: string; notAfter: string }) =>
        `  ${label} ${c ? `serial ${c.serial}, expires ${c.notAfter}` : 'none'}\n`;
      context.stdout.write(result.renewed ? 'certificate renewed\n' : 'certificate unchanged (not due; --force renews now)\n');
      context.stdout.write(line('before', result.before));
      context.stdout.write(line('after ', result.after));
      context.stdout.write(`  restarted ${result.restarted.length ? result.restarted.join(', ') : 'nothing'}\n`);
      if (result.reloaded.length) context.stdout.write(`  reloaded  ${result.reloaded.join(', ')} (SIGHUP: no connection dropped)\n`);
    });
}
