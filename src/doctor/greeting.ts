/**
 * Does a service really answer on a port? A TCP connect is not enough:
 * docker's proxy accepts on a published port before the daemon listens (and
 * after it died). So read the protocol's greeting, through TLS where the port
 * is TLS from the first byte.
 */
import { connect as tcp, type Socket } from 'node:net';
import { connect as tls } from 'node:tls';

export interface Greeting {
  /** TLS from the first byte (465, 993, 995). */
  tls: boolean;
  /** What the server says first; undefined: we speak first (HTTP). */
  expect?: RegExp;
  /** What we send first, for protocols where the client starts. */
  send?: string;
  reply?: RegExp;
}

/** By the port inside the container, which is what the service speaks. */
export const GREETINGS: Record<number, Greeting> = {
  25: { tls: false, expect: /^220[ -]/ },
  587: { tls: false, expect: /^220[ -]/ },
  465: { tls: true, expect: /^220[ -]/ },
  143: { tls: false, expect: /^\* OK/ },
  993: { tls: true, expect: /^\* OK/ },
  110: { tls: false, expect: /^\+OK/ },
  995: { tls: true, expect: /^\+OK/ },
  4190: { tls: false, expect: /^"IMPLEMENTATION" / },
  80: { tls: false, send: 'HEAD / HTTP/1.0\r\n\r\n', reply: /^HTTP\/1\.[01] \d{3}/ },
  443: { tls: true, send: 'HEAD / HTTP/1.0\r\n\r\n', reply: /^HTTP\/1\.[01] \d{3}/ },
};

/** The first line the service answered, or why not. */
export function greet(host: string, port: number, greeting: Greeting, timeoutMs = 3000): Promise<{ ok: boolean; line: string }> {
  return new Promise((resolve) => {
    let data = '';
    let done = false;
    const finish = (ok: boolean, line: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ ok, line });
    };
    const timer = setTimeout(() => finish(false, data ? `no complete greeting: ${JSON.stringify(data.slice(0, 60))}` : 'no greeting'), timeoutMs);
    const socket: Socket = greeting.tls
      ? tls({ host, port, rejectUnauthorized: false }, () => { if (greeting.send) socket.write(greeting.send); })
      : tcp({ host, port }, () => { if (greeting.send) socket.write(greeting.send); });
    const pattern = greeting.expect ?? greeting.reply!;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      data += chunk;
      const line = data.split(/\r?\n/)[0];
      if (data.includes('\n') || pattern.test(line)) finish(pattern.test(line), line.trim());
    });
    socket.on('error', (err) => finish(false, (err as NodeJS.ErrnoException).code ?? err.message));
    socket.on('end', () => finish(false, data ? `closed after ${JSON.stringify(data.slice(0, 60))}` : 'closed without a greeting'));
  });
}
