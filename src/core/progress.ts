/**
 * Progress for long work (builds, waiting for health). On a terminal a
 * spinner line shows the current detail; otherwise every step and detail is
 * a plain line. Always on stderr, so stdout stays for results and --json.
 */
import type { WriteStream } from 'node:tty';

export interface Progress {
  /** A milestone, always printed as its own line. */
  step(message: string): void;
  /** Transient detail (a build step, a wait); a spinner on a TTY. */
  detail(message: string): void;
  /** Stop any spinner (before printing results). */
  stop(): void;
}

const DETAIL_EVERY_MS = 3000;
const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export function createProgress(stream: NodeJS.WriteStream = process.stderr, quiet = false): Progress {
  if (quiet) return { step() {}, detail() {}, stop() {} };
  if (!stream.isTTY) {
    // Plain lines for logs: every step, and a detail at most every few
    // seconds so a long build or wait shows it is alive without flooding.
    let lastDetail = 0;
    return {
      step: (m) => stream.write(`${m}\n`),
      detail(m) {
        const now = Date.now();
        if (now - lastDetail < DETAIL_EVERY_MS) return;
        lastDetail = now;
        stream.write(`  ${m}\n`);
      },
      stop() {},
    };
  }
  const tty = stream as WriteStream;
  let current = '';
  let frame = 0;
  let timer: NodeJS.Timeout | undefined;
  const render = () => {
    const width = Math.max(20, (tty.columns ?? 80) - 4);
    tty.write(`\r\x1b[2K${FRAMES[frame++ % FRAMES.length]} ${current.slice(0, width)}`);
  };
  const clear = () => tty.write('\r\x1b[2K');
  return {
    step(message) {
      clear();
      tty.write(`${message}\n`);
      if (timer) render();
    },
    detail(message) {
      current = message.replace(/\s+/g, ' ').trim();
      if (!timer) timer = setInterval(render, 100).unref();
      render();
    },
    stop() {
      if (timer) clearInterval(timer);
      timer = undefined;
      clear();
    },
  };
}
