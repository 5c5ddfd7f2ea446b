/**
 * What the CLI talks to (injected, so specs can drive it in-process), and its progress bar.
 */
import cliProgress from 'cli-progress';
import type { FanOutProgress } from '../fan-out.js';

/** The CLI's outside world. */
export interface Io {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
  readonly stderrIsTTY: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Reads all of stdin (for `-I`). */
  readonly readStdin: () => Promise<Buffer>;
}

/** The process's own stdio. */
export function processIo(): Io {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    stderrIsTTY: process.stderr.isTTY === true,
    env: process.env,
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    },
  };
}

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
