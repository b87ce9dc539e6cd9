/** Image builds through the engine's API, with tar-fs build contexts. */
import tar from 'tar-fs';
import { OperationalError } from '../errors.js';
import { LABEL } from '../labels.js';
import type { ContextFile } from '../images.js';
import { orAbsent, shortReason, type Engine } from './engine.js';
import { followStream, StreamError, type StreamEvent } from './stream.js';

export interface BuildRequest {
  name: string;
  dir: string;
  /** Files added to the context next to what `dir` holds (bundled code). */
  generated?: ContextFile[];
  ref: string;
  contextHash: string;
  buildArgs: Record<string, string>;
  noCache?: boolean;
}

/** The id of an image, or undefined when it is not on the engine. */
export async function imageId(docker: Engine, ref: string): Promise<string | undefined> {
  return (await orAbsent(docker.getImage(ref).inspect()))?.Id;
}

/**
 * Build one image. `onLine` gets each line of build output (steps and what
 * they print). A failing step rejects with that step's own message, and the
 * last output lines as details.
 */
export async function buildImage(docker: Engine, req: BuildRequest, onLine: (line: string) => void): Promise<string> {
  // tar-fs 3's pack() stream does not type-check as dockerode's input; it is one.
  const context = tar.pack(req.dir, {
    finalize: false,
    finish: (pack) => {
      for (const file of req.generated ?? []) pack.entry({ name: file.path, mode: file.executable ? 0o755 : 0o644 }, file.content);
      pack.finalize();
    },
  }) as unknown as NodeJS.ReadableStream;
  const tail: string[] = [];
  let id: string | undefined;
  const onEvent = (event: StreamEvent) => {
    if (event.aux?.ID) id = event.aux.ID;
    const text = event.stream ?? event.status;
    for (const line of (text ?? '').split('\n')) {
      if (line.trim() === '') continue;
      tail.push(line);
      if (tail.length > 15) tail.shift();
      onLine(line);
    }
  };
  try {
    const stream = await docker.buildImage(context, {
      t: req.ref,
      buildargs: req.buildArgs,
      labels: { [LABEL.managed]: 'true', [LABEL.contextHash]: req.contextHash },
      nocache: req.noCache ?? false,
      rm: true,
      forcerm: true,
      pull: false,
    } as Record<string, unknown>);
    await followStream(docker, stream, onEvent);
  } catch (err) {
    const message = err instanceof StreamError ? err.message : shortReason(err);
    throw new OperationalError(`building the ${req.name} image failed: ${message}`, tail.join('\n'));
  }
  return id ?? (await imageId(docker, req.ref)) ?? req.ref;
}

/** Pull an image; rejects when no registry answers within `timeoutMs`. */
export async function pullImage(docker: Engine, ref: string, timeoutMs: number, onLine: (line: string) => void): Promise<void> {
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  try {
    const stream = await docker.pull(ref, { abortSignal: abort.signal });
    await followStream(docker, stream, (e) => {
      if (e.status) onLine(`${e.id ? `${e.id}: ` : ''}${e.status}${e.progress ? ` ${e.progress}` : ''}`);
    });
  } catch (err) {
    throw new Error(abort.signal.aborted ? `no answer within ${timeoutMs / 1000}s` : shortReason(err));
  } finally {
    clearTimeout(timer);
  }
}

/** Import a root filesystem tarball as image `ref` (repo:tag). */
export async function importRootfs(docker: Engine, tarball: NodeJS.ReadableStream, ref: string, changes: string[]): Promise<void> {
  const [repo, tag] = splitRef(ref);
  const stream = await docker.importImage(tarball, { repo, tag, changes } as Record<string, unknown>);
  await followStream(docker, stream, () => {});
}

function splitRef(ref: string): [string, string] {
  const colon = ref.lastIndexOf(':');
  return colon > ref.lastIndexOf('/') ? [ref.slice(0, colon), ref.slice(colon + 1)] : [ref, 'latest'];
}
