/**
 * The Docker API proxy the certbot sidecar talks to instead of the socket.
 * It holds the engine's socket and passes on only what policy.ts allows, for
 * one project; everything else answers 403. Runs in its own container
 * (images/dockerproxy), bundled with esbuild at build time.
 */
import { LABEL } from '../model/labels.js';
import { chmodSync, rmSync } from 'node:fs';
import http from 'node:http';
import { classify, mayReload, mayRestart, ownsContainer, scopedListQuery } from './policy.js';

const SOCKET = process.env.DOCKER_SOCKET ?? '/var/run/docker.sock';
const PROJECT = process.env.MAILCTL_PROJECT ?? '';
const LISTEN = process.env.PROXY_SOCKET ?? '/run/mailctl-proxy/docker.sock';

function engine(method: string, path: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: SOCKET, method, path, headers: { Host: 'docker' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function labelsOf(id: string): Promise<Record<string, string> | undefined> {
  const res = await engine('GET', `/containers/${encodeURIComponent(id)}/json`);
  if (res.status !== 200) return undefined;
  return (JSON.parse(res.body.toString()) as { Config?: { Labels?: Record<string, string> } }).Config?.Labels;
}

function send(res: http.ServerResponse, status: number, body: Buffer | string, type = 'application/json'): void {
  res.writeHead(status, { 'Content-Type': type });
  res.end(body);
}

const deny = (res: http.ServerResponse, reason: string) => {
  console.log(`denied: ${reason}`);
  send(res, 403, JSON.stringify({ message: `mailctl docker proxy: ${reason}` }));
};

const server = http.createServer(async (req, res) => {
  req.resume();
  const method = req.method ?? 'GET';
  const url = req.url ?? '/';
  const request = classify(method, url);
  try {
    switch (request.kind) {
      case 'denied':
        return deny(res, request.reason);
      case 'ping': {
        const r = await engine(method, url);
        return send(res, r.status, r.body, String(r.headers['content-type'] ?? 'text/plain'));
      }
      case 'list': {
        const r = await engine('GET', scopedListQuery(url, `${LABEL.project}=${PROJECT}`));
        return send(res, r.status, r.body);
      }
      case 'inspect': {
        if (!ownsContainer(await labelsOf(request.id), PROJECT)) return deny(res, `container ${request.id} is not part of ${PROJECT}`);
        const r = await engine('GET', url);
        return send(res, r.status, r.body);
      }
      case 'restart': {
        if (!mayRestart(await labelsOf(request.id), PROJECT)) return deny(res, `restarting ${request.id} is not allowed (only ${PROJECT}'s chasquid)`);
        console.log(`restart ${request.id}`);
        // Rebuilt, not passed on: the caller chooses neither the stop signal nor the timeout.
        const r = await engine('POST', `/containers/${encodeURIComponent(request.id)}/restart?t=10`);
        return send(res, r.status, r.body);
      }
      case 'reload': {
        if (!mayReload(await labelsOf(request.id), PROJECT)) return deny(res, `signalling ${request.id} is not allowed (only SIGHUP to ${PROJECT}'s dovecot and web)`);
        console.log(`SIGHUP ${request.id}`);
        // The path is rebuilt, not passed on: exactly one signal, SIGHUP.
        const r = await engine('POST', `/containers/${encodeURIComponent(request.id)}/kill?signal=SIGHUP`);
        return send(res, r.status, r.body);
      }
    }
  } catch (err) {
    send(res, 502, JSON.stringify({ message: `mailctl docker proxy: engine error: ${(err as Error).message}` }));
  }
});

if (!PROJECT) {
  console.error('MAILCTL_PROJECT is not set');
  process.exit(2);
}
// A unix socket on a volume only the certbot sidecar shares; root only. A stale one
// (from the previous run of this container) is replaced.
rmSync(LISTEN, { force: true });
server.listen(LISTEN, () => {
  chmodSync(LISTEN, 0o600);
  console.log(`mailctl docker proxy for ${PROJECT} on ${LISTEN}`);
});
