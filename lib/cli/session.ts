/**
 * `rxssh exec` as an interactive `ssh`: a shell on a pseudo-terminal when no command is given
 * (raw mode, window-size changes, the remote exit code), and `-L`, `-R`, `-D` forwards (with
 * `-N`: forwards only), on the library's own forwards.
 */
import { connect as tcpConnect } from 'node:net';
import type { Readable } from 'node:stream';
import { merge, NEVER, noop, Observable, of, tap, ignoreElements } from 'rxjs';
import { exec, type BecomeConfig, type ExecChunk, type PtyConfig, type Connection, type OutputFlow, type TerminalSize } from '../index.js';
import { EscapeFilter } from './escapes.js';
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

/** What the session runs besides the forwards: a command (as another user with `become`), a subsystem (-s), an interactive shell, or nothing (-N). */
export type SessionWork =
  | { readonly kind: 'command'; readonly command: string; readonly become?: BecomeConfig }
  | { readonly kind: 'subsystem'; readonly name: string }
  | { readonly kind: 'shell' }
  | { readonly kind: 'none' };

/** How the session's command or shell runs: its input, its terminal, its escapes. */
export interface SessionInput {
  /** A pseudo-terminal asked for: of this terminal's size, in raw mode, resizes followed, when this is a terminal. */
  readonly pty: boolean;
  /** This program's stdin, or undefined for none (`-n`). */
  readonly stdin: Readable | undefined;
  readonly flow: OutputFlow;
  /** The escape character on a session with a pseudo-terminal (null: none). */
  readonly escapeChar: string | null;
  /** `~.` was typed: the caller ends the session. */
  readonly onEscapeEnd: () => void;
  /** The channel is open (the command or shell started). */
  readonly onOpen?: () => void;
}

/**
 * The session on a connection: the forwards (their failure fails it), and the command or the
 * shell; ends when the command or the shell does (never with `-N`, until interrupted).
 */
export function session(connection: Connection, plan: ForwardPlan, work: SessionWork, io: Io, input: SessionInput): Observable<ExecChunk> {
  return new Observable<ExecChunk>((subscriber) => {
    const forwards = forwardsOn(connection, plan).subscribe({ error: (err: unknown) => subscriber.error(err) });
    const main$ = work.kind === 'none' ? NEVER : interactive(connection, work, io, input);
    const run = main$.subscribe(subscriber);
    return () => {
      run.unsubscribe();
      forwards.unsubscribe();
    };
  });
}

/**
 * A command or a shell as ssh runs it: with a pseudo-terminal, this terminal in raw mode for
 * its duration (keys go as typed, Ctrl-C to the remote side), the window size followed, and the
 * escapes read from the input.
 */
function interactive(connection: Connection, work: Exclude<SessionWork, { kind: 'none' }>, io: Io, input: SessionInput): Observable<ExecChunk> {
  return new Observable<ExecChunk>((subscriber) => {
    const terminal = input.pty ? io.terminal : undefined;
    const size = terminal?.size();
    // As ssh: $TERM and the terminal's size, 0x0 without a terminal (-tt). Without $TERM ssh sends
    // an empty one, which ssh2 cannot (it sends vt100).
    const term = io.env['TERM'];
    const pty: PtyConfig | boolean = input.pty && { rows: size?.rows ?? 0, cols: size?.cols ?? 0, ...(term ? { term } : {}) };
    let resize: ((size: TerminalSize) => void) | undefined;
    // ~^Z: stopped out of raw mode; back in it, the window may have changed meanwhile.
    const suspend = (): void => {
      if (!terminal) return void io.stderr.write('rxssh: ~^Z needs a terminal\r\n');
      terminal.suspend();
      resize?.(terminal.size());
    };
    const say = (text: string): void => void io.stderr.write(text);
    const escapes = input.pty && input.stdin && input.escapeChar !== null ? new EscapeFilter(input.escapeChar, { end: input.onEscapeEnd, suspend, say }) : undefined;
    if (escapes) input.stdin?.pipe(escapes);
    const stdin = escapes ?? input.stdin;
    const config = { pty, stdin: stdin ?? [], flow: input.flow };
    let output$: Observable<ExecChunk>;
    if (work.kind === 'command' && work.become) output$ = of(connection).pipe(exec(work.command, { ...config, become: work.become }));
    else {
      const channel = work.kind === 'shell' ? connection.shell(config) : work.kind === 'subsystem' ? connection.subsystem(work.name, config) : connection.exec(work.command, config);
      resize = (to) => channel.resize(to);
      output$ = channel;
    }
    terminal?.raw(true);
    const offResize = terminal?.onResize(() => resize?.(terminal.size()));
    input.onOpen?.();
    const sub = output$.subscribe(subscriber);
    return () => {
      sub.unsubscribe();
      offResize?.();
      if (escapes) input.stdin?.unpipe(escapes);
      terminal?.raw(false);
    };
  });
}
