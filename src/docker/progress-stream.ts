/** Following the JSON progress streams of build, pull and import. */
import type Docker from 'dockerode';

export interface StreamEvent {
  stream?: string;
  status?: string;
  progress?: string;
  id?: string;
  error?: string;
  errorDetail?: { message?: string };
  aux?: { ID?: string };
}

/**
 * Read a progress stream to its end. The engine reports a failed build as an
 * event inside a successful response, so every event is checked: the first
 * error event becomes the rejection.
 */
export function followStream(
  docker: Docker,
  stream: NodeJS.ReadableStream,
  onEvent: (event: StreamEvent) => void,
): Promise<StreamEvent[]> {
  return new Promise((resolve, reject) => {
    let failure: string | undefined;
    docker.modem.followProgress(
      stream,
      (err: Error | null, events: StreamEvent[]) => {
        if (err) reject(err);
        else if (failure !== undefined) reject(new StreamError(failure, events));
        else resolve(events);
      },
      (event: StreamEvent) => {
        if (failure === undefined && (event.error || event.errorDetail)) {
          failure = (event.errorDetail?.message ?? event.error ?? 'unknown error').trim();
        }
        onEvent(event);
      },
    );
  });
}

export class StreamError extends Error {
  constructor(message: string, readonly events: StreamEvent[]) {
    super(message);
  }
}
