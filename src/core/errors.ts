/**
 * Errors that reach the user. The CLI entry point owns exit codes: a
 * UsageError exits 2, an OperationalError exits 1, anything else is a bug
 * (exit 1, with its stack only when MAILCTL_DEBUG=1).
 */

/** Bad input: a wrong flag, address, domain or `.env` value. Exit 2. */
export class UsageError extends Error {
  readonly exitCode = 2;
}

/**
 * Something failed while doing the work: the engine is down, a port is taken,
 * a build failed. `details` (e.g. a container's last log lines) is printed
 * after the one-line message.
 */
export class OperationalError extends Error {
  readonly exitCode = 1;
  constructor(message: string, readonly details?: string) {
    super(message);
  }
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
