/** Reading the configuration: `.env` (or --env-file) checked as a file, real environment variables on top. */
import { closeSync, existsSync, lstatSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { resolve } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { UsageError } from '../core/errors.js';
import { envFileProblem, envLineProblems } from './check.js';
import { buildConfig, CONFIG_KEYS, SANDBOX_DEFAULTS, type Config, type Key } from './config.js';

export interface LoadOptions {
  /** --env-file; when given it must exist. */
  envFile?: string;
  cwd?: string;
  env?: Record<string, string | undefined>;
}

/** Read `.env` + environment and build the Config, or throw one UsageError listing every problem. */
export function loadConfig(options: LoadOptions = {}): Config {
  const cwd = options.cwd ?? process.cwd();
  const envFile = resolve(cwd, options.envFile ?? '.env');
  let fileValues: Record<string, string> = {};
  const exists = existsSync(envFile);
  if (options.envFile !== undefined && !exists) {
    throw new UsageError(`env file ${envFile} does not exist: create it with \`mailctl init\` or fix --env-file`);
  }
  let lineProblems: string[] = [];
  if (exists) {
    try {
      const st = statSync(envFile);
      const fd = openSync(envFile, 'r');
      let text: Buffer;
      try {
        const head = Buffer.alloc(Math.min(st.size, 4096));
        readSync(fd, head, 0, head.length, 0);
        const problem = envFileProblem(st.isFile() ? 'file' : st.isDirectory() ? 'directory' : 'other', st.size, head);
        if (problem) throw new UsageError(`${envFile} ${problem}: it must be a file of KEY=value lines (\`mailctl init\` writes one)`);
        text = readFileSync(fd);
      } finally {
        closeSync(fd);
      }
      fileValues = parseDotenv(text);
      lineProblems = envLineProblems(text.toString());
    } catch (err) {
      if (err instanceof UsageError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'EISDIR' ? 'is a directory' : code === 'EACCES' ? 'cannot be read (permission denied)' : `cannot be read (${code ?? (err as Error).message})`;
      throw new UsageError(`${envFile} ${why}: it must be a file of KEY=value lines (\`mailctl init\` writes one)`);
    }
  } else if (lstatOrUndefined(envFile)?.isSymbolicLink()) {
    // A link to nothing must not quietly become the sandbox.
    throw new UsageError(`${envFile} is a link to a file that does not exist: fix the link or remove it`);
  }
  const env = options.env ?? {};
  const raw: Partial<Record<Key, string>> = { ...(exists ? {} : SANDBOX_DEFAULTS) };
  for (const key of CONFIG_KEYS) {
    const value = env[key] ?? fileValues[key];
    if (value !== undefined && value.trim() !== '') raw[key] = value.trim();
  }
  return buildConfig(raw, { sandbox: !exists, envFile, siteDir: resolve(envFile, '..'), ipv6: hostHasIPv6(), fileKeys: Object.keys(fileValues), lineProblems });
}

function lstatOrUndefined(path: string) {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

/** Does this host have IPv6 at all (an IPv6 address on some interface, ::1 included)? */
function hostHasIPv6(): boolean {
  return Object.values(networkInterfaces()).some((addrs) => (addrs ?? []).some((a) => a.family === 'IPv6'));
}
