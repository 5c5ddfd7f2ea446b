/**
 * Backpressure on a channel's output from outside a pipeline: an `OutputFlow` given as
 * `ChannelConfig.flow` pauses and resumes every channel run that uses it.
 */
import type { Pausable } from '../util/writable-backpressure.js';

/**
 * A valve on the output of the channels it is given to (`ChannelConfig.flow`, so also the
 * `exec` operator's config): while it is paused, rxssh stops reading those channels, ssh2
 * stops opening their SSH windows and the server stops sending — at most a window's worth
 * (2 MiB) more arrives. It is how a pipeline that writes its output somewhere slower than the
 * network keeps its memory bounded; a `ChannelSubject` also has `pipeTo()` and `for await`.
 * Pausing twice needs one `resume()`; a channel that opens while the flow is paused starts
 * paused.
 *
 * @example
 * ```ts
 * import { exec, OutputFlow } from 'rxssh';
 *
 * const flow = new OutputFlow();
 * connection$.pipe(exec('tar c /srv', { flow })).subscribe((chunk) => {
 *   if (!out.write(chunk.data)) {
 *     flow.pause();
 *     out.once('drain', () => flow.resume());
 *   }
 * });
 * ```
 */
export class OutputFlow {
  readonly #runs = new Set<Pausable>();
  #paused = false;

  /** True between `pause()` and `resume()`. */
  get paused(): boolean {
    return this.#paused;
  }

  /** Stops reading the output of every channel using this flow (does nothing if paused). */
  pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    for (const run of this.#runs) run.pause();
  }

  /** Reads their output again (does nothing unless paused). */
  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    for (const run of this.#runs) run.resume();
  }

  /** Adds a channel run (paused at once if the flow is); the returned function removes it once the run is done. @internal */
  attach(run: Pausable): () => void {
    this.#runs.add(run);
    if (this.#paused) run.pause();
    return () => void this.#runs.delete(run);
  }
}
