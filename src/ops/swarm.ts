/**
 * What `mailctl compose --swarm` does around the stack file: it checks this
 * engine manages a Swarm, refuses a project that `up` runs, labels this node
 * as the one with the volumes, and brings a stack that already runs up to
 * date with what lives on volumes (which no redeploy changes).
 */
import { refreshSendersIfStale } from '../accounts/changes.js';
import type { Config } from '../config/config.js';
import { OperationalError } from '../core/errors.js';
import type { Progress } from '../core/progress.js';
import type { Engine } from '../docker/engine.js';
import { RELOADED_FOR_CERTIFICATE, RESTARTED_FOR_CERTIFICATE } from '../model/service-table.js';
import { swarmNodeLabel } from '../model/swarm-file.js';
import { locateService, refuseUnlessSwarm, reloadIfRunning, restartService } from '../runtime/running.js';

export interface SwarmNode { id: string; labels: Record<string, string> }

/** The manager this engine is, for a project that `up` does not run. */
export async function swarmManager(docker: Engine, config: Config): Promise<SwarmNode> {
  const node = await docker.swarmNode();
  if (node?.locked) throw new OperationalError('this Docker engine\'s Swarm is locked: unlock it with `docker swarm unlock`, then run `mailctl compose --swarm` again');
  if (!node) throw new OperationalError('this Docker engine is in no Swarm: make one with `docker swarm init` (or join one), then run `mailctl compose --swarm` again');
  if (!node.manager) throw new OperationalError('this Docker engine is a Swarm worker: run `mailctl compose --swarm` against a manager\'s engine (the node that keeps the volumes must be a manager to be labelled)');
  await refuseUnlessSwarm(docker, config);
  return node;
}

/** Pin the project's services here, where its volumes are. */
export async function labelDataNode(docker: Engine, config: Config, node: SwarmNode, progress: Progress): Promise<string> {
  const label = swarmNodeLabel(config.project);
  if (node.labels[label] !== 'true') {
    await docker.labelNode(node.id, { [label]: 'true' });
    progress.step(`labelled this node ${label}=true: ${config.project}'s services run where its volumes are`);
  }
  return label;
}

/**
 * A stack that runs takes what changed on its volumes now: a new certificate
 * (dovecot and nginx reload, chasquid's service restarts), the web service's
 * sites (nginx reloads) and the sender map (MAIL_SEND_LIMIT). Settings in the
 * stack file reach it when it is deployed.
 */
export async function refreshRunningSwarm(docker: Engine, config: Config, newCertificate: boolean, progress: Progress): Promise<void> {
  if ((await locateService(docker, config, 'chasquid'))?.state !== 'running') return;
  for (const service of RELOADED_FOR_CERTIFICATE) await reloadIfRunning(docker, config, service, progress);
  if (newCertificate) {
    for (const service of RESTARTED_FOR_CERTIFICATE) await restartService(docker, config, service, 'it reads its certificate only at start', progress);
  }
  await refreshSendersIfStale(docker, config);
}
