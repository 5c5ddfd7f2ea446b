/** A forwarding channel (`direct-tcpip`, `direct-streamlocal`) as an Observable of its stream. */
import { noop, Observable } from 'rxjs';
import { channelOpenFailure } from '../ssh2/errors-map.js';
import type { ClientChannel } from '../ssh2/index.js';
import { openChannel } from './channel-open.js';
import type { Session } from '../transport/session.js';

/** Opened on subscribe (not counted against the channel limit), destroyed on unsubscribe. */
export function forwardChannel(
  session: Session,
  target: string,
  open: (session: Session, done: (err: Error | undefined, stream: ClientChannel) => void) => void,
): Observable<ClientChannel> {
  const where = { host: session.host, port: session.port, phase: 'forward' as const };
  return new Observable<ClientChannel>((subscriber) => {
    let channel: ClientChannel | undefined;
    // Not counted against the channel limit; an open the server confirms late is destroyed.
    const opening = openChannel<ClientChannel>(session, {
      phase: 'forward',
      limited: false,
      send: (answered) => open(session, (err, stream) => answered(err, stream)),
      refused: (err) => channelOpenFailure(`Cannot open a channel to ${target}`, err, { ...where, cause: err }),
      discard: (stream, closed) => {
        stream.on('error', noop);
        stream.once('close', closed);
        stream.destroy();
      },
    }).subscribe({
      next: ({ channel: stream }) => {
        channel = stream;
        stream.on('error', noop); // persistent: errors surface through the stream's user
        subscriber.next(stream);
      },
      error: (error: unknown) => subscriber.error(error),
    });
    return () => {
      opening.unsubscribe();
      channel?.destroy();
    };
  });
}
