/**
 * What the certbot sidecar may ask of the Docker engine, through our proxy.
 * Only: ping, list and inspect containers of its own stack, restart its
 * chasquid (which reads certificates only at start) and send SIGHUP to its
 * dovecot and its web service (which re-read them then, dropping no connection); on Swarm,
 * inspect its own services and restart its chasquid's service (a forced update
 * with the spec it has). Everything else is refused. Pure.
 */
import { LABEL, SWARM_SERVICE_LABEL } from '../model/labels.js';
import { RELOADED_FOR_CERTIFICATE, RESTARTED_FOR_CERTIFICATE, type ServiceName } from '../model/service-table.js';

export type Request =
  | { kind: 'ping' }
  | { kind: 'list' }
  | { kind: 'inspect'; id: string }
  | { kind: 'restart'; id: string }
  | { kind: 'reload'; id: string }
  | { kind: 'service-inspect'; id: string }
  | { kind: 'service-restart'; id: string }
  | { kind: 'denied'; reason: string };

const ID = '([A-Za-z0-9][A-Za-z0-9_.-]*)';

/** Classify a request by method and path (an API version prefix like /v1.41 is allowed). */
export function classify(method: string, url: string): Request {
  const path = url.split('?')[0].replace(/^\/v\d+\.\d+(?=\/)/, '');
  if ((method === 'GET' || method === 'HEAD') && (path === '/_ping' || path === '/version')) return { kind: 'ping' };
  if (method === 'GET' && path === '/containers/json') return { kind: 'list' };
  let m = new RegExp(`^/containers/${ID}/json$`).exec(path);
  if (method === 'GET' && m) return { kind: 'inspect', id: m[1] };
  m = new RegExp(`^/containers/${ID}/restart$`).exec(path);
  if (method === 'POST' && m) return { kind: 'restart', id: m[1] };
  m = new RegExp(`^/containers/${ID}/kill$`).exec(path);
  if (method === 'POST' && m) {
    const signal = new URLSearchParams(url.includes('?') ? url.slice(url.indexOf('?') + 1) : '').getAll('signal');
    if (signal.length === 1 && /^(SIG)?HUP$/.test(signal[0])) return { kind: 'reload', id: m[1] };
    return { kind: 'denied', reason: `POST ${path} is allowed only with signal=SIGHUP` };
  }
  // Swarm: a task is restarted by updating its service with the same spec (see docker-proxy.ts).
  m = new RegExp(`^/services/${ID}$`).exec(path);
  if (method === 'GET' && m) return { kind: 'service-inspect', id: m[1] };
  m = new RegExp(`^/services/${ID}/update$`).exec(path);
  if (method === 'POST' && m) return { kind: 'service-restart', id: m[1] };
  return { kind: 'denied', reason: `${method} ${path} is not allowed for the certbot sidecar` };
}

/** The list query, with a filter on the project label forced in (whatever filters the caller sent). */
export function scopedListQuery(url: string, projectLabel: string): string {
  const query = new URLSearchParams(url.includes('?') ? url.slice(url.indexOf('?') + 1) : '');
  let filters: Record<string, string[] | Record<string, boolean>> = {};
  try {
    filters = JSON.parse(query.get('filters') ?? '{}');
  } catch {
    filters = {};
  }
  const labels = Array.isArray(filters.label) ? filters.label : Object.keys(filters.label ?? {});
  filters.label = [...labels.filter((l) => !l.startsWith(`${LABEL.project}=`)), projectLabel];
  query.set('filters', JSON.stringify(filters));
  return `/containers/json?${query.toString()}`;
}

/** May the sidecar see this container (by its labels)? Restart it? */
export function ownsContainer(labels: Record<string, string> | undefined, project: string): boolean {
  return labels?.[LABEL.project] === project && labels?.[LABEL.managed] === 'true';
}

const serviceOf = (labels: Record<string, string> | undefined) => (labels?.[LABEL.service] ?? '') as ServiceName;

/** chasquid reads its certificate only at start. Not a Swarm task's container: Swarm would start a second task beside it (its service is restarted instead). */
export function mayRestart(labels: Record<string, string> | undefined, project: string): boolean {
  return ownsContainer(labels, project) && RESTARTED_FOR_CERTIFICATE.includes(serviceOf(labels)) && !labels?.[SWARM_SERVICE_LABEL];
}

/** The same rule for a Swarm service, by the service's own labels. */
export function mayRestartService(labels: Record<string, string> | undefined, project: string): boolean {
  return ownsContainer(labels, project) && RESTARTED_FOR_CERTIFICATE.includes(serviceOf(labels));
}

/**
 * The body of a Swarm service update that only restarts its tasks: the
 * service's own spec, as the engine gave it, with ForceUpdate counted up.
 * Built by the proxy; what the caller sent is never passed on.
 */
export function forcedUpdateOf(spec: { TaskTemplate?: { ForceUpdate?: number } & Record<string, unknown> } & Record<string, unknown>): Record<string, unknown> {
  const template = spec.TaskTemplate ?? {};
  return { ...spec, TaskTemplate: { ...template, ForceUpdate: (template.ForceUpdate ?? 0) + 1 } };
}

/** dovecot re-reads its certificate on SIGHUP, keeping every connection. */
export function mayReload(labels: Record<string, string> | undefined, project: string): boolean {
  return ownsContainer(labels, project) && RELOADED_FOR_CERTIFICATE.includes(serviceOf(labels));
}
