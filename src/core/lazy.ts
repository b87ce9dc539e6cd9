/**
 * A library loaded when first used, not when mailctl starts: `--help`,
 * `--version` and most commands never need node-forge, yaml or tar, and
 * loading them is most of the CLI's start-up time.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export function lazy<T>(name: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= require(name) as T);
}
