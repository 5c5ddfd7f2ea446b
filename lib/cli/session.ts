/**
 * `rxssh exec` as an interactive `ssh`: a shell on a pseudo-terminal when no command is given
 * (raw mode, window-size changes, the remote exit code), and `-L`, `-R`, `-D` forwards (with
 * `-N`: forwards only), on the library's own forwards.
 */
import { connect as tcpConnect } from 'node:net';
import type { Readable } from 'node:stream';
import { merge, NEVER, noop, Observable, tap, ignoreElements } from 'rxjs';
import type { ExecChunk, PtyConfig, Connection, BindAddress, OutputFlow } from '../index.js';
import type { Io } from './io.js';
import { UsageError } from './usage.js';

/** What `-L`, `-R` and `-D` asked for. */
export interface ForwardPlan {
  readonly local: ReadonlyArray<{ readonly bind: BindAddress; readonly host: string; readonly port: number }>;
  readonly remote: ReadonlyArray<{ readonly bindHost: string; readonly bindPort: number; readonly host: string; readonly port: number }>;
  readonly dynamic: readonly BindAddress[];
}

const portOf = (text: string, spec: string): number => {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 0 || n > 65535) throw new UsageError(`bad forwarding specification ${JSON.stringify(spec)} (a port is 0-65535)`);
  return n;
};

/** Parses ssh's `-L [bind:]port:host:hostport`, `-R [bind:]port:host:hostport` and `-D [bind:]port`. */
export function forwardPlan(local: readonly string[], remote: readonly string[], dynamic: readonly string[]): ForwardPlan {
  const four = (spec: string): [string | undefined, number, string, number] => {
    const parts = spec.split(':');
    if (parts.length === 3) return [undefined, portOf(parts[0] as string, spec), parts[1] as string, portOf(parts[2] as string, spec)];
    if (parts.length === 4) return [parts[0] as string, portOf(parts[1] as string, spec), parts[2] as string, portOf(parts[3] as string, spec)];
    throw new UsageError(`bad forwarding specification ${JSON.stringify(spec)} (expected [bind_address:]port:host:hostport)`);
  };
  return {
    // As ssh: an empty address or `*` is every interface; none at all is GatewayPorts' choice (everyInterface()).
    local: local.map((spec) => {
      const [bind, port, host, hostPort] = four(spec);
      return { bind: { ...(bind !== undefined ? { host: bind === '' ? '*' : bind } : {}), port }, host, port: hostPort };
    }),
    remote: remote.map((spec) => {
      const [bind, port, host, hostPort] = four(spec);
      return { bindHost: bind ?? '127.0.0.1', bindPort: port, host, port: hostPort };
    }),
    dynamic: dynamic.map((spec) => {
      const parts = spec.split(':');
      if (parts.length > 2) throw new UsageError(`bad dynamic forwarding specification ${JSON.stringify(spec)} (expected [bind_address:]port)`);
      return parts.length === 2 ? { host: parts[0] === '' ? '*' : (parts[0] as string), port: portOf(parts[1] as string, spec) } : { port: portOf(parts[0] as string, spec) };
    }),
  };
}

/** `GatewayPorts yes`: the local and dynamic forwards given without an address listen on every interface. */
export function everyInterface(plan: ForwardPlan): ForwardPlan {
  return {
    ...plan,
    local: plan.local.map((f) => ({ ...f, bind: { ...f.bind, host: f.bind.host ?? '*' } })),
    dynamic: plan.dynamic.map((b) => ({ ...b, host: b.host ?? '*' })),
  };
}

/** The forwards of a plan on a connection, as one Observable that emits nothing and errors if one fails. */
function forwardsOn(connection: Connection, plan: ForwardPlan): Observable<never> {
  return merge(
    ...plan.local.map((f) => connection.forwardLocal({ bind: f.bind, remoteHost: f.host, remotePort: f.port })),
    ...plan.dynamic.map((bind) => connection.forwardDynamic({ bind })),
    ...plan.remote.map((f) =>
      connection.forwardRemote({ bindHost: f.bindHost, bindPort: f.bindPort }).pipe(
        tap((e) => {
          if (e.type !== 'connection') return;
          // Each connection the server forwards goes to host:port from here, as ssh -R does.
          const socket = tcpConnect(f.port, f.host);
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
