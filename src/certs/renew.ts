/**
 * `mailctl renew`: a new certificate now (acme: certbot in the sidecar, whose
 * deploy hook restarts the mail services; manual: the files in
 * certs/<hostname>/; selfsigned: a new one from the local CA with --force),
 * and a report of what changed.
 */
import { MAIL_SERVICES, RELOADED_FOR_CERTIFICATE, RESTARTED_FOR_CERTIFICATE } from '../model/service-table.js';
import type { Config } from '../config/config.js';
import { healthOf, logTail } from '../docker/containers.js';
import type { Engine } from '../docker/engine.js';
import { OperationalError } from '../core/errors.js';
import { containerName } from '../model/layout.js';
import type { Progress } from '../core/progress.js';
import { waitHealthy } from '../runtime/health.js';
import { locateService, reloadIfRunning, restartService } from '../runtime/running.js';
import { servedCertificate } from './probe.js';
import { probeAddress } from '../model/listen.js';
import { installCertificate, summarizeCertificate, volumeCertificatePem, type CertSummary } from './install.js';
import { startingCertificate } from './source.js';

export interface RenewResult {
  mode: string;
  renewed: boolean;
  before?: CertSummary;
  after?: CertSummary;
  restarted: string[];
  /** Reloaded in place (SIGHUP), connections kept: dovecot, when it serves the new certificate. */
  reloaded: string[];
}

/** Which container runs each mail service, since when: a restart (or, on Swarm, a new task) changes it. */
async function mailInstances(docker: Engine, config: Config) {
  return Promise.all(MAIL_SERVICES.map(async (service) => {
    const found = await locateService(docker, config, service);
    const health = found && (await healthOf(docker, found.ref));
    return { service, found, since: found && health?.state === 'running' ? `${found.ref}@${health.startedAt}` : undefined };
  }));
}

export async function renew(docker: Engine, config: Config, options: { force?: boolean; domains?: readonly string[] }, progress: Progress): Promise<RenewResult> {
  const before = await mailInstances(docker, config);
  if (before.some((m) => m.since === undefined)) throw new OperationalError(`${config.project} is not running: start it with \`mailctl up\``);
  const dovecot = before.find((m) => m.service === 'dovecot')!.found!;
  const pemBefore = await volumeCertificatePem(docker, config);

  if (config.certMode === 'acme') {
    await runCertbot(docker, config, options.force ?? false, progress);
  } else {
    const cert = startingCertificate(config, options.force && config.certMode === 'selfsigned', options.domains);
    const dovecotImage = (await docker.container(dovecot.ref).inspect())?.Config.Image;
    if (!dovecotImage) throw new OperationalError(`${dovecot.name} disappeared: run \`mailctl up\``);
    const changed = await installCertificate(docker, config, dovecotImage, cert.pair);
    if (changed || options.force) {
      // dovecot re-reads its certificate on SIGHUP and keeps its connections; chasquid only reads it at start.
      for (const service of RELOADED_FOR_CERTIFICATE) await reloadIfRunning(docker, config, service, progress);
      for (const service of RESTARTED_FOR_CERTIFICATE) await restartService(docker, config, service, 'it reads its certificate only at start', progress);
      await waitHealthy(docker, [dovecot.ref], progress);
    }
  }

  const pemAfter = await volumeCertificatePem(docker, config);
  const after = await mailInstances(docker, config);
  const summary = pemAfter ? summarizeCertificate(pemAfter) : undefined;
  const dovecotServes = (await servedCertificate(probeAddress(config.binds), config.ports.imaps, config.hostname))?.serial;
  const kept = (service: string) => before.find((m) => m.service === service)?.since === after.find((m) => m.service === service)?.since;
  return {
    mode: config.certMode,
    renewed: pemAfter !== pemBefore,
    before: pemBefore ? summarizeCertificate(pemBefore) : undefined,
    after: summary,
    restarted: after.filter((m) => !kept(m.service)).map((m) => m.found?.name ?? m.service),
    reloaded: pemAfter !== pemBefore && kept('dovecot') && summary && dovecotServes === summary.serial ? [dovecot.name] : [],
  };
}

async function runCertbot(docker: Engine, config: Config, force: boolean, progress: Progress): Promise<void> {
  const found = await locateService(docker, config, 'certbot');
  if (found?.state !== 'running') {
    throw new OperationalError(`${containerName(config.project, 'certbot')} is not running: run \`mailctl up\` (CERT_MODE=acme starts it)`);
  }
  const name = found.ref;
  progress.step(`running certbot in ${name}${force ? ' (forced renewal)' : ''}`);
  const run = await docker.container(name).exec(['/usr/local/bin/mailctl-certbot-run', ...(force ? ['--force'] : [])]);
  const output = `${run.stdout}${run.stderr}`.trim();
  if (run.exitCode !== 0) {
    // certbot's own words: the first line that says what failed.
    const lines = output.split('\n').map((l) => l.trim());
    const at = lines.findIndex((l) => /^(Failed to|An unexpected error|Error|Problem|Certbot failed)|error:/i.test(l));
    // "An unexpected error occurred:" says what only on its next line.
    const reason = at < 0 ? `exit ${run.exitCode}` : lines[at].endsWith(':') && lines[at + 1] ? `${lines[at]} ${lines[at + 1]}` : lines[at];
    throw new OperationalError(`certbot could not renew; the current certificate stays in use: ${reason}`,
      output.split('\n').slice(-15).join('\n') || (await logTail(docker, name)));
  }
}
