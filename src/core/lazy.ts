/**
 * A library loaded when first used, not when mailctl starts: `--help`,
 * `--version` and most commands never need node-forge, yaml or tar, and
 * loading them is most of the CLI's start-up time.
 */
import { createRequire } from 'node:module';

// In the sidecars' CommonJS bundles import.meta is empty and require is there (found by the
// certificates e2e: the renewal hook died at start); in mailctl itself (ESM) it is the other way.
const load: NodeJS.Require = typeof require === 'function' ? require : createRequire(import.meta.url);

export function lazy<T>(name: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= load(name) as T);
}
