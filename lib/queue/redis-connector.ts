/**
 * ioredis glue for the queue: a connector that opens the same TCP or TLS socket as ioredis's
 * own, but keeps an `'error'` listener on it for its whole life. ioredis's listens once; a TLS
 * socket that fails its handshake (an untrusted certificate) and is then closed by
 * `disconnect()` gets the server's alert as a second `'error'` with nobody listening, which
 * would crash the process. The first error is still what ioredis reports.
 */
import { createConnection } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import type { AbstractConnector } from 'ioredis';

type Stream = ReturnType<typeof createConnection>;

interface SocketOptions {
  readonly host?: string;
  readonly port?: number;
  readonly family?: number;
  readonly path?: string;
  readonly tls?: ConnectionOptions;
  readonly disconnectTimeout?: number;
}

/** The connector class, made from the loaded ioredis (it loads only when a queue is used). */
export function guardedConnector(base: typeof AbstractConnector): new (options: SocketOptions) => AbstractConnector {
  return class GuardedConnector extends (base as unknown as new (disconnectTimeout: number | undefined) => AbstractConnector & { connecting: boolean; stream?: Stream; firstError?: Error }) {
    constructor(readonly options: SocketOptions) {
      super(options.disconnectTimeout ?? 2000);
    }

    connect(): Promise<Stream> {
      const o = this.options;
      this.connecting = true;
      return new Promise<Stream>((resolve, reject) => {
        process.nextTick(() => {
          if (!this.connecting) return reject(new Error('Connection is closed.'));
          const where = o.path ? { path: o.path } : { ...(o.port !== undefined ? { port: o.port } : {}), ...(o.host !== undefined ? { host: o.host } : {}), ...(o.family ? { family: o.family } : {}) };
          let stream: Stream;
          try {
            stream = o.tls ? tlsConnect({ ...where, ...o.tls }) : createConnection(where as Parameters<typeof createConnection>[0]);
          } catch (err) {
            return reject(err as Error);
          }
          this.stream = stream;
          stream.on('error', (err: Error) => {
            this.firstError ??= err;
          });
          resolve(stream);
        });
      });
    }
  };
}
