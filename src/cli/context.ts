import type { Command } from 'commander';
import type { Config } from '../config/config.js';
import { loadConfig } from '../config/load.js';
import type { Engine } from '../docker/engine.js';

/** What commands get from the outside world; tests pass their own. */
export interface CliContext {
  env: NodeJS.ProcessEnv;
  cwd: string;
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  stdin: NodeJS.ReadStream;
  /** The engine: Docker through dockerode, loaded only by commands that use it; tests pass a fake. */
  connect: () => Promise<Engine>;
}

export const connectDocker = async (): Promise<Engine> => (await import('../docker/dockerode-engine.js')).connectEngine();

/** Load the one Config for this run, honouring the global --env-file. */
export function configFor(command: Command, context: CliContext): Config {
  const { envFile } = command.optsWithGlobals<{ envFile?: string }>();
  return loadConfig({ envFile, cwd: context.cwd, env: context.env });
}

export function printJson(context: CliContext, value: unknown): void {
  context.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
