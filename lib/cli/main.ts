/**
 * The `rxssh` command: `run` (many hosts, pssh-compatible), `exec` (one host) and `demo` (an
 * embedded fleet). This module stays light: `--help` and `--version` load nothing else, and each
 * subcommand loads its own code (and so ssh2) only when it runs.
 */
import { packageRoot } from '../util/package-root.js';
import { readFileSync } from 'node:fs';
import type { Io } from './io.js';
import { EXIT, UsageError } from './usage.js';

export const HELP = `usage:
  rxssh run [options] COMMAND...                   run COMMAND on many hosts (pssh's flags,
                                                   output and exit codes)
  rxssh exec [options] [user@]host[:port] COMMAND...  run COMMAND on one host, like ssh
  rxssh put [options] [-r] LOCAL REMOTE            copy a file or tree to every host (pscp)
  rxssh get [options] [-r] REMOTE LOCALDIR         copy from every host into LOCALDIR/host (pslurp -L)
  rxssh demo [--hosts N] [--json] [COMMAND...]     an embedded fleet of N SSH servers (default 50)
  rxssh report RUN.ndjson > run.html               a run saved with --json as one HTML page
  rxssh worker --queue redis://HOST[:PORT]         run the host jobs of 'rxssh run --queue' (many
                                                   machines, one Redis)
  rxssh --version

Hosts are resolved like ssh resolves them, through ~/.ssh/config (or -F FILE).
'rxssh COMMAND --help' lists each command's options.

exit codes: 0 all ok, 1 misc error, 2 usage error, 3 a host timed out or was interrupted,
            4 a host had a connection or auth error, 5 a remote command failed
`;

/** The package's version (read from its package.json, which ships beside `dist/`). */
export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('package.json', packageRoot()), 'utf8')) as { version: string };
  return pkg.version;
}

/** Runs the CLI with the given arguments (without `node script`); resolves with the exit code. */
// eslint-disable-next-line max-lines-per-function -- Long by design: the dispatch of every subcommand and the mapping of every error to an exit code, in one place.
export async function main(argv: readonly string[], io?: Io): Promise<number> {
  const [command, ...rest] = argv;
  const out = io ?? (await import('./io.js')).processIo();
  try {
    switch (command) {
      case 'run': {
        const { parseRun, runCommand, RUN_HELP } = await import('./run.js');
        const opts = parseRun(rest, out);
        if (opts.help) {
          out.stdout.write(RUN_HELP);
          return EXIT.ok;
        }
        return await runCommand(opts, out);
      }
      case 'put':
      case 'get': {
        const { copyCommand } = await import('./copy.js');
        return await copyCommand(command, rest, out);
      }
      case 'exec': {
        const { execCommand } = await import('./exec.js');
        return await execCommand(rest, out);
      }
      case 'worker': {
        const { workerCommand } = await import('./worker.js');
        return await workerCommand(rest, out);
      }
      case 'report': {
        const { reportCommand } = await import('./report-command.js');
        return await reportCommand(rest, out);
      }
      case 'demo': {
        const { demoCommand } = await import('./demo.js');
        return await demoCommand(rest, out);
      }
      case '--version':
      case '-V':
        out.stdout.write(`rxssh ${version()}\n`);
        return EXIT.ok;
      case undefined:
      case 'help':
      case '--help':
        out.stdout.write(HELP);
        return command === undefined ? EXIT.usage : EXIT.ok;
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    }
  } catch (err) {
    const usage = err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') === true;
    // An optional peer (piscina for --workers, bullmq and ioredis for --queue) is not installed.
    const missingPeer = (err as { code?: unknown }).code === 'ERR_SSH_MISSING_PEER';
    const message = err instanceof Error ? err.message : String(err);
    if (rest.includes('--json')) {
      // --json output stays pure NDJSON, errors included.
      out.stdout.write(`${JSON.stringify({ type: 'error', error: { code: usage ? 'usage' : 'error', message } })}\n`);
      return usage || missingPeer ? EXIT.usage : EXIT.misc;
    }
    if (usage) {
      out.stderr.write(`rxssh: ${message}\n(rxssh ${command ?? ''} --help lists the options)\n`);
      return EXIT.usage;
    }
    // The message names the package; like a usage error, nothing ran.
    if (missingPeer) {
      out.stderr.write(`rxssh: ${message}\n`);
      return EXIT.usage;
    }
    out.stderr.write(`rxssh: ${message}\n`);
    return EXIT.misc;
  }
}
