import type { Command } from 'commander';
import { buildImages } from '../../build.js';
import { connectEngine } from '../../docker/dockerode-engine.js';
import { parseImageNames, SERVICES } from '../../images.js';
import { createProgress } from '../../progress.js';
import { configFor, printJson, type CliContext } from '../context.js';

export function register(program: Command, context: CliContext): void {
  program
    .command('build')
    .description('build the images (only what changed; --no-cache rebuilds)')
    .argument('[service...]', `images to build: ${SERVICES.join(', ')} (default: all)`)
    .option('--no-cache', 'rebuild from scratch, ignoring every cache')
    .option('--json', 'print the result as JSON')
    .action(async (services: string[], opts: { cache: boolean; json?: boolean }, command: Command) => {
      const config = configFor(command, context);
      const names = parseImageNames(services);
      const docker = await connectEngine();
      const progress = createProgress(context.stderr);
      const images = await buildImages(docker, config, { names, noCache: !opts.cache }, progress);
      progress.stop();
      if (opts.json) return printJson(context, images);
      for (const image of images) {
        const what = image.built ? `built in ${image.seconds.toFixed(1)}s` : 'up to date';
        context.stdout.write(`${image.name.padEnd(9)} ${image.ref.padEnd(28)} ${what}\n`);
      }
    });
}
