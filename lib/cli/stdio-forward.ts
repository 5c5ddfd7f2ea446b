/**
 * `rxssh exec -W host:port` (or `-W /remote.sock`), as `ssh -W`: this program's stdin and stdout
 * are one connection from the server to host:port, so rxssh can be another client's
 * ProxyCommand (`ProxyCommand rxssh exec -W %h:%p bastion`). No command, no terminal; bytes
 * go both ways with backpressure, stdin's end is sent as EOF, and the run ends when the
 * server's side does.
 */
import type { Duplex, Readable } from 'node:stream';
import { Observable } from 'rxjs';
import type { Connection, ExecChunk } from '../index.js';
import { parseForward } from '../util/forward-spec.js';
import type { Io } from './io.js';
import { UsageError } from './usage.js';

/** Where `-W` goes: a host and port as the server sees them, or a socket on the server. */
export type StdioTarget = { readonly host: string; readonly port: number } | { readonly path: string };

/** `-W SPEC` read as ssh reads it (parse_forward, as a dynamic forward's listen part); a usage error otherwise. */
export function stdioTarget(spec: string): StdioTarget {
  const f = parseForward(spec, true, false);
  if (!f) throw new UsageError(`Bad stdio forwarding specification '${spec}'`);
  if (f.listenPath !== undefined) return { path: f.listenPath };
  if (f.listenHost === undefined || f.listenHost === '' || !f.listenPort) throw new UsageError(`-W ${spec}: needs host:port (or a socket path on the server)`);
  return { host: f.listenHost, port: f.listenPort };
}

/**
 * The `-W` connection on `connection`: stdin to it, it to stdout. Emits nothing; completes when
 * the server's side closes, errors when the channel cannot be opened (`ChannelOpenError`).
 */
export function stdioForward(connection: Connection, target: StdioTarget, stdin: Readable | undefined, io: Io): Observable<ExecChunk> {
  return new Observable<ExecChunk>((subscriber) => {
    let stream: Duplex | undefined;
    const open$ = 'path' in target ? connection.forwardOutUnix(target.path) : connection.forwardOut(target.host, target.port);
    const onEnd = (): void => subscriber.complete();
    const onError = (err: Error): void => subscriber.error(err);
    const sub = open$.subscribe({
      next: (s) => {
        stream = s;
        s.on('error', onError);
        s.on('close', onEnd);
        s.pipe(io.stdout as NodeJS.WritableStream, { end: false });
        if (stdin) stdin.pipe(s);
        else s.end(); // -n: EOF at once, as ssh -n -W
      },
      error: (err: unknown) => subscriber.error(err),
    });
    return () => {
      if (stream) {
        stream.off('close', onEnd);
        stream.off('error', onError);
        if (stdin) stdin.unpipe(stream);
        stream.unpipe(io.stdout as NodeJS.WritableStream);
      }
      sub.unsubscribe(); // closes the channel
    };
  });
}
