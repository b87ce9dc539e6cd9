import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { register as build } from './build.js';
import { register as up } from './up.js';

/** Every command, in the order `--help` lists them. */
export function registerCommands(program: Command, context: CliContext): void {
  for (const register of [build, up]) register(program, context);
}
