/**
 * Redis for the queue: connection options from a `QueueConfig`, names and secret checked, the
 * optional peers loaded, a health watch, and closing a client without waiting for ever.
 */
import type * as BullMQ from 'bullmq';
import type * as IORedis from 'ioredis';
import { isIP } from 'node:net';
import type { Redis } from 'ioredis';
import { QueueError } from '../errors.js';
import { loadPeer } from '../util/peer.js';
import { type QueueConfig } from './config.js';

/**
 * The ioredis connection options a {@link QueueConfig} stands for (host, port, database, ACL
 * user, password, TLS for `rediss://`). Throws a TypeError for a URL that is not `redis://` or
 * `rediss://`, or that holds a password.
 *
 * @example
 * ```ts
 * import { redisOptions } from 'rxssh/queue';
 *
 * redisOptions({ url: 'rediss://ops@redis.internal:6380/2', password: process.env.REDIS_PASSWORD });
 * // { host: 'redis.internal', port: 6380, db: 2, username: 'ops', password: '…', tls: { servername: 'redis.internal' }, … }
 * ```
 */
export function redisOptions(queue: QueueConfig): Record<string, unknown> {
  let url: URL;
  try {
    url = new URL(queue.url);
  } catch {
    throw new TypeError(`queue url ${JSON.stringify(queue.url)}: expected redis://host[:port][/db] or rediss://...`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw new TypeError(`queue url ${JSON.stringify(queue.url)}: expected redis:// or rediss://`);
  if (url.password) throw new TypeError('queue url: no password in the URL (it would show in `ps` and logs); give it as `password`');
  const db = url.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) throw new TypeError(`queue url ${JSON.stringify(queue.url)}: the path is a database number`);
  const username = queue.username ?? (url.username ? decodeURIComponent(url.username) : undefined);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return {
    host,
    port: url.port ? Number(url.port) : 6379,
    ...(db ? { db: Number(db) } : {}),
    ...(username ? { username } : {}),
    ...(queue.password !== undefined ? { password: queue.password } : {}),
    // SNI carries names only (RFC 6066): an address is checked against the certificate's IP SANs.
    ...(url.protocol === 'rediss:' ? { tls: { ...(isIP(host) ? {} : { servername: host }), ...queue.tls } } : {}),
    maxRetriesPerRequest: null,
    // Keep reconnecting (BullMQ's clients); the health check decides when Redis is gone.
    retryStrategy: (times: number) => Math.min(100 * times, 1000),
  };
}

/**
 * The options of one run's (or worker's) Redis clients, and a switch that stops their
 * reconnecting: thrown when the run ends or Redis is declared gone, so that no client keeps a
 * reconnect timer (and the process) alive.
 */
export function connectionFor(queue: QueueConfig): { options: Record<string, unknown>; stopReconnecting: () => void } {
  let stopped = false;
  return {
    options: { ...redisOptions(queue), retryStrategy: (times: number) => (stopped ? null : Math.min(100 * times, 1000)) },
    stopReconnecting: () => {
      stopped = true;
    },
  };
}

/** The queue's shared secret as bytes, checked (at least 16 bytes). @internal */
export function queueSecret(queue: QueueConfig): Buffer | undefined {
  if (queue.secret === undefined) return undefined;
  const secret = typeof queue.secret === 'string' ? Buffer.from(queue.secret, 'utf8') : Buffer.from(queue.secret);
  if (secret.length < 16) throw new TypeError('queue secret: at least 16 bytes');
  return secret;
}

/** The BullMQ queue name and Redis key prefix of a run (see {@link queueNames}). */
export interface QueueNames {
  /** The BullMQ queue name (`QueueConfig.name`, default `rxssh`). */
  readonly name: string;
  /** The Redis key prefix (`QueueConfig.prefix`, default `rxssh`). */
  readonly prefix: string;
}

/**
 * The BullMQ queue name and Redis key prefix a run uses (default `rxssh` and `rxssh`), checked:
 * throws TypeError for an empty name or one with `:`. The keys of a run live under
 * `PREFIX:NAME:*` in Redis.
 *
 * @example
 * ```ts
 * import { queueNames } from 'rxssh/queue';
 *
 * queueNames({ url: 'redis://127.0.0.1:6379', name: 'deploys' }); // { name: 'deploys', prefix: 'rxssh' }
 * ```
 */
export function queueNames(queue: QueueConfig): QueueNames {
  const name = queue.name ?? 'rxssh';
  const prefix = queue.prefix ?? 'rxssh';
  if (name.includes(':') || name === '') throw new TypeError('queue name: not empty, no ":"');
  return { name, prefix };
}

/** What the queue uses of bullmq and of ioredis. */
export type QueuePeers = [Pick<typeof BullMQ, 'Job' | 'Queue' | 'QueueEvents' | 'Worker'>, Pick<typeof IORedis, 'Redis' | 'AbstractConnector'>];

/** bullmq and ioredis, the queue's optional peers: loaded when a run or a worker starts. */
export function queuePeers(): Promise<QueuePeers> {
  return Promise.all([loadPeer('bullmq', 'rxssh/queue', () => import('bullmq')), loadPeer('ioredis', 'rxssh/queue', () => import('ioredis'))]);
}

/** Pings Redis every second; calls `onDown` with a QueueError once it has been unreachable for `after` ms. */
export class Health {
  readonly #timer: ReturnType<typeof setInterval>;
  readonly #stopListening: () => void;
  #lastOk = Date.now();
  /** The last error the client saw (a refused connection, a certificate, WRONGPASS). */
  lastError: unknown;

  constructor(client: Redis, after: number, what: string, onDown: (err: QueueError) => void) {
    const onError = (err: unknown): void => {
      this.lastError = err;
    };
    client.on('error', onError);
    this.#stopListening = () => client.off('error', onError);
    this.#timer = setInterval(() => {
      if (Date.now() - this.#lastOk > after) {
        this.stop();
        onDown(new QueueError(`${what}: Redis has been unreachable for ${Math.round(after / 1000)} s${this.lastError instanceof Error ? ` (${this.lastError.message})` : ''}`, { host: '*', port: 0, phase: 'connection', cause: this.lastError }));
        return;
      }
      client.ping().then(
        () => {
          this.#lastOk = Date.now();
        },
        (err: unknown) => {
          this.lastError ??= err;
        },
      );
    }, Math.min(1000, Math.max(100, after / 4)));
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#stopListening();
  }
}

/** A BullMQ object's or client's end: close, but never wait longer than a moment each way (Redis may be gone). */
export async function shut(closable: { close(): Promise<unknown>; disconnect?(): Promise<unknown> } | { quit(): Promise<unknown>; disconnect(): void } | undefined): Promise<void> {
  if (!closable) return;
  const within = async (work: () => unknown): Promise<boolean> => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), 1000)));
    const done = Promise.resolve()
      .then(work)
      .then(
        () => true,
        () => false,
      );
    const ok = await Promise.race([done, late]);
    clearTimeout(timer);
    return ok;
  };
  if (await within(() => ('close' in closable ? closable.close() : closable.quit()))) return;
  await within(() => closable.disconnect?.());
}
