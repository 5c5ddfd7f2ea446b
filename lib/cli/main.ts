#!/usr/bin/env node
/**
 * The `rxssh` command: `run` (many hosts, pssh-compatible), `exec` (one host) and `demo` (an
 * embedded fleet).
 */
import { demoCommand } from './demo.js';
import { processIo, type Io } from './io.js';
import { EXIT, execCommand, parseRun, runCommand, UsageError } from './run.js';

const HELP = `usage:
  rxssh run [options] -- COMMAND          run COMMAND on many hosts (pssh's flags and exit codes)
  rxssh exec [user@]host[:port] -- COMMAND  run COMMAND on one host; exit code = the remote one
  rxssh demo [--hosts N] [--json] [-- COMMAND]  an embedded fleet of N SSH servers (default 50)

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

/** Runs the CLI with the given arguments (without `node script`); resolves with the exit code. */
export async function main(argv: readonly string[], io: Io = processIo()): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'run':
        return await runCommand(parseRun(rest, io), io);
      case 'exec':
        return await execCommand(rest, io);
      case 'demo':
        return await demoCommand(rest, io);
      case undefined:
      case 'help':
      case '--help':
        io.stdout.write(HELP);
        return command === undefined ? EXIT.usage : EXIT.ok;
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    }
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.stderr.write(`rxssh: ${(err as Error).message}\n\n${HELP}`);
      return EXIT.usage;
    }
    io.stderr.write(`rxssh: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT.misc;
  }
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`rxssh: ${String(err)}\n`);
      process.exitCode = EXIT.misc;
    },
  );
}
