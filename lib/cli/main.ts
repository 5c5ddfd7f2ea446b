/**
 * The `rxssh` command: `run` (many hosts, pssh-compatible), `exec` (one host) and `demo` (an
 * embedded fleet). This module stays light: `--help` and `--version` load nothing else, and each
 * subcommand loads its own code (and so ssh2) only when it runs.
 */
import { readFileSync } from 'node:fs';
import type { Io } from './io.js';
import { EXIT, UsageError } from './usage.js';

export const HELP = `usage:
  rxssh run [options] -- COMMAND          run COMMAND on many hosts (pssh's flags and exit codes)
  rxssh exec [user@]host[:port] -- COMMAND  run COMMAND on one host; exit code = the remote one
  rxssh demo [--hosts N] [--json] [-- COMMAND]  an embedded fleet of N SSH servers (default 50)
  rxssh --version

run options:
  -h, --hosts FILE        hosts file, one [user@]host[:port] per line (repeatable)
  -H, --host SPEC         [user@]host[:port] (repeatable)
  -l, --user USER         default user
  -p, --par N             hosts at once (default 32)
  -t, --timeout SEC       per-host timeout (default 60, 0 = none)
  -i, --inline            print each host's output when it finishes
  -P, --print             print output lines live, prefixed "host: "
  -o, --outdir DIR        write each host's stdout to DIR/host
  -e, --errdir DIR        write each host's stderr to DIR/host
  -I, --send-input        send this program's stdin to every host
      --identity FILE     private key (repeatable; default: agent + ~/.ssh keys)
      --known-hosts FILE  known_hosts (default ~/.ssh/known_hosts; unknown hosts fail)
      --accept-new        trust and record unknown hosts (StrictHostKeyChecking accept-new)
      --password-env VAR  password from an environment variable
  -F, --ssh-config FILE   resolve hosts as aliases of this ssh_config (HostName, Port, User,
                          IdentityFile, ProxyJump, StrictHostKeyChecking, UserKnownHostsFile)
  -A, --aliases PATTERN   every Host alias of the ssh_config (-F, or ~/.ssh/config) matching
                          PATTERN, e.g. 'web*' or 'web*,!web-old' (repeatable)
      --json              one JSON result per host, then a summary

exit codes: 0 all ok, 1 misc error, 2 usage error, 3 a host timed out,
            4 a host had a connection or auth error, 5 a remote command failed
`;

/** The package's version (read from its package.json, which ships beside `dist/`). */
export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** Runs the CLI with the given arguments (without `node script`); resolves with the exit code. */
export async function main(argv: readonly string[], io?: Io): Promise<number> {
  const [command, ...rest] = argv;
  const out = io ?? (await import('./io.js')).processIo();
  try {
    switch (command) {
      case 'run': {
        const { parseRun, runCommand } = await import('./run.js');
        return await runCommand(parseRun(rest, out), out);
      }
      case 'exec': {
        const { execCommand } = await import('./run.js');
        return await execCommand(rest, out);
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
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      out.stderr.write(`rxssh: ${(err as Error).message}\n\n${HELP}`);
      return EXIT.usage;
    }
    out.stderr.write(`rxssh: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT.misc;
  }
}
