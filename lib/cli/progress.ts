/**
 * The CLI's progress bar: one line at the bottom of the terminal, and one writer for everything
 * that reaches the terminal while it is up. Each write clears the bar's line, writes, and draws
 * the bar again below what was written (never with cursor save/restore, which left the summary
 * and the shell prompt drawn over host output). It is only used when stdout and stderr are the
 * same terminal.
 */
import type { FanOutProgress } from '../fleet/index.js';
import type { Io } from './io.js';

const CLEAR_LINE = '\r\x1b[K';

/** A progress bar on the terminal; every line written during the run goes through {@link write}. */
export class ProgressBar {
  readonly #io: Io;
  readonly #startedAt = Date.now();
  #progress: FanOutProgress;
  /** Whether the bar is on the screen now. */
  #shown = false;
  /** Whether the last text written ended mid-line (the bar waits for the line's end). */
  #midLine = false;
  #stopped = false;
  #suspended = 0;

  constructor(io: Io, total: number) {
    this.#io = io;
    this.#progress = { type: 'progress', total, done: 0, ok: 0, failed: 0, inFlight: 0 };
    this.#draw();
  }

  update(p: FanOutProgress): void {
    this.#progress = p;
    this.#draw();
  }

  /** Writes text to stdout or stderr above the bar. */
  write(stream: 'stdout' | 'stderr', text: string | Uint8Array): void {
    if (this.#stopped) {
      this.#io[stream].write(text);
      return;
    }
    this.#hide();
    if (text.length === 0) return this.#draw();
    this.#io[stream].write(text);
    const last = typeof text === 'string' ? text.charCodeAt(text.length - 1) : text[text.length - 1];
    this.#midLine = last !== 10;
    this.#draw();
  }

  /** Takes the bar off the screen while something asks on the terminal (a password prompt). */
  suspend(): void {
    this.#hide();
    this.#suspended++;
  }

  /** Draws the bar again after {@link suspend}. */
  resume(): void {
    this.#suspended = Math.max(0, this.#suspended - 1);
    this.#draw();
  }

  /** Clears the bar for good: what comes after starts on a clean line. */
  stop(): void {
    if (this.#stopped) return;
    this.#hide();
    if (this.#midLine) this.#io.stderr.write('\n');
    this.#stopped = true;
  }

  #hide(): void {
    if (!this.#shown) return;
    this.#io.stderr.write(CLEAR_LINE);
    this.#shown = false;
  }

  #draw(): void {
    if (this.#stopped || this.#midLine || this.#suspended > 0) return;
    const { total, done, ok, failed, inFlight } = this.#progress;
    const width = 30;
    const filled = total > 0 ? Math.round((done / total) * width) : width;
    const seconds = Math.round((Date.now() - this.#startedAt) / 1000);
    this.#io.stderr.write(`${CLEAR_LINE} ${'█'.repeat(filled)}${'░'.repeat(width - filled)} ${done}/${total} hosts | ok ${ok} | failed ${failed} | running ${inFlight} | ${seconds}s`);
    this.#shown = true;
  }
}
