/**
 * The one shape of every command: load the config, check the arguments,
 * connect (only when the work needs the engine), run one library call with
 * progress on stderr, print text or --json on stdout. A result may carry an
 * error to raise after it is printed (`dns --check`, `doctor`: the report,
 * then exit 1).
 */
import type { Command } from 'commander';
import type { Config } from '../config/config.js';
import type { Engine } from '../docker/engine.js';
import { createProgress, type Progress } from '../core/progress.js';
import { configFor, printJson, type CliContext } from './context.js';

export interface Output {
  json: unknown;
  text: string;
  /** Raised after the output is printed. */
  error?: Error;
}

export interface Run {
  config: Config;
  progress: Progress;
  json: boolean;
  /** Connects on first use: a command that fails on its arguments never touches the engine. */
  engine(): Promise<Engine>;
  /** The config again, after the command wrote the .env (restore on a new host). */
  reloadConfig(): Config;
}

// commander passes (...arguments, options, command).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function runner<A extends any[]>(context: CliContext, work: (run: Run, ...args: A) => Promise<Output | void>) {
  return async (...args: unknown[]) => {
    const command = args[args.length - 1] as Command;
    const opts = (args[args.length - 2] ?? {}) as { json?: boolean };
    const config = configFor(command, context);
    const progress = createProgress(context.stderr, opts.json);
    let engine: Promise<Engine> | undefined;
    try {
      const out = await work({ config, progress, json: opts.json ?? false, engine: () => (engine ??= context.connect()), reloadConfig: () => configFor(command, context) }, ...(args.slice(0, -1) as A));
      progress.stop();
      if (!out) return;
      if (opts.json) printJson(context, out.json);
      else if (out.text) context.stdout.write(out.text.endsWith('\n') ? out.text : `${out.text}\n`);
      if (out.error) throw out.error;
    } finally {
      progress.stop();
    }
  };
}

/**
 * The engine-first form most commands use: `prepare` checks the arguments
 * before the engine is connected (a bad address never reaches it).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function action<A extends any[]>(
  context: CliContext,
  run: (engine: Engine, config: Config, progress: Progress, ...args: A) => Promise<Output>,
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  prepare?: (...args: any[]) => void | Promise<void>,
) {
  return runner(context, async (r: Run, ...args: A) => {
    await prepare?.(...args);
    return run(await r.engine(), r.config, r.progress, ...args);
  });
}
