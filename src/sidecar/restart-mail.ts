/**
 * Run by certbot's deploy hook in the sidecar after the new certificate is in
 * the certificates volume, through the Docker API proxy: SIGHUP to dovecot
 * and to the web service's nginx (both re-read certificates and keep every
 * connection), then a restart of chasquid (it reads certificates only at
 * start), waiting until it is healthy again. On Swarm the containers are
 * found by their labels and chasquid's service is updated instead (see
 * restartService). Prints one JSON line with what it did.
 */
import { dockerAtEnv } from '../docker/dockerode-engine.js';
import { RELOADED_FOR_CERTIFICATE, RESTARTED_FOR_CERTIFICATE } from '../model/service-table.js';
import { locateService, reloadIfRunning, restartService } from '../runtime/running.js';

const project = { project: process.env.MAILCTL_PROJECT ?? '' };
// DOCKER_HOST points at the proxy's unix socket (unix:///run/mailctl-proxy/docker.sock); dockerode honours it.
const docker = dockerAtEnv();
const progress = { step: (line: string) => console.error(line), detail: () => {}, stop: () => {} };

async function main(): Promise<void> {
  // A service the stack does not run (a stack made before the web service) is skipped.
  const reloaded: string[] = [];
  for (const service of RELOADED_FOR_CERTIFICATE) {
    if (await reloadIfRunning(docker, project, service, progress)) reloaded.push((await locateService(docker, project, service))!.name);
  }
  const restarted: string[] = [];
  for (const service of RESTARTED_FOR_CERTIFICATE) {
    await restartService(docker, project, service, 'it reads its certificate only at start', progress);
    restarted.push((await locateService(docker, project, service))!.name);
  }
  console.log(JSON.stringify({ restarted, reloaded, at: new Date().toISOString() }));
}

main().catch((err) => {
  console.error(`mailctl restart-mail: ${(err as Error).message}`);
  process.exit(1);
});
