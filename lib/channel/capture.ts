/**
 * Bounded capture of a command's output, shared by `run` (ExecResult) and the fan-out
 * (HostResult): at most `limit` bytes kept per stream, the rest counted as truncated.
 */
import { toBuffer } from '../util/bytes.js';

export type Stream = 'stdout' | 'stderr';

export class OutputCapture {
  readonly #chunks: Record<Stream, Buffer[]> = { stdout: [], stderr: [] };
  readonly #kept: Record<Stream, number> = { stdout: 0, stderr: 0 };
  /** True once a byte was dropped. */
  truncated = false;

  constructor(readonly limit: number) {}

  /** Keeps what fits of `data`. */
  keep(stream: Stream, data: Uint8Array): void {
    const room = this.limit - this.#kept[stream];
    if (data.length > room) this.truncated = true;
    if (room <= 0) return;
    const buf = toBuffer(data);
    const piece = buf.length > room ? buf.subarray(0, room) : buf;
    this.#chunks[stream].push(piece);
    this.#kept[stream] += piece.length;
  }

  /** What was kept of a stream, decoded as UTF-8. */
  text(stream: Stream): string {
    return Buffer.concat(this.#chunks[stream]).toString('utf8');
  }

  /** What was kept of a stream, as bytes. */
  bytes(stream: Stream): Buffer {
    return Buffer.concat(this.#chunks[stream]);
  }
}
