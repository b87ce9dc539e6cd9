import type { Command } from 'commander';
import { buildImages } from '../../images/build.js';
import { parseImageNames, SERVICES } from '../../images/context.js';
import { printJson, type CliContext } from '../context.js';
import { runner, type Run } from '../runner.js';

export function register(program: Command, context: CliContext): void {
  program
    .command('build')
    .description('build the images (only what changed; --no-cache rebuilds)')
    .argument('[service...]', `images to build: ${SERVICES.join(', ')} (default: all)`)
    .option('--no-cache', 'rebuild from scratch, ignoring every cache')
    .option('--json', 'print the result as JSON')
    .action(runner(context, async ({ config, progress, engine }: Run, services: string[], opts: { cache: boolean; json?: boolean }) => {
      const names = parseImageNames(services);
      const docker = await engine();
      const images = await buildImages(docker, config, { names, noCache: !opts.cache }, progress);
      if (opts.json) return printJson(context, images);
      for (const image of images) {
        const what = image.built ? `built in ${image.seconds.toFixed(1)}s` : 'up to date';
        context.stdout.write(`${image.name.padEnd(9)} ${image.ref.padEnd(28)} ${what}\n`);
      }
    }));
}
