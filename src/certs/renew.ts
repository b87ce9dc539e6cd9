/**
 * `mailctl renew`: a new certificate now (acme: certbot in the sidecar, whose
 * deploy hook restarts the mail services; manual: the files in
 * certs/<hostname>/; selfsigned: a new one from the local CA with --force),
 * and a report of what changed.
 */
import { MAIL_SERVICES } from '../model/service-table.js';
import type { Config } from '../config/config.js';
import { healthOf, logTail } from '../docker/containers.js';
import type { Engine } from '../docker/engine.js';
import { OperationalError } from '../core/errors.js';
import { containerName } from '../model/layout.js';
import type { Progress } from '../core/progress.js';
import { waitHealthy } from '../runtime/health.js';
import { reloadIfRunning } from '../runtime/running.js';
import { servedCertificate } from './probe.js';
import { probeAddress } from '../model/listen.js';
import { installCertificate, summarizeCertificate, volumeCertificatePem, type CertSummary } from './install.js';
import { startingCertificate } from './source.js';

/** The web service serves the same certificate: nginx re-reads it on SIGHUP (a stack without one has nothing to reload). */
export const reloadWeb = (docker: Engine, config: Config, progress: Progress) => reloadIfRunning(docker, config, 'web', progress);

export interface RenewResult {
  mode: string;
  renewed: boolean;
  before?: CertSummary;
  after?: CertSummary;
  restarted: string[];
  /** Reloaded in place (SIGHUP), connections kept: dovecot, when it serves the new certificate. */
  reloaded: string[];
}

const MAIL = MAIL_SERVICES;

export async function renew(docker: Engine, config: Config, options: { force?: boolean; domains?: readonly string[] }, progress: Progress): Promise<RenewResult> {
  const names = MAIL.map((s) => containerName(config.project, s));
  const startedBefore = await Promise.all(names.map(async (n) => (await healthOf(docker, n))?.startedAt));
  if (startedBefore.some((s) => s === undefined)) throw new OperationalError(`${config.project} is not running: start it with \`mailctl up\``);
  const pemBefore = await volumeCertificatePem(docker, config);

  if (config.certMode === 'acme') {
    await runCertbot(docker, config, options.force ?? false, progress);
  } else {
    const cert = startingCertificate(config, options.force && config.certMode === 'selfsigned', options.domains);
    const dovecotImage = (await docker.container(names[1]).inspect())?.Config.Image;
    if (!dovecotImage) throw new OperationalError(`${names[1]} disappeared: run \`mailctl up\``);
    const changed = await installCertificate(docker, config, dovecotImage, cert.pair);
    if (changed || options.force) {
      // dovecot re-reads its certificate on SIGHUP and keeps its connections; chasquid only reads it at start.
      progress.step(`reloading ${names[1]} (SIGHUP)`);
      await docker.container(names[1]).signal('SIGHUP');
      await reloadWeb(docker, config, progress);
      progress.step(`restarting ${names[0]}`);
      await docker.container(names[0]).restart(10);
      await waitHealthy(docker, names, progress);
    }
  }

  const pemAfter = await volumeCertificatePem(docker, config);
  const startedAfter = await Promise.all(names.map(async (n) => (await healthOf(docker, n))?.startedAt));
  const after = pemAfter ? summarizeCertificate(pemAfter) : undefined;
  const dovecotServes = (await servedCertificate(probeAddress(config.binds), config.ports.imaps, config.hostname))?.serial;
  return {
    mode: config.certMode,
    renewed: pemAfter !== pemBefore,
    before: pemBefore ? summarizeCertificate(pemBefore) : undefined,
    after,
    restarted: names.filter((_, i) => startedAfter[i] !== startedBefore[i]),
    reloaded: pemAfter !== pemBefore && startedAfter[1] === startedBefore[1] && after && dovecotServes === after.serial ? [names[1]] : [],
  };
}

async function runCertbot(docker: Engine, config: Config, force: boolean, progress: Progress): Promise<void> {
  const name = containerName(config.project, 'certbot');
  if ((await healthOf(docker, name))?.state !== 'running') {
    throw new OperationalError(`${name} is not running: run \`mailctl up\` (CERT_MODE=acme starts it)`);
  }
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
