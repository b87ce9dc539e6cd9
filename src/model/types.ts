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
  /** The service's port (its protocol's usual number: 25, 993, ...): names the protocol. */
  container: number;
  /** Where clients connect: published there, or listened on directly in the host's network. */
  host: number;
  /** Host addresses (MAIL_BIND). */
  binds: readonly string[];
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
  /**
   * Run in the host's network namespace (chasquid, dovecot): the daemon
   * listens on `ports` itself and sees every client's own address. Otherwise
   * the container is on the stack's network and `ports` are published.
   */
  hostNetwork?: boolean;
  /** The only capabilities the container keeps (all others dropped), and whether it may gain privileges (spec/limits.ts). */
  privileges: { capabilities: string[]; noNewPrivileges: boolean };
  /**
   * A read-only root filesystem, with a small tmpfs on /run: for what needs no
   * files put in at create (those go in by `docker cp` semantics, which a
   * read-only root refuses) and writes only to its volumes.
   */
  readOnlyRoot?: boolean;
  /** Who owns that tmpfs on /run (default root): a service that runs as its own user writes there. */
  runOwner?: { uid: number; gid: number };
  /** Run an init as PID 1 that reaps orphans (for a node process that would not). */
  init?: boolean;
  /** Kernel settings of the container's own network namespace. */
  sysctls?: Record<string, string>;
  /** Memory (no swap beyond it) and process limits. */
  limits: { memoryBytes: number; pids: number };
  health: HealthSpec;
  /** json-file logs, rotated: a busy server's logs cannot fill the disk (and the guard reads them). */
  logs: { maxSize: string; maxFiles: number };
}
