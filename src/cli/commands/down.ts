import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import { down } from '../../stack/down.js';
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
}
