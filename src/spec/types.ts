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
  /** Free-form inputs that must recreate the container when they change (e.g. a certificate fingerprint). */
  extra: Record<string, string>;
}
