/** Password rules, checked before anything is sent to the container. Pure. */
import { UsageError } from '../core/errors.js';

export const MIN_PASSWORD_LENGTH = 8;
const MAX_PASSWORD_LENGTH = 1024;

/** Input from --password-stdin: one trailing newline (LF or CRLF) is not part of the password. */
export function passwordFromStdin(raw: string): string {
  return checkPassword(raw.replace(/\r?\n$/, ''));
}

export function checkPassword(password: string): string {
  if (password.length === 0) throw new UsageError('the password is empty: give one on stdin or at the prompt');
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new UsageError(`the password is too short: use at least ${MIN_PASSWORD_LENGTH} characters`);
  }
  if (password.length > MAX_PASSWORD_LENGTH) throw new UsageError(`the password is longer than ${MAX_PASSWORD_LENGTH} characters`);
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(password)) {
    throw new UsageError('the password contains a newline or control character: use one line of printable characters');
  }
  return password;
}
