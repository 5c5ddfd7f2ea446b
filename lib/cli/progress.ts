/**
 * The CLI's progress bar (loaded only when stderr is a terminal, so that piped and JSON runs
 * never load cli-progress).
 */
import cliProgress from 'cli-progress';
import type { FanOutProgress } from '../fan-out.js';
import type { Io } from './io.js';

/** A progress bar on stderr (only used when stderr is a TTY). */
export class ProgressBar {
  readonly #bar: cliProgress.SingleBar;
  readonly #io: Io;

  constructor(io: Io, total: number) {
    this.#io = io;
    this.#bar = new cliProgress.SingleBar(
      {
        stream: io.stderr as NodeJS.WritableStream & { isTTY?: boolean },
        format: ' {bar} {value}/{total} hosts | ok {ok} | failed {failed} | running {inFlight} | {duration_formatted}',
        hideCursor: true,
        clearOnComplete: false,
      },
      cliProgress.Presets.shades_classic,
    );
    this.#bar.start(total, 0, { ok: 0, failed: 0, inFlight: 0 });
  }

  update(p: FanOutProgress): void {
    this.#bar.update(p.done, { ok: p.ok, failed: p.failed, inFlight: p.inFlight });
  }

  /** Prints a line to stdout above the bar (the bar is cleared and drawn again below it). */
  log(line: string): void {
    this.#io.stderr.write('\r\x1b[K');
    this.#io.stdout.write(line);
    this.#bar.render();
  }

  stop(): void {
    this.#bar.stop();
  }
}
