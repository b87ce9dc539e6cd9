/**
 * The Docker API proxy the certbot sidecar talks to instead of the socket.
 * It holds the engine's socket and passes on only what policy.ts allows, for
 * one project; everything else answers 403. Runs in its own container
 * (images/dockerproxy), bundled with esbuild at build time.
 */
import { LABEL } from '../model/labels.js';
import { chmodSync, rmSync } from 'node:fs';
import http from 'node:http';
import { classify, forcedUpdateOf, mayReload, mayRestart, mayRestartService, ownsContainer, scopedListQuery } from './policy.js';

const SOCKET = process.env.DOCKER_SOCKET ?? '/var/run/docker.sock';
const PROJECT = process.env.MAILCTL_PROJECT ?? '';
const LISTEN = process.env.PROXY_SOCKET ?? '/run/mailctl-proxy/docker.sock';

function engine(method: string, path: string, json?: unknown): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const headers = { Host: 'docker', ...(json === undefined ? {} : { 'Content-Type': 'application/json' }) };
    const req = http.request({ socketPath: SOCKET, method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(json === undefined ? undefined : JSON.stringify(json));
  });
}

async function labelsOf(id: string): Promise<Record<string, string> | undefined> {
  const res = await engine('GET', `/containers/${encodeURIComponent(id)}/json`);
  if (res.status !== 200) return undefined;
  return (JSON.parse(res.body.toString()) as { Config?: { Labels?: Record<string, string> } }).Config?.Labels;
}

interface ServiceInfo { Version: { Index: number }; Spec: { Labels?: Record<string, string>; TaskTemplate?: { ForceUpdate?: number } } }

async function service(id: string): Promise<{ res: Awaited<ReturnType<typeof engine>>; info?: ServiceInfo }> {
  const res = await engine('GET', `/services/${encodeURIComponent(id)}`);
  return { res, info: res.status === 200 ? (JSON.parse(res.body.toString()) as ServiceInfo) : undefined };
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
        if (!mayRestart(await labelsOf(request.id), PROJECT)) return deny(res, `restarting ${request.id} is not allowed (only ${PROJECT}'s chasquid; on Swarm, its service)`);
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
      case 'service-inspect': {
        const { res: r, info } = await service(request.id);
        if (!ownsContainer(info?.Spec.Labels, PROJECT)) return deny(res, `service ${request.id} is not part of ${PROJECT}`);
        return send(res, r.status, r.body);
      }
      case 'service-restart': {
        const { info } = await service(request.id);
        if (!info || !mayRestartService(info.Spec.Labels, PROJECT)) return deny(res, `updating service ${request.id} is not allowed (only restarting ${PROJECT}'s chasquid)`);
        console.log(`restart service ${request.id}`);
        // Rebuilt, not passed on: the service's own spec, at its own version, with only ForceUpdate changed.
        const r = await engine('POST', `/services/${encodeURIComponent(request.id)}/update?version=${info.Version.Index}`, forcedUpdateOf(info.Spec));
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
