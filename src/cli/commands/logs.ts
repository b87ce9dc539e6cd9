import type { Command } from 'commander';
import { logTail } from '../../docker/containers.js';
import { locateService } from '../../runtime/running.js';
import { SERVICES } from '../../images/context.js';
import { OperationalError, UsageError } from '../../core/errors.js';
import { containerName } from '../../model/layout.js';
import { followLogs } from '../../stack/logs.js';
import { type CliContext } from '../context.js';
import { runner, type Run } from '../runner.js';

export function register(program: Command, context: CliContext): void {
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
      const found = await locateService(docker, config, service);
      if (!found) throw new OperationalError(`${containerName(config.project, service)} does not exist: is the stack up, with ${service} on (\`mailctl status\`)?`);
      const name = found.ref;
      if (!opts.follow) {
        const text = await logTail(docker, name, opts.tail ?? 'all');
        context.stdout.write(text ? `${text}\n` : '');
        return;
      }
      await followLogs(docker, name, opts.tail, context.stdout, context.stderr);
    }));
}
