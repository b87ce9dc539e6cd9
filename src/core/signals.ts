/**
 * Work that must not be cut in half by Ctrl-C or SIGTERM (an account change
 * across two containers; services paused for a backup): the signal waits for
 * the end of it, saying so. A second signal still ends the process at once,
 * since a handler registered with `once` is gone after the first.
 */
export async function deferSignals<T>(what: string, work: () => Promise<T>): Promise<T> {
  const handlers = (['SIGINT', 'SIGTERM'] as const).map((signal) => [signal, () => {
    process.stderr.write(`mailctl: ${signal}: finishing ${what} first (again to abort at once)\n`);
  }] as const);
  for (const [signal, handler] of handlers) process.once(signal, handler);
  try {
    return await work();
  } finally {
    for (const [signal, handler] of handlers) process.removeListener(signal, handler);
  }
}
