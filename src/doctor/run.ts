/**
 * `mailctl doctor`: everything a mail server needs to be reachable and
 * trusted, checked from outside the containers: the engine, each service's
 * health, each published port, the certificate, DNS, reverse DNS and
 * blocklists. Checks that need the engine are skipped (failed) without it;
 * the DNS ones still run.
 */
import { Resolver } from 'node:dns/promises';
import { stackRecords } from '../accounts/records.js';
import { summarizeCertificate, volumeCertificatePem } from '../certs/install.js';
import { servedCertificate } from '../certs/probe.js';
import { hostPort, probeAddress, probeAddresses } from '../model/listen.js';
import type { Config } from '../config/config.js';
import { checkRecords, parseResolver } from '../dns/check.js';
import { mainDomainRecords, zoneLines } from '../dns/records.js';
import { healthOf } from '../docker/containers.js';
import { locateService, swarmServices } from '../runtime/running.js';
import type { Engine } from '../docker/engine.js';
import { errorMessage } from '../core/errors.js';
import { stackSpecs, neededImages } from '../plan/services.js';
import { HEALTH_PROBE } from '../model/layout.js';
import { greet, GREETINGS } from './greeting.js';
import { webChecks } from './web.js';
import { certificateExpiry, dnsblQueryName, dnsblVerdict, ptrVerdict, type Check } from './judge.js';

export interface DoctorOptions {
  resolver?: string;
  /** Connect to the engine (the command's; tests pass a fake or a failure). */
  connect: () => Promise<Engine>;
}

export async function doctor(config: Config, options: DoctorOptions): Promise<Check[]> {
  const checks: Check[] = [];
  let docker: Engine | undefined;
  try {
    docker = await options.connect();
    checks.push({ name: 'docker engine', status: 'ok', detail: 'answers' });
  } catch (err) {
    checks.push({ name: 'docker engine', status: 'fail', detail: errorMessage(err), fix: 'start it: `make engine`, or `systemctl start docker`' });
  }
  if (docker) {
    const up = await upCommand(docker, config);
    checks.push(...(await serviceChecks(docker, config, up)));
    checks.push(await certificateCheck(docker, config, up));
    checks.push(...(await servedCertificateChecks(docker, config, up)));
    checks.push(...(await webChecks(docker, config, up)));
  }
  const resolver = new Resolver({ timeout: 3000, tries: 2 });
  if (options.resolver) resolver.setServers([parseResolver(options.resolver)]);
  checks.push(...(await dnsChecks(docker, config, options.resolver)));
  checks.push(...(await reverseChecks(resolver, config)));
  checks.push(...(await blocklistChecks(resolver, config)));
  return checks;
}

/** What brings the stack back in a fix: `mailctl up`, or for a Swarm stack a redeploy (`up` refuses one). */
async function upCommand(docker: Engine, config: Config): Promise<string> {
  if ((await swarmServices(docker, config.project).catch(() => [])).length === 0) return '`mailctl up`';
  return `\`mailctl compose --swarm -o FILE\` and \`docker stack deploy --resolve-image never -c FILE ${config.project}\``;
}

/** The specs say what should run and where it listens; images do not matter here. */
function expectedSpecs(config: Config) {
  return stackSpecs(config, { images: Object.fromEntries(neededImages(config).map((n) => [n, n])), acmeCaBundle: undefined });
}

async function serviceChecks(docker: Engine, config: Config, up: string): Promise<Check[]> {
  const checks: Check[] = [];
  for (const spec of expectedSpecs(config)) {
    const found = await locateService(docker, config, spec.service);
    const health = found && (await healthOf(docker, found.ref));
    const name = `service ${spec.service}`;
    if (!health) checks.push({ name, status: 'fail', detail: `${spec.name} does not exist`, fix: `run ${up}` });
    else if (health.state !== 'running') checks.push({ name, status: 'fail', detail: `${spec.name} is ${health.state}`, fix: `see \`mailctl logs ${spec.service}\`, then run ${up}` });
    else if (health.health === 'unhealthy' || health.health === 'starting') {
      // The engine probes every few seconds (and counts probes that timed out while a backup
      // held the service paused); run the same probe now rather than report a stale state.
      const probe = await docker.container(found.ref).exec(HEALTH_PROBE).catch(() => undefined);
      const last = (health.lastProbe || probe?.stderr || probe?.stdout || '').trim() || 'no output';
      if (probe?.exitCode === 0) {
        checks.push(health.health === 'starting'
          ? { name, status: 'ok', detail: 'running, answers its health probe (the engine\'s first check is still pending)' }
          : { name, status: 'warn', detail: `answers its health probe now; the engine's last checks failed (${last})`, fix: 'run doctor again in a minute; if it stays, see `mailctl logs ' + spec.service + '`' });
      } else {
        checks.push(health.health === 'starting'
          ? { name, status: 'warn', detail: 'still starting', fix: 'wait a minute and run doctor again' }
          : { name, status: 'fail', detail: `unhealthy: ${last}`, fix: `see \`mailctl logs ${spec.service}\`` });
      }
    }
    else checks.push({ name, status: 'ok', detail: `running, ${health.health ?? 'no healthcheck'}` });

    for (const port of spec.ports) for (const address of probeAddresses(port.binds)) {
      const where = hostPort(address, port.host);
      const pname = `port ${port.host} (${port.key}) on ${address.includes(':') ? 'IPv6' : 'IPv4'}`;
      if (health?.state !== 'running') {
        checks.push({ name: pname, status: 'fail', detail: `${spec.name} is not running`, fix: `run ${up}` });
      } else {
        const answer = await greet(address, port.host, GREETINGS[port.container]);
        checks.push(answer.ok
          ? { name: pname, status: 'ok', detail: `${spec.service} answers on ${where}: ${answer.line.slice(0, 60)}` }
          : { name: pname, status: 'fail', detail: `${spec.service} does not answer on ${where} (${answer.line})`, fix: `check the firewall, that ${port.key} is free, and \`mailctl logs ${spec.service}\`` });
      }
    }
  }
  return checks;
}


async function certificateCheck(docker: Engine, config: Config, up: string): Promise<Check> {
  const pem = await volumeCertificatePem(docker, config).catch(() => undefined);
  if (!pem) return { name: 'certificate expiry', status: 'fail', detail: `no certificate for ${config.hostname} in the volume`, fix: `run ${up}` };
  const cert = summarizeCertificate(pem);
  const renewedBy = config.certMode === 'acme' ? 'see `mailctl status` for the last ACME error, then `mailctl renew --force`'
    : config.certMode === 'manual' ? `put a new certificate in certs/${config.hostname}/ and run \`mailctl renew\``
    : 'run `mailctl renew --force` (a new one from the local CA)';
  const check = certificateExpiry(cert.daysLeft, cert.notAfter, renewedBy);
  if (config.certMode === 'acme' && cert.issuer.includes('mailctl local CA') && check.status === 'ok') {
    return { ...check, status: 'warn', detail: 'still the temporary certificate from the local CA: certbot has none yet', fix: 'see `mailctl status` and `mailctl logs certbot`' };
  }
  return check;
}

/** What clients really get on the TLS ports: the volume's certificate (else a restart is pending), naming MAIL_HOSTNAME. */
async function servedCertificateChecks(docker: Engine, config: Config, up: string): Promise<Check[]> {
  const pem = await volumeCertificatePem(docker, config).catch(() => undefined);
  const inVolume = pem ? summarizeCertificate(pem).serial : undefined;
  const checks: Check[] = [];
  for (const [service, port] of [['chasquid', config.ports.submissions], ['dovecot', config.ports.imaps]] as const) {
    const name = `certificate served by ${service} (port ${port})`;
    if ((await locateService(docker, config, service))?.state !== 'running') continue;
    const served = await servedCertificate(probeAddress(config.binds), port, config.hostname);
    if (!served) checks.push({ name, status: 'fail', detail: 'no TLS handshake', fix: `see \`mailctl logs ${service}\`` });
    else if (!served.names.includes(config.hostname)) checks.push({ name, status: 'fail', detail: `names ${served.names.join(', ') || served.subject}, not ${config.hostname}`, fix: 'run `mailctl renew --force`' });
    else if (inVolume && served.serial !== inVolume) checks.push({ name, status: 'warn', detail: `serial ${served.serial} is not the one in the volume (${inVolume}): a restart is pending`, fix: `run \`mailctl renew\` (or ${up})` });
    else checks.push({ name, status: 'ok', detail: `${config.hostname}, serial ${served.serial}` });
  }
  return checks;
}

async function dnsChecks(docker: Engine | undefined, config: Config, resolver?: string): Promise<Check[]> {
  // With the engine: every served domain with its DKIM keys; without: what the config alone says.
  let records = mainDomainRecords(config);
  if (docker) {
    try {
      records = await stackRecords(docker, config);
    } catch { /* chasquid is down: its failure is reported above */ }
  }
  try {
    return (await checkRecords(records, resolver)).map((r) => ({
      name: `dns ${r.type} ${r.name}`,
      status: r.status === 'ok' ? 'ok' : 'fail',
      detail: r.status === 'ok' ? 'as expected' : `${r.status}: expected ${r.value ?? 'any'}${r.found.length ? `, found ${r.found.join(' | ')}` : ''}`,
      ...(r.status === 'ok' ? {} : { fix: `publish: ${zoneLines([r]).trim()}` }),
    }));
  } catch (err) {
    return [{ name: 'dns records', status: 'fail', detail: errorMessage(err), fix: 'check the resolver (--resolver) and the network' }];
  }
}

async function reverseChecks(resolver: Resolver, config: Config): Promise<Check[]> {
  const addresses: [string, string | undefined][] = [['MAIL_IPV4', config.ipv4], ['MAIL_IPV6', config.ipv6]];
  const checks: Check[] = [];
  for (const [key, ip] of addresses) {
    if (!ip) {
      if (key === 'MAIL_IPV4') checks.push({ name: 'reverse DNS', status: 'warn', detail: 'MAIL_IPV4 is not set: cannot check PTR or blocklists', fix: 'set MAIL_IPV4 (and MAIL_IPV6) in .env to the public address' });
      continue;
    }
    const names = await resolver.reverse(ip).catch((err: { code?: string }) => ({ error: err.code ?? 'lookup failed' }));
    checks.push(ptrVerdict(key, ip, names, config.hostname));
  }
  return checks;
}

async function blocklistChecks(resolver: Resolver, config: Config): Promise<Check[]> {
  if (!config.ipv4) return [];
  const ip = config.ipv4;
  return Promise.all(config.dnsblZones.map(async (zone) => {
    try {
      return dnsblVerdict(ip, zone, await resolver.resolve4(dnsblQueryName(ip, zone)));
    } catch (err) {
      const code = (err as { code?: string }).code;
      return dnsblVerdict(ip, zone, code === 'ENOTFOUND' || code === 'ENODATA' ? 'nxdomain' : { error: code ?? errorMessage(err) });
    }
  }));
}
