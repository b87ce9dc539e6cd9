/**
 * `doctor`: is every domain's autoconfig, autodiscover and mta-sts name
 * served on MAIL_PORT_HTTPS, with a certificate that names it, and does each
 * answer what clients and senders ask (asked here by address, with the name
 * as SNI and Host, as a client that resolved it would)?
 */
import { request } from 'node:https';
import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import type { Config } from '../config/config.js';
import { locateService } from '../runtime/running.js';
import type { Engine } from '../docker/engine.js';
import { probeAddress } from '../model/listen.js';
import { servedDomains } from '../certs/names.js';
import { currentDomains } from '../accounts/domains.js';
import type { Check } from './judge.js';

/** What each name must answer, and how to tell it did. */
const ASKED = {
  autoconfig: { method: 'GET', path: '/mail/config-v1.1.xml', expect: /<clientConfig/ },
  autodiscover: { method: 'POST', path: '/autodiscover/autodiscover.xml', expect: /<Autodiscover/ },
  'mta-sts': { method: 'GET', path: '/.well-known/mta-sts.txt', expect: /^version: STSv1\r?$/m },
} as const;

interface Answer { status?: number; body: string; cert?: PeerCertificate; error?: string }

export function fetchByName(address: string, port: number, name: string, method: string, path: string, timeoutMs = 4000): Promise<Answer> {
  return new Promise((resolve) => {
    const req = request({ host: address, port, method, path, servername: name, headers: { Host: name, 'Content-Type': 'text/xml' }, rejectUnauthorized: false, timeout: timeoutMs }, (res) => {
      const cert = (res.socket as import('node:tls').TLSSocket).getPeerCertificate();
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { if (body.length < 65536) body += c; });
      res.on('end', () => resolve({ status: res.statusCode, body, cert }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (err) => resolve({ body: '', error: (err as NodeJS.ErrnoException).code ?? err.message }));
    req.end(method === 'POST' ? '<Autodiscover/>' : undefined);
  });
}

/** `up`: the command that brings the stack back (`mailctl up`, or a Swarm redeploy), for the fixes. */
export async function webChecks(docker: Engine, config: Config, up: string): Promise<Check[]> {
  if ((await locateService(docker, config, 'web'))?.state !== 'running') return [];
  const address = probeAddress(config.binds);
  const checks: Check[] = [];
  for (const domain of servedDomains(config, await currentDomains(docker, config))) {
    for (const [label, ask] of Object.entries(ASKED)) {
      const name = `${label}.${domain}`;
      const check = `web ${name}`;
      const answer = await fetchByName(address, config.ports.https, name, ask.method, ask.path);
      const mismatch = answer.cert ? checkServerIdentity(name, answer.cert) : undefined;
      if (answer.error) checks.push({ name: check, status: 'fail', detail: `no answer on port ${config.ports.https}: ${answer.error}`, fix: `see \`mailctl logs web\`, then ${up}` });
      else if (mismatch) checks.push({ name: check, status: 'fail', detail: `the certificate does not name ${name}`, fix: config.certMode === 'manual' ? `add ${name} to certs/${config.hostname}/fullchain.pem` : 'run `mailctl renew --force` (acme: publish the name in DNS first, see `mailctl dns`)' });
      else if (answer.status !== 200 || !ask.expect.test(answer.body)) checks.push({ name: check, status: 'fail', detail: `${ask.method} ${ask.path} answered ${answer.status}`, fix: `run ${up}` });
      else checks.push({ name: check, status: 'ok', detail: `${ask.method} ${ask.path}: 200, certificate names it` });
    }
  }
  return checks;
}
