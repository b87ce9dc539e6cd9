/** A service as it should run: the input of reconcile, pure data. */

export interface MountSpec {
  /** A named volume of the project... */
  volume?: string;
  /** ...or a path on the engine's host (only the Docker socket, for the proxy). */
  bind?: string;
  target: string;
  readOnly?: boolean;
}

export interface PortSpec {
  /** Port inside the container. */
  container: number;
  host: number;
  bind: string;
  /** The .env key that sets `host`, for error messages. */
  key: string;
}

/** A file (or directory, when `content` is undefined) put into the container before its first start. */
export interface FileSpec {
  path: string;
  content?: string;
  mode: number;
  uid?: number;
  gid?: number;
}

/** How the engine checks a service: our probe speaks the service's protocol (images/<service>/mailctl-healthcheck). */
export interface HealthSpec {
  test: string[];
  intervalSeconds: number;
  timeoutSeconds: number;
  /** Failures during this time after start do not count (clamd loads its signatures first). */
  startPeriodSeconds: number;
  retries: number;
}

export interface ServiceSpec {
  service: string;
  /** Container name, <project>-<service>. */
  name: string;
  image: string;
  env: Record<string, string>;
  mounts: MountSpec[];
  ports: PortSpec[];
  files: FileSpec[];
  dns: string[];
  networkAliases: string[];
  health: HealthSpec;
  /** Free-form inputs that must recreate the container when they change (e.g. a certificate fingerprint). */
  extra: Record<string, string>;
}
