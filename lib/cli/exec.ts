/**
 * `rxssh exec`: one host, like `ssh host command` (or an interactive shell and forwards without
 * a command, see session.ts).
 */
import { constants as osConstants } from 'node:os';
import { Writable, type Readable } from 'node:stream';
import { type Observable } from 'rxjs';
import { exec, ExitStatusError, OutputFlow, sshConfigValues, withConnection, type ExecChunk, type SshConfigHost } from '../index.js';
import { within } from '../util/deadline.js';
import { configLine, parseUntilPositional } from './args.js';
import { escapeCharOf, quietAt } from '../util/terminal-settings.js';
import { Secrets } from './credentials.js';
import { canConfirm, confirmUnknownHosts, learnFileOf } from './host-keys.js';
import { EXIT_STDOUT_CLOSED, OUTPUT_QUEUED, type Io } from './io.js';
import { WritableBackpressure } from '../util/writable-backpressure.js';
import { session, type SessionInput, type SessionWork } from './session.js';
import { stdioForward, stdioTarget } from './stdio-forward.js';
import { checkForwardSpecs, forwardPlan } from './forward-plan.js';
import { EXIT, UsageError } from './usage.js';
import { HOST_OPTIONS, hostConnection, hostOptions, remoteCommandClash, resolveHost, timeoutOf, usageSpec, type Values } from './host.js';
import { causes, errorText, terminalSafe } from './report.js';

export const EXEC_HELP = `usage: rxssh exec [options] [user@]host[:port] [COMMAND...]

Runs COMMAND on one host, like ssh: output on stdout and stderr, this program's stdin goes to the
command (-n: none), the exit code is the command's (255 when the connection failed, 128+N when
a signal N ended it). Options end at the host, so no -- is needed. Hosts are resolved through
~/.ssh/config (or -F).

options (ssh's letters mean what they mean to ssh):
  -p PORT                 port, unless given with the host
  -l, --user USER         user, unless given with the host
  -i FILE                 a private key, tried before the config's (repeatable)
  -o, -O OPTION           ssh_config option, e.g. -o StrictHostKeyChecking=accept-new
                          (repeatable; harmless ones are accepted, unsupported ones refused)
  -J HOPS                 jump hosts (ProxyJump)
  -4, -6                  IPv4 or IPv6 only (AddressFamily)
  -b ADDRESS              the local address to connect from (BindAddress)
  -c CIPHERS, -m MACS     the cipher and MAC lists (Ciphers, MACs: +, -, ^ as ssh reads them)
  -g                      -L and -D listen on every interface (GatewayPorts)
  -a                      no agent forwarding (ForwardAgent no)
  -s                      COMMAND is a subsystem (e.g. sftp, netconf), as ssh -s
  -A                      forward the agent (ForwardAgent yes)
  -n                      no stdin (like ssh -n)
  -L [BIND:]PORT:HOST:HOSTPORT  forward a local port to HOST:HOSTPORT as the server sees it;
                          a Unix socket on either side: -L /local.sock:HOST:HOSTPORT,
                          -L [BIND:]PORT:/remote.sock, -L /local.sock:/remote.sock
  -R [BIND:]PORT:HOST:HOSTPORT  forward a port on the server to HOST:HOSTPORT from here;
                          Unix sockets: -R [BIND:]PORT:/local.sock, -R /remote.sock:HOST:HOSTPORT,
                          -R /remote.sock:/local.sock
  -D [BIND:]PORT          a SOCKS5 proxy on a local port (or -D /local.sock), through the server
  -N                      no command: forwards only, until interrupted
  -W HOST:PORT            stdin and stdout as one connection to HOST:PORT through the server
                          (or -W /remote.sock), as ssh -W: for ProxyCommand rxssh exec -W %h:%p HOST
  (no COMMAND: an interactive shell, on a pseudo-terminal when this is a terminal)
  -t                      a pseudo-terminal when stdin is one; -tt: always
  -T                      no pseudo-terminal (over RequestTTY in the config)
  -q                      quiet: no warnings (as LogLevel QUIET)
  -e CHAR                 the escape character on a terminal (default ~, ^X, or none):
                          at the start of a line, ~. ends the session, ~^Z suspends, ~? lists
  -C                      compression (zlib@openssh.com), as ssh -C
  -F, --ssh-config FILE   the ssh_config to read instead of ~/.ssh/config
  -G                      print what rxssh resolved for the host, in ssh -G's words (the
                          keywords rxssh honours), and exit without connecting
  -x, --extra-args ARGS   ssh arguments (-i -p -l -o -J -A -F)
  -X, --extra-arg ARG     one ssh argument (repeatable)
  -v, --verbose           say more about failures
      --match-exec        run the ssh_config's Match exec commands, as ssh does
      --sudo, --sudo-user USER, --become-method sudo|su|doas, --become-password-env VAR,
      --ask-become-pass   run the command as another user (see rxssh run --help)
      --timeout SEC       stop the command after SEC seconds (default 0 = none)
      --askpass           ask for a password (no echo)
      --identity FILE     a private key, tried before the config's (repeatable; FILE-cert.pub too)
      --certificate FILE  an OpenSSH certificate for one of the keys (repeatable)
      --known-hosts FILE  known_hosts file instead of the config's
      --accept-new        trust and record an unknown host
      --password-env VAR  a password from an environment variable
      --passphrase-env VAR  the passphrase of encrypted keys
      --help              this help
`;

/** Runs `rxssh exec [user@]host[:port] COMMAND...`; resolves with the remote exit code. */
/**
 * `rxssh exec`'s options: run's host options with ssh's own letters where they mean what they
 * mean to ssh (`-p -i -o -l -J -A -n -q -v -C -t`); the timeout and asking for a password are
 * long options here (`--timeout`, `--askpass`), as `-t` and `-A` are ssh's.
 */
const EXEC_OPTIONS = {
  'ssh-config': HOST_OPTIONS['ssh-config'],
  user: HOST_OPTIONS.user,
  option: { type: 'string', short: 'O', multiple: true },
  'extra-args': HOST_OPTIONS['extra-args'],
  'extra-arg': HOST_OPTIONS['extra-arg'],
  identity: HOST_OPTIONS.identity,
  certificate: HOST_OPTIONS.certificate,
  'known-hosts': HOST_OPTIONS['known-hosts'],
  'accept-new': HOST_OPTIONS['accept-new'],
  'password-env': HOST_OPTIONS['password-env'],
  'passphrase-env': HOST_OPTIONS['passphrase-env'],
  verbose: HOST_OPTIONS.verbose,
  'match-exec': HOST_OPTIONS['match-exec'],
  sudo: HOST_OPTIONS.sudo,
  'sudo-user': HOST_OPTIONS['sudo-user'],
  'become-method': HOST_OPTIONS['become-method'],
  'become-password-env': HOST_OPTIONS['become-password-env'],
  'ask-become-pass': HOST_OPTIONS['ask-become-pass'],
  help: HOST_OPTIONS.help,
  timeout: { type: 'string' },
  askpass: { type: 'boolean' },
  port: { type: 'string', short: 'p' },
  'ssh-identity': { type: 'string', short: 'i', multiple: true },
  'ssh-option': { type: 'string', short: 'o', multiple: true },
  jump: { type: 'string', short: 'J' },
  'forward-agent': { type: 'boolean', short: 'A' },
  'no-forward-agent': { type: 'boolean', short: 'a' },
  inet4: { type: 'boolean', short: '4' },
  inet6: { type: 'boolean', short: '6' },
  'bind-address': { type: 'string', short: 'b' },
  ciphers: { type: 'string', short: 'c' },
  macs: { type: 'string', short: 'm' },
  'gateway-ports': { type: 'boolean', short: 'g' },
  subsystem: { type: 'boolean', short: 's' },
  quiet: { type: 'boolean', short: 'q' },
  escape: { type: 'string', short: 'e' },
  compress: { type: 'boolean', short: 'C' },
  tty: { type: 'boolean', short: 't', multiple: true },
  'no-tty': { type: 'boolean', short: 'T' },
  'no-stdin': { type: 'boolean', short: 'n' },
  'local-forward': { type: 'string', short: 'L', multiple: true },
  'remote-forward': { type: 'string', short: 'R', multiple: true },
  'dynamic-forward': { type: 'string', short: 'D', multiple: true },
  'no-command': { type: 'boolean', short: 'N' },
  'stdio-forward': { type: 'string', short: 'W' },
  'print-config': { type: 'boolean', short: 'G' },
} as const;

/** ssh's letters (-p -J -A -C, -o, -i) in the terms of run's host options (config lines, identities). */
function runValuesOf(given: Values): Values {
  const values: Values = { ...given };
  const sshLines = [...((given['ssh-option'] as string[] | undefined) ?? [])];
  for (const line of sshLines) configLine(line, '-o', true); // refused as the -o it was given with, not as run's -O
  const port = given['port'] as string | undefined;
  if (port !== undefined) {
    if (!/^\d+$/.test(port) || Number(port) < 1 || Number(port) > 65535) throw new UsageError(`-p ${port}: not a port`);
    sshLines.push(`Port=${port}`);
  }
  if (given['jump'] !== undefined) sshLines.push(`ProxyJump=${given['jump'] as string}`);
  if (given['forward-agent'] === true) sshLines.push('ForwardAgent=yes');
  else if (given['no-forward-agent'] === true) sshLines.push('ForwardAgent=no');
  if (given['inet4'] === true && given['inet6'] === true) throw new UsageError('-4 and -6: one address family');
  if (given['inet4'] === true) sshLines.push('AddressFamily=inet');
  if (given['inet6'] === true) sshLines.push('AddressFamily=inet6');
  for (const [key, keyword, letter] of [['bind-address', 'BindAddress', '-b'], ['ciphers', 'Ciphers', '-c'], ['macs', 'MACs', '-m']] as const) {
    const value = given[key] as string | undefined;
    if (value !== undefined) sshLines.push(configLine(`${keyword}=${value}`, letter, true));
  }
  if (given['gateway-ports'] === true) sshLines.push('GatewayPorts=yes');
  if (given['compress'] === true) sshLines.push('Compression=yes');
  if (given['quiet'] === true) sshLines.push('LogLevel=QUIET'); // as ssh -q, over the config's
  const escape = given['escape'] as string | undefined;
  if (escape !== undefined) {
    if (escapeCharOf(escape) === undefined) throw new UsageError(`-e ${escape}: bad escape character (one character, ^X or none)`);
    sshLines.push(`EscapeChar=${escape}`);
  }
  values['option'] = [...((given['option'] as string[] | undefined) ?? []), ...sshLines];
  values['identity'] = [...((given['identity'] as string[] | undefined) ?? []), ...((given['ssh-identity'] as string[] | undefined) ?? [])];
  return values;
}

/**
 * Runs `command$`, its output to stdout and stderr with backpressure (while either holds too
 * much, `flow` is paused and the server waits, as ssh blocks on a full pipe); resolves when it
 * completes. An abort unsubscribes it (the remote command is signalled, like ssh's Ctrl-C
 * without a pty) and rejects.
 */
function writeOutput(command$: Observable<ExecChunk>, io: Io, signal: AbortSignal, flow: OutputFlow): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const backpressure = new WritableBackpressure(flow, OUTPUT_QUEUED);
    const settle = (): void => {
      signal.removeEventListener('abort', onAbort);
      backpressure.release();
    };
    const onAbort = (): void => {
      sub.unsubscribe();
      settle();
      reject(new Error('interrupted'));
    };
    const sub = command$.subscribe({
      next: (chunk) => {
        const target = chunk.stream === 'stdout' ? io.stdout : io.stderr;
        backpressure.wrote(target, !target.write(chunk.data));
      },
      error: (err: unknown) => {
        settle();
        reject(err);
      },
      complete: () => {
        settle();
        resolve();
      },
    });
    if (signal.aborted) onAbort();
    else if (!sub.closed) signal.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * The exit code of a command that ended with a status, or with a signal: 128 + N, as a shell
 * reports a killed child (OpenSSH's ssh exits 255 then, the code it also gives a lost connection).
 */
function exitCodeOfStatus(err: ExitStatusError): number {
  if (err.exitCode !== null) return err.exitCode;
  const signal = err.signal ? (osConstants.signals as Record<string, number>)[`SIG${err.signal}`] : undefined;
  return signal ? 128 + signal : 255;
}

/**
 * Runs `attempt`; when it fails on an unknown host and this is a terminal, asks as ssh does: a
 * confirmed key is recorded and the connection made again (nothing had been sent: the key is
 * checked before any credential).
 */
async function withHostKeyQuestion(attempt: () => Promise<void>, host: SshConfigHost, io: Io): Promise<void> {
  try {
    await attempt();
  } catch (err) {
    const file = learnFileOf(host);
    if (!io.stdinIsTTY || host.batchMode || !canConfirm(err) || file === undefined) throw err;
    const confirmed = await confirmUnknownHosts([{ host: err.host, port: err.port, error: err, file, hash: host.hashKnownHosts }], io);
    if (confirmed.length === 0) throw err;
    await attempt();
  }
}

// eslint-disable-next-line max-lines-per-function -- Long by design: ssh's decisions for one command, in ssh's order (flags, host, pty, RemoteCommand, forwards, the unknown-host question).
export async function execCommand(argv: readonly string[], io: Io): Promise<number> {
  const parsed = parseUntilPositional(argv, EXEC_OPTIONS);
  const given = parsed.values as Values;
  const rest = parsed.rest;
  if (given['help']) {
    io.stdout.write(EXEC_HELP);
    return EXIT.ok;
  }
  const [spec, ...after] = rest;
  let words = after[0] === '--' ? after.slice(1) : after; // `rxssh exec host -- cmd` as ssh takes it
  if (!spec) throw new UsageError('usage: rxssh exec [options] [user@]host[:port] [COMMAND...]');
  const strings = (key: string): string[] => (given[key] as string[] | undefined) ?? [];
  const asked = checkForwardSpecs(strings('local-forward'), strings('remote-forward'), strings('dynamic-forward'));
  const noCommand = given['no-command'] === true;
  if (given['subsystem'] === true && words.length === 0) throw new UsageError('-s needs the subsystem to start (e.g. rxssh exec -s host sftp)');
  if (noCommand && words.length > 0) throw new UsageError('-N runs no command: give forwards only');
  // -W: stdin and stdout are one connection through the server, nothing else (ssh -W implies
  // ClearAllForwardings and no session); a command or -L/-R/-D beside it is refused, never dropped.
  const stdioSpec = given['stdio-forward'] as string | undefined;
  const stdioTo = stdioSpec === undefined ? undefined : stdioTarget(stdioSpec);
  if (stdioTo && words.length > 0) throw new UsageError('-W forwards stdin and stdout: it runs no command');
  if (stdioTo && strings('local-forward').length + strings('remote-forward').length + strings('dynamic-forward').length > 0) throw new UsageError('-W cannot go with -L, -R or -D');
  const values = runValuesOf(given);
  const ttys = (given['tty'] as boolean[] | undefined)?.length ?? 0;
  // -t asks for a terminal when this one is a terminal, -tt always, -T never (as ssh); neither
  // flag: the host's RequestTTY decides (below).
  const flagTty = given['no-tty'] === true ? 'no' : ttys >= 2 ? 'force' : ttys === 1 ? 'yes' : undefined;
  // A ProxyCommand's stderr is the user's to see, as with ssh.
  const base = hostOptions(values, io, false, true);
  // As ssh on a terminal: a password or keyboard-interactive answers are asked for when the server wants them.
  const o = { ...base, secrets: { ...base.secrets, interactive: true }, proxyStderr: (chunk: Buffer): void => void io.stderr.write(chunk), forwards: asked };
  const target = usageSpec(spec);
  const timeoutSec = timeoutOf(values);
  let stdin: Readable | undefined; // this program's stdin, unless -n or the host's StdinNull says none
  const abort = new AbortController();
  const offInterrupt = io.onInterrupt(() => abort.abort());
  let stdoutClosed = false;
  const offClosed = io.onStdoutClosed?.(() => {
    stdoutClosed = true;
    abort.abort(); // stops the remote command, as ssh's SIGPIPE ends its session
  });
  let escaped = false; // ~. was typed
  let opened = false; // the command or shell started (the closing line is for one on a pseudo-terminal)
  let closedNotice = (): void => undefined;
  try {
    // RemoteCommand runs when no command is given; beside one it is an error, as in ssh.
    const host = resolveHost(target, o);
    if (given['print-config'] === true) {
      // ssh -G: what rxssh resolved, in ssh's words (the keywords rxssh honours); nothing connects.
      if (words.length > 0) throw new UsageError('-G prints the configuration: it runs no command');
      for (const [keyword, values] of sshConfigValues(host)) for (const value of values) io.stdout.write(`${keyword} ${value}\n`);
      return 0;
    }
    // -q, or a LogLevel below INFO: none of rxssh's own notices (the command's stderr still goes to stderr).
    const quiet = quietAt(host.logLevel);
    const quietIo: Io = quiet ? { ...io, stderr: new Writable({ write: (_chunk, _encoding, done) => done() }) } : io;
    const secrets = new Secrets(o.secrets, quietIo);
    if (values['no-stdin'] !== true && !host.stdinNull) stdin = io.stdin;
    const flow = new OutputFlow(); // paused while stdout or stderr is full
    let command$: Observable<ExecChunk>;
    // -W: the forward alone (ssh -W implies ClearAllForwardings and no session); the deadline and
    // the unknown-host question below hold for it as for a command.
    if (stdioTo) command$ = hostConnection(target, o, secrets).pipe(withConnection((c) => stdioForward(c, stdioTo, stdin, io)));
    else {
      const forwards = forwardPlan(host); // the command line's and the config's; none with ClearAllForwardings, as ssh
      const withForwards = forwards.local.length + forwards.remote.length + forwards.dynamic.length > 0;
      if (host.remoteCommand !== undefined && words.length > 0) throw remoteCommandClash(host);
      const remote = host.remoteCommand !== undefined && words.length === 0 && !noCommand ? host.remoteCommand : undefined;
      if (remote !== undefined) words = [remote];
      const shellAsked = words.length === 0 && !noCommand;
      // As ssh: a terminal is asked for by -t, RequestTTY, or a shell (no command); given when stdin is a terminal, or forced.
      const ttyAsked = noCommand ? 'no' : (flagTty ?? (host.requestTty === 'auto' ? (shellAsked ? 'yes' : 'no') : host.requestTty));
      const pty = ttyAsked === 'force' || (ttyAsked === 'yes' && io.stdinIsTTY);
      if (ttyAsked === 'yes' && !io.stdinIsTTY && !quiet) io.stderr.write('Pseudo-terminal will not be allocated because stdin is not a terminal.\n');
      if (pty && !quiet) closedNotice = () => void io.stderr.write(`Connection to ${host.host} closed.\r\n`);
      // A shell, or forwards beside the command, cannot run as another user: never ignore --sudo.
      if (o.become && (withForwards || words.length === 0)) throw new UsageError('--sudo needs a command (not a shell, not beside -L/-R/-D)');
      const become = o.become ? secrets.becomeConfig(o.become) : undefined;
      const subsystem = given['subsystem'] === true;
      if (subsystem && become) throw new UsageError('--sudo cannot start a subsystem');
      if (!pty && !withForwards && !subsystem && words.length > 0) command$ = hostConnection(target, o, secrets).pipe(exec(words.join(' '), { ...(stdin ? { stdin } : {}), flow, ...(become ? { become } : {}) }));
      else {
        // A pseudo-terminal, a shell, or forwards: a session as ssh's (raw mode, escapes, resizes).
        const work: SessionWork =
          words.length === 0 ? (noCommand ? { kind: 'none' } : { kind: 'shell' }) : subsystem ? { kind: 'subsystem', name: words.join(' ') } : { kind: 'command', command: words.join(' '), ...(become ? { become } : {}) };
        const input: SessionInput = { pty, stdin, flow, escapeChar: host.escapeChar, onEscapeEnd: () => ((escaped = true), abort.abort()), onOpen: () => (opened = true) };
        command$ = hostConnection(target, o, secrets).pipe(withConnection((c) => session(c, forwards, work, io, input)));
      }
    }
    if (timeoutSec > 0) command$ = command$.pipe(within(timeoutSec * 1000, { host: target.host, port: target.port ?? 22 }));
    await withHostKeyQuestion(() => writeOutput(command$, io, abort.signal, flow), host, io);
    if (opened) closedNotice();
    return 0;
  } catch (err) {
    if (err instanceof UsageError) throw err;
    if (opened && (escaped || err instanceof ExitStatusError)) closedNotice(); // as ssh, after a session on a terminal
    if (escaped) return 255; // ~.: ssh's code for a session it ended
    if (err instanceof ExitStatusError) return exitCodeOfStatus(err);
    if (stdoutClosed) return EXIT_STDOUT_CLOSED;
    if (abort.signal.aborted) return 130;
    io.stderr.write(`rxssh: ${terminalSafe(errorText(err) + (o.verbose ? causes(err) : ''))}\n`);
    return 255; // like ssh: the connection, not the command, failed
  } finally {
    offInterrupt();
    offClosed?.();
    if (stdin) io.releaseStdin();
  }
}
