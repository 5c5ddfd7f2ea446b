/**
 * `rxssh exec` as an interactive `ssh`: a shell on a pseudo-terminal when no command is given
 * (raw mode, window-size changes, the remote exit code), and `-L`, `-R`, `-D` forwards (with
 * `-N`: forwards only), on the library's own forwards.
 */
import { connect as tcpConnect } from 'node:net';
import type { Readable } from 'node:stream';
import { merge, NEVER, noop, Observable, tap, ignoreElements } from 'rxjs';
import type { ExecChunk, PtyConfig, Connection, OutputFlow } from '../index.js';
import type { ForwardPlan } from './forward-plan.js';
import type { Io } from './io.js';

/** The forwards of a plan on a connection, as one Observable that emits nothing and errors if one fails. */
function forwardsOn(connection: Connection, plan: ForwardPlan): Observable<never> {
  return merge(
    ...plan.local.map((f) => connection.forwardLocal({ bind: f.bind, ...('path' in f.to ? { remoteSocketPath: f.to.path } : { remoteHost: f.to.host, remotePort: f.to.port }) })),
    ...plan.dynamic.map((bind) => connection.forwardDynamic({ bind })),
    ...plan.remote.map((f) =>
      ('path' in f.listen ? connection.forwardRemoteUnix(f.listen.path) : connection.forwardRemote({ bindHost: f.listen.host, bindPort: f.listen.port })).pipe(
        tap((e) => {
          if (e.type !== 'connection') return;
          // Each connection the server forwards goes to host:port (or a socket) from here, as ssh -R does.
          const socket = 'path' in f.to ? tcpConnect({ path: f.to.path }) : tcpConnect(f.to.port, f.to.host);
          socket.on('error', () => e.stream.destroy());
          e.stream.on('error', noop);
          e.stream.on('close', () => socket.destroy());
          socket.pipe(e.stream).pipe(socket);
        }),
      ),
    ),
  ).pipe(ignoreElements());
}

/** What the session runs besides the forwards: a command, an interactive shell, or nothing (-N). */
export type SessionWork =
  | { readonly kind: 'command'; readonly run: (connection: Connection) => Observable<ExecChunk> }
  | { readonly kind: 'shell'; readonly stdin: Readable | undefined; readonly flow?: OutputFlow }
  | { readonly kind: 'none' };

/**
 * The session on a connection: the forwards (their failure fails it), and the command or the
 * shell; ends when the command or the shell does (never with `-N`, until interrupted).
 */
export function session(connection: Connection, plan: ForwardPlan, work: SessionWork, io: Io): Observable<ExecChunk> {
  return new Observable<ExecChunk>((subscriber) => {
    const forwards = forwardsOn(connection, plan).subscribe({ error: (err: unknown) => subscriber.error(err) });
    const main$ = work.kind === 'command' ? work.run(connection) : work.kind === 'shell' ? shell(connection, work.stdin, io, work.flow) : NEVER;
    const run = main$.subscribe(subscriber);
    return () => {
      run.unsubscribe();
      forwards.unsubscribe();
    };
  });
}

/** An interactive shell: on a pseudo-terminal of this terminal's size (raw mode, resizes followed) when there is one. */
function shell(connection: Connection, stdin: Readable | undefined, io: Io, flow: OutputFlow | undefined): Observable<ExecChunk> {
  return new Observable<ExecChunk>((subscriber) => {
    const terminal = io.terminal;
    const size = terminal?.size();
    const pty: PtyConfig | false = terminal && size ? { rows: size.rows, cols: size.cols, term: io.env['TERM'] ?? 'xterm' } : false;
    const channel = connection.shell({ pty, ...(stdin ? { stdin } : { stdin: [] }), ...(flow ? { flow } : {}) });
    terminal?.raw(true);
    const offResize = terminal?.onResize(() => channel.resize(terminal.size()));
    const sub = channel.subscribe(subscriber);
    return () => {
      sub.unsubscribe();
      offResize?.();
      terminal?.raw(false);
    };
  });
}
