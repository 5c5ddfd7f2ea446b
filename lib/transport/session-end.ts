/**
 * The graceful end of an established connection: channels cancelled while their open or request
 * was in flight still need their signal and close, which go out when the server answers, so the
 * end waits for them (briefly); then DISCONNECT, a moment for the server to see it, and the
 * socket is made sure to be gone.
 */
import type { Duplex } from 'node:stream';
import type { Semaphore } from '../util/semaphore.js';

/** How long ending a connection waits for cancelled channels to be signalled and closed. */
const CANCEL_GRACE_MS = 1500;
/** How long the server gets to see our DISCONNECT before the socket is destroyed. */
const DISCONNECT_GRACE_MS = 1000;

/** What the end needs of the session. */
export interface GracefulEnd {
  readonly client: { end(): void };
  readonly socket: Duplex;
  readonly limiter: Semaphore;
  /** The socket is a jump host's channel (not a ProxyCommand): it can be let go once written. */
  readonly throughHop: boolean;
  /** Lets go of the hop or command the socket came through; called once the socket is done. */
  readonly dropVia: () => void;
}

/** Ends the connection once no channel is waiting for an answer (at most CANCEL_GRACE_MS). */
export function endGracefully(e: GracefulEnd): void {
  const { socket, dropVia } = e;
  let ended = false;
  const waiting: { timer?: NodeJS.Timeout; stop?: () => void } = {};
  const finish = (): void => {
    if (ended) return;
    ended = true;
    clearTimeout(waiting.timer);
    waiting.stop?.();
    e.client.end();
    const graceTimer = setTimeout(() => {
      socket.destroy();
      dropVia();
    }, DISCONNECT_GRACE_MS);
    graceTimer.unref();
    const done = (): void => {
      clearTimeout(graceTimer);
      dropVia();
    };
    socket.once('close', done);
    // Through a jump host, our DISCONNECT and EOF are in the hop connection's queue once the
    // channel's writable side has finished: the channel can close, and its place in a shared
    // hop be taken, without the round trip to the target and back.
    if (e.throughHop) {
      if (socket.writableFinished) done();
      else socket.once('finish', done);
    }
  };
  if (e.limiter.inUse === 0) return finish();
  waiting.timer = setTimeout(finish, CANCEL_GRACE_MS);
  waiting.stop = e.limiter.whenIdle(finish);
}
