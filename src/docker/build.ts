/** Image builds through the engine, with tar-fs build contexts. */
import type TarFs from 'tar-fs';
import { lazy } from '../core/lazy.js';

const tarFs = lazy<typeof TarFs>('tar-fs');
import { OperationalError } from '../core/errors.js';
import { LABEL } from '../model/labels.js';
import { shortReason, type Engine } from './engine.js';
import { StreamError } from './progress-stream.js';

/** A file of a build context. */
export interface ContextFile {
  path: string;
  executable: boolean;
  content: Buffer;
}

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

/**
 * Build one image. `onLine` gets each line of build output (steps and what
 * they print). A failing step rejects with that step's own message, and the
 * last output lines as details.
 */
export async function buildImage(engine: Engine, req: BuildRequest, onLine: (line: string) => void): Promise<string> {
  // tar-fs 3's pack() stream does not type-check as dockerode's input; it is one.
  const context = tarFs().pack(req.dir, {
    finalize: false,
    finish: (pack) => {
      for (const file of req.generated ?? []) pack.entry({ name: file.path, mode: file.executable ? 0o755 : 0o644 }, file.content);
      pack.finalize();
    },
  }) as unknown as NodeJS.ReadableStream;
  const tail: string[] = [];
  try {
    const id = await engine.buildImage(
      { context, ref: req.ref, buildArgs: req.buildArgs, labels: { [LABEL.managed]: 'true', [LABEL.contextHash]: req.contextHash }, noCache: req.noCache ?? false },
      (line) => {
        tail.push(line);
        if (tail.length > 15) tail.shift();
        onLine(line);
      },
    );
    return id ?? req.ref;
  } catch (err) {
    const message = err instanceof StreamError ? err.message : shortReason(err);
    throw new OperationalError(`building the ${req.name} image failed: ${message}`, tail.join('\n'));
  }
}
