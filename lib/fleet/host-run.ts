/**
 * One host of a fan-out: what its pipeline emitted, its output kept (bounded) and split into
 * lines as it arrives, its exit, and its one result. What a pipeline emits is read by its
 * `type` (values.ts): a chunk is output, an exec result a command's whole outcome; anything
 * else is the host's value, kept as it is.
 */
import { TextDecoder } from 'node:util';
import { OutputCapture } from '../channel/capture.js';
import { LineSplitter } from '../util/line-splitter.js';
import { isExecChunk, isExecResult } from './values.js';
import type { LabelledTarget } from '../config/target.js';
import type { HostLine, HostResult, HostStatus } from './types.js';

/** Where a host's lines and its result go. */
export interface HostRunSink<T> {
  line(line: HostLine): void;
  finished(run: HostRun<T>, result: Omit<HostResult<T>, 'type'>): void;
}

interface Captured {
  output: OutputCapture;
  decoders: { stdout: TextDecoder; stderr: TextDecoder };
  lines: { stdout: LineSplitter; stderr: LineSplitter };
}

/** One host's state in a fan-out: what it emitted, its output (captured and as lines), its exit. */
export class HostRun<T> {
  readonly startedAt = Date.now();
  attempts = 0;
  finished = false;
  value: T | undefined;
  exit: { exitCode: number | null; signal: string | null } = { exitCode: null, signal: null };
  readonly captured: Captured;

  constructor(
    readonly target: LabelledTarget,
    limits: { readonly capture: number; readonly maxLineLength: number },
    private readonly sink: HostRunSink<T>,
  ) {
    this.captured = {
      output: new OutputCapture(limits.capture),
      decoders: { stdout: new TextDecoder(), stderr: new TextDecoder() },
      lines: {
        stdout: new LineSplitter(limits.maxLineLength, (line, truncated) => this.line('stdout', line, truncated)),
        stderr: new LineSplitter(limits.maxLineLength, (line, truncated) => this.line('stderr', line, truncated)),
      },
    };
  }

  observe(value: T): void {
    this.value = value;
    if (isExecChunk(value)) {
      this.keep(value.stream, value.data);
    } else if (isExecResult(value)) {
      this.exit = { exitCode: value.exitCode, signal: value.signal };
      this.keep('stdout', typeof value.stdout === 'string' ? Buffer.from(value.stdout) : value.stdout);
      this.keep('stderr', typeof value.stderr === 'string' ? Buffer.from(value.stderr) : value.stderr);
    }
  }

  keep(stream: 'stdout' | 'stderr', data: Uint8Array): void {
    const c = this.captured;
    c.output.keep(stream, data);
    c.lines[stream].push(c.decoders[stream].decode(data, { stream: true }));
  }

  line(stream: 'stdout' | 'stderr', line: string, truncated: boolean): void {
    this.sink.line({ type: 'line', host: this.target.label, stream, line, truncated });
  }

  /** Emits the host's one result (flushing its last partial lines first); later calls do nothing. */
  finish(status: HostStatus, error: unknown): void {
    if (this.finished) return;
    this.finished = true;
    for (const stream of ['stdout', 'stderr'] as const) {
      const lines = this.captured.lines[stream];
      lines.push(this.captured.decoders[stream].decode());
      lines.end();
    }
    const endedAt = Date.now();
    this.sink.finished(this, {
      target: this.target,
      host: this.target.label,
      status,
      value: this.value,
      exitCode: this.exit.exitCode ?? (status === 'ok' && (isExecChunk(this.value) || this.value === undefined) ? 0 : null),
      signal: this.exit.signal,
      stdout: this.captured.output.text('stdout'),
      stderr: this.captured.output.text('stderr'),
      truncated: this.captured.output.truncated,
      error,
      attempts: this.attempts,
      timings: { startedAt: this.startedAt, endedAt, durationMs: endedAt - this.startedAt },
    });
  }
}
