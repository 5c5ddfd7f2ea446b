/**
 * What the CLI talks to (injected, so specs can drive it in-process).
 */

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
