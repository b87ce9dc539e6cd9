/**
 * Commands inside running containers. A secret goes on stdin (hijacked), never
 * in Cmd: exec inspect would show it.
 */
import { PassThrough } from 'node:stream';
import type { Container } from 'dockerode';

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export async function execIn(
  container: Container,
  cmd: string[],
  options: { stdin?: string; user?: string } = {},
): Promise<ExecResult> {
  const exec = await container.exec({
    Cmd: cmd,
    AttachStdout: true,
    AttachStderr: true,
    AttachStdin: options.stdin !== undefined,
    Tty: false,
    User: options.user,
  });
  const stream = await exec.start({ hijack: true, stdin: options.stdin !== undefined });
  const out = new PassThrough();
  const err = new PassThrough();
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  out.on('data', (c: Buffer) => stdout.push(c));
  err.on('data', (c: Buffer) => stderr.push(c));
  container.modem.demuxStream(stream, out, err);
  const ended = new Promise<void>((resolve, reject) => {
    stream.on('end', resolve);
    stream.on('close', resolve);
    stream.on('error', reject);
  });
  if (options.stdin !== undefined) {
    stream.write(options.stdin);
    // Half-close so the command sees end of input; the socket stays open for its output.
    (stream as unknown as { end(): void }).end();
  }
  await ended;
  const info = await exec.inspect();
  return {
    exitCode: info.ExitCode ?? -1,
    stdout: Buffer.concat(stdout).toString(),
    stderr: Buffer.concat(stderr).toString(),
  };
}

/**
 * Run `cmd` with stdin held open until `release()`: for a lock taken by a
 * command in the container (flock) that must last as long as this process
 * needs it. Resolves once the command prints `readyLine`; if this process
 * dies, the engine closes stdin and the command (and its lock) ends.
 */
export async function holdExec(
  container: Container,
  cmd: string[],
  readyLine: string,
): Promise<{ release(): Promise<void> }> {
  const exec = await container.exec({ Cmd: cmd, AttachStdout: true, AttachStderr: true, AttachStdin: true, Tty: false });
  const stream = await exec.start({ hijack: true, stdin: true });
  const out = new PassThrough();
  const err = new PassThrough();
  container.modem.demuxStream(stream, out, err);
  let stdout = '';
  let stderr = '';
  err.on('data', (c: Buffer) => { stderr += c.toString(); });
  const ended = new Promise<void>((resolve) => {
    stream.on('end', resolve);
    stream.on('close', resolve);
    stream.on('error', () => resolve());
  });
  const ready = await new Promise<boolean>((resolve) => {
    out.on('data', (c: Buffer) => {
      stdout += c.toString();
      if (stdout.includes(readyLine)) resolve(true);
    });
    void ended.then(() => resolve(false));
  });
  if (!ready) {
    const info = await exec.inspect();
    throw new Error(`${cmd.join(' ')} ended (exit ${info.ExitCode}) before it was ready: ${stderr.trim()}`);
  }
  return {
    async release() {
      (stream as unknown as { end(): void }).end();
      await ended;
    },
  };
}
