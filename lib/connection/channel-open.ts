/**
 * Opening a channel, the one way every kind of channel is opened (exec/shell/subsystem runs,
 * SFTP sessions, forwarded connections): a slot of the connection's channel limit first, then
 * the open (and its request) under the connection's channel-open deadline, a retry when a
 * refusal looks like the server's session limit, and, when nobody waits any more, a channel the
 * server confirms late is closed and its slot freed once the server confirms the close.
 *
 * As an Observable: it emits the channel and the slot's release once, then completes; from then
 * on the subscriber owns both. Unsubscribing before that gives the channel up (see
 * {@link OpenSpec.discard}).
 */
import { noop, Observable } from 'rxjs';
import type { Ssh2Client as Client, ClientChannel } from '../ssh2/index.js';
import { type SshError, TimeoutError, type SshPhase } from '../errors.js';
import { connectionClosed, connectionLost } from '../ssh2/errors-map.js';
import type { Release, Semaphore } from '../util/semaphore.js';
import type { ChannelEventData } from '../transport/session.js';

/** What opening needs from its connection (the engine's Session is one). */
export interface OpenPort {
  readonly host: string;
  readonly port: number;
  readonly limiter: Semaphore;
  /** No new channels: the connection is gone or being ended. */
  readonly closed: boolean;
  /** The socket closed. */
  readonly lost: boolean;
  /** Why rxssh ended the connection, when it did. */
  readonly failure: SshError | undefined;
  /** How the connection is reached when not directly (`jump host HOST:PORT`), for loss messages. */
  readonly route: string | undefined;
  /** Milliseconds an open (with its request) may take; 0 for no limit. */
  readonly channelOpenTimeout: number;
  /** When a channel that held a slot last closed (ms since the epoch; written by the opener). */
  lastChannelClosedAt: number;
  /** Calls `listener` once when the connection is lost; returns a function that unregisters it. */
  onLost(listener: () => void): () => void;
}

/** What a session channel's run needs from its connection, beyond opening (the Session is one). */
export interface ChannelPort extends OpenPort {
  readonly client: Client;
  /** Where open and close events go (`Connection.channel$`). */
  readonly channelEvents: { next(event: ChannelEventData): void };
  /** Where a run hears of a protocol fault on its channel (the guards in ssh2-reach report there). */
  readonly channelFaults: WeakMap<object, (error: SshError) => void>;
  /** Environment variables for every session channel (ssh_config SetEnv/SendEnv). */
  readonly env: Readonly<Record<string, string>> | undefined;
  nextChannelId(): number;
}

/** An ssh2 open failure: its message, and the SSH reason code when the server refused. */
export type OpenFailure = Error & { reason?: number };

/** One kind of channel: how it is sent, refused and given up. */
export interface OpenSpec<C> {
  readonly phase: SshPhase;
  /** Sends the open (and its request) to ssh2; `done` is called once. */
  send(done: (err: OpenFailure | undefined, channel: C | undefined) => void): void;
  /** The error for an open the server refused (or ssh2 failed). */
  refused(err: OpenFailure | undefined): SshError;
  /** Closes a channel that nobody waits for any more; `closed` once it is gone. */
  discard(channel: C, closed: () => void): void;
  /** Holds a slot of the connection's channel limit (default true). */
  readonly limited?: boolean;
  /**
   * Retries a refusal that looks like the server's session limit: sshd's MaxSessions also
   * counts sessions it is still tearing down after we saw them close, so a refusal while
   * other channels of this connection are open or have just closed is transient.
   */
  readonly retryTransient?: boolean;
}

/** An opened channel and its slot, owned by the subscriber that got them. */
export interface Opened<C> {
  readonly channel: C;
  /** Frees the slot; called once the channel has closed (the opener notes when, for retries). */
  readonly release: Release;
}

const TRANSIENT_REASONS = new Set([1, 2, 4]); // administratively prohibited, connect failed, resource shortage

/** Opens one channel as described by `spec` (see the file header). */
// eslint-disable-next-line max-lines-per-function -- Long by design: one Observable: the slot, the deadline, the retry timer and a late answer share its closure and its one teardown.
export function openChannel<C>(port: OpenPort, spec: OpenSpec<C>): Observable<Opened<C>> {
  // eslint-disable-next-line max-lines-per-function -- the closure of the function it is in: the same reason
  return new Observable<Opened<C>>((subscriber) => {
    const context = (cause?: unknown) => ({ host: port.host, port: port.port, phase: spec.phase, ...(cause === undefined ? {} : { cause }) });
    if (port.closed) {
      subscriber.error(connectionClosed(context()));
      return undefined;
    }
    // Once the subscriber is closed (handed over, failed or given up), a late answer is discarded.
    let release: Release = noop;
    let deadline: NodeJS.Timeout | undefined;
    let retry: NodeJS.Timeout | undefined;
    const lost = (cause?: unknown): SshError => connectionLost(port.failure, 'Connection lost while opening a channel', context(cause ?? port.failure), port.route);
    const freeSlot = (): void => {
      const r = release;
      release = noop;
      r();
    };
    // A channel that held a slot closed: sshd may count its session a moment longer (see retryTransient).
    const closedChannel = (): void => {
      if (release !== noop) port.lastChannelClosedAt = Date.now();
      freeSlot();
    };
    const transient = (err: OpenFailure | undefined): boolean =>
      spec.retryTransient === true &&
      !port.lost &&
      TRANSIENT_REASONS.has(err?.reason ?? -1) &&
      (port.limiter.inUse > 1 || Date.now() - port.lastChannelClosedAt < 2000);

    const attempt = (tries: number): void => {
      retry = undefined;
      const answered = (err: OpenFailure | undefined, channel: C | undefined): void => {
        if (subscriber.closed) {
          // Given up while the server was answering: the command may already run.
          if (channel === undefined) freeSlot();
          else spec.discard(channel, closedChannel);
          return;
        }
        if (channel === undefined || err) {
          if (transient(err)) {
            retry = setTimeout(() => attempt(tries + 1), Math.min(20 * 2 ** tries, 500));
            return;
          }
          freeSlot();
          subscriber.error(port.lost ? lost(err) : spec.refused(err));
          return;
        }
        subscriber.next({ channel, release: closedChannel });
        subscriber.complete();
      };
      try {
        spec.send(answered);
      } catch (err) {
        freeSlot();
        subscriber.error(connectionClosed(context(err)));
      }
    };

    const start = (): void => {
      if (port.closed) {
        freeSlot();
        subscriber.error(connectionClosed(context()));
        return;
      }
      const ms = port.channelOpenTimeout;
      if (ms > 0) {
        deadline = setTimeout(() => {
          deadline = undefined;
          subscriber.error(new TimeoutError(ms, context())); // the teardown frees a slot held for a retry
        }, ms);
      }
      attempt(0);
    };
    // Lost while waiting for a slot, for a retry or for the server's answer (which ssh2 then
    // gives as an error, and which finds the subscriber closed): failed at once, every kind alike.
    const unLost = port.onLost(() => subscriber.error(lost()));
    const acquiring =
      spec.limited === false
        ? undefined
        : port.limiter.acquire().subscribe((r) => {
            release = r;
            start();
          });
    if (spec.limited === false) start();

    return () => {
      unLost();
      if (deadline) clearTimeout(deadline);
      acquiring?.unsubscribe();
      if (retry) {
        clearTimeout(retry);
        retry = undefined;
        freeSlot(); // no request is in flight while waiting to retry
      }
      // In flight: its answer discards the channel and frees the slot.
    };
  });
}

/**
 * Closes an exec/shell/subsystem channel nobody listens to any more, quietly: its later errors
 * are ignored, both of its streams keep flowing (ssh2 emits 'close' only after the readable side
 * ended), and `closed` runs once the server confirmed the close.
 */
export function closeQuietly(chan: ClientChannel, closed: () => void): void {
  chan.on('error', noop);
  chan.stderr.on('error', noop);
  chan.once('close', closed);
  chan.resume();
  chan.stderr.resume();
  chan.close();
}
