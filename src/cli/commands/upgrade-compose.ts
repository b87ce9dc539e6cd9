import type { Command } from 'commander';
import { lstatSync, mkdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { checkBindAddresses } from '../../stack/host.js';
import { UsageError } from '../../core/errors.js';
import { composeFilesDir, exportCompose } from '../../ops/export-compose.js';
import { up } from '../../stack/up.js';
import { printJson, type CliContext } from '../context.js';
import { runner, type Run } from '../runner.js';

/**
 * Where the file may go: a regular file or a new name, in a directory where
 * the config files' directory can be made (checked by making it: a pseudo
 * filesystem such as /proc or /sys says no only then).
 */
function checkedOutput(output: string, project: string, swarm?: boolean): string {
  const dir = dirname(output);
  if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) {
    throw new UsageError(`${dir} is not a directory: create it first, or write the compose file elsewhere`);
  }
  const existing = lstatSync(output, { throwIfNoEntry: false });
  if (existing && !existing.isFile()) throw new UsageError(`${output} exists and is not a regular file: give -o a file name`);
  const filesDir = composeFilesDir(dir, project, swarm);
  try {
    mkdirSync(filesDir, { mode: 0o755 });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EEXIST') throw new UsageError(`cannot write the config files to ${filesDir} (${code}): write the compose file elsewhere`);
    if (!lstatSync(filesDir).isDirectory()) throw new UsageError(`${filesDir} exists and is not a directory: move it away, or write the compose file elsewhere`);
  }
  return output;
}

export function register(program: Command, context: CliContext): void {
  program
    .command('upgrade')
    .description('rebuild every image with current Debian packages, then replace the containers one at a time')
    .option('--json', 'print the steps as JSON')
    .action(runner(context, async ({ config, progress, engine }: Run, opts: { json?: boolean }) => {
      const result = await up(await engine(), config, { noCache: true, rolling: true }, progress);
      if (opts.json) return printJson(context, result);
      const replaced = result.steps.filter((s) => s.kind === 'container' && s.action !== 'keep').map((s) => s.name);
      context.stdout.write(`${config.project} upgraded in ${result.seconds.toFixed(0)} s: ` +
        `${replaced.length ? `replaced ${replaced.join(', ')}` : 'every container was already on the new images'}\n`);
    }));

  program
    .command('compose')
    .description('write a docker compose file (or with --swarm a Swarm stack file) equivalent to the stack (prepares its network, volumes and certificate)')
    .option('-o, --output <file>', 'write to FILE (config files go next to it) instead of stdout')
    .option('--swarm', 'a stack file for `docker stack deploy` on this Swarm manager, pinned to this node (it holds the volumes)')
    .option('--no-cache', 'rebuild every image with current Debian packages (on Swarm: then deploy, and the services roll one at a time)')
    .option('--json', 'print where things were written as JSON')
    .action(runner(context, async ({ config, progress, engine }: Run, opts: { output?: string; swarm?: boolean; cache?: boolean; json?: boolean }) => {
      // `-o -` is stdout, as for most tools.
      const output = opts.output && opts.output !== '-' ? checkedOutput(resolve(context.cwd, opts.output), config.project, opts.swarm) : undefined;
      checkBindAddresses(config, context.env.DOCKER_HOST, undefined, { swarm: opts.swarm });
      const result = await exportCompose(await engine(), config, { output, swarm: opts.swarm, noCache: opts.cache === false }, progress);
      for (const note of result.swarm?.notes ?? []) progress.step(`note: ${note}`);
      if (opts.json) return printJson(context, { file: result.file, filesDir: result.filesDir, services: result.services, ...(result.swarm ? { swarm: result.swarm } : {}) });
      if (!output) return void context.stdout.write(result.yaml);
      context.stdout.write(`wrote ${output} (${result.services.join(', ')}; config files in ${result.filesDir})\n` + (result.swarm
        ? `deploy it with: docker stack deploy --resolve-image never -c ${opts.output} ${config.project}\n`
        : `start it with: docker-compose -f ${opts.output} up -d\n`));
    }));
}
