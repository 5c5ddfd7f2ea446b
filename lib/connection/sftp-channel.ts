/**
 * `Connection.sftp()`: an SFTP session on a channel of its own (the `sftp` subsystem, or
 * sftp-server under sudo), held while subscribed; its requests under the session's deadline; a
 * lost channel fails every waiting request at once and ends the session with the loss.
 */
import { noop, Observable } from 'rxjs';
import { channelOpenFailure } from '../ssh2/errors-map.js';
import { openChannel, type OpenFailure } from './channel-open.js';
import { sftpAs } from '../sftp/become.js';
import { checkBecome, type BecomeConfig } from '../channel/become.js';
import { checkOptions, checkString, optionNames } from '../util/check.js';
import { sftpRequestsReachable, watchSftpRequests, type SFTPWrapper } from '../ssh2/index.js';
import { SftpSession } from '../sftp/sftp.js';
import { BecomeError, ConnectionLostError, ProtocolError, SftpError, Ssh2CompatibilityError, TimeoutError } from '../errors.js';
import type { Session } from '../transport/session.js';

/**
 * Options of {@link Connection.sftp}.
 *
 * @example
 * ```ts
 * const config: SftpConfig = { become: { user: 'root', password: process.env.SUDO_PW }, sftpServer: '/usr/libexec/openssh/sftp-server' };
 * ```
 */
export interface SftpConfig {
  /** Run the SFTP server as another user (sudo only). */
  readonly become?: BecomeConfig;
  /** The sftp-server to run with `become` (default: the first of the usual paths that exists). */
  readonly sftpServer?: string;
}

const SFTP_CONFIG_NAMES = optionNames<SftpConfig>()(['become', 'sftpServer']);

/** The SFTP session of `Connection.sftp(config)` on `session`. @internal */
// eslint-disable-next-line max-lines-per-function -- Long by design: one Observable: the channel, its request deadline and its loss share a closure and a teardown.
export function sftpChannel(session: Session, config: SftpConfig): Observable<SftpSession> {
  const where = { host: session.host, port: session.port };
  checkOptions('sftp()', config, SFTP_CONFIG_NAMES);
  const become = config.become;
  if (become !== undefined) checkBecome(become);
  if (become !== undefined && (become.method ?? 'sudo') !== 'sudo') throw new TypeError(`sftp(): become with ${String(become.method)}: only sudo (su and doas need a terminal, which would garble SFTP)`);
  if (config.sftpServer !== undefined) checkString('sftp(): sftpServer', config.sftpServer);
  return new Observable<SftpSession>((subscriber) => {
    let sftp: SFTPWrapper | undefined;
    let stopWatch: (() => void) | undefined;
    // The channel open and the subsystem request together are under the channel-open deadline:
    // a server that answers neither must not hold the caller forever.
    const opening = openChannel<SFTPWrapper>(session, {
      phase: 'sftp',
      send: (answered) =>
        become
          ? sftpAs({ host: session.host, port: session.port, client: session.client }, become, config.sftpServer, (err, s) => answered(err as OpenFailure | undefined, s as SFTPWrapper))
          : session.client.sftp((err, s) => answered(err, s)),
      refused: (err) => {
        if (err instanceof BecomeError) return err;
        const refused = channelOpenFailure('Cannot open an SFTP session', err, { ...where, phase: 'sftp', cause: err });
        return refused instanceof ProtocolError ? refused : new SftpError('open session', '', err, where);
      },
      discard: (s, closed) => {
        s.on('error', noop);
        s.once('close', closed);
        s.end();
      },
    }).subscribe({
      next: ({ channel: s, release }) => {
        sftp = s;
        if (!sftpRequestsReachable(s)) {
          // Deadlines and a lost channel could not reach its pending requests: refuse loudly.
          s.on('error', noop);
          s.once('close', release);
          s.end();
          subscriber.error(new Ssh2CompatibilityError("ssh2's SFTP session has no request table (_requests): rxssh could not end requests that will not be answered", { ...where, phase: 'sftp' }));
          return;
        }
        const handle = SftpSession.create(s, where);
        let stall: TimeoutError | undefined;
        const requestMs = session.sftpRequestTimeout;
        if (requestMs > 0) {
          stopWatch = watchSftpRequests(s, requestMs, () => {
            stall = new TimeoutError(requestMs, { ...where, phase: 'sftp' });
            handle.stall(stall);
          });
        }
        s.on('error', noop);
        s.once('close', () => {
          stopWatch?.();
          const ended = stall ?? new ConnectionLostError('The SFTP channel closed', { ...where, phase: 'sftp' });
          // Requests still waiting (a CLOSE, a WRITE) fail now: no answer can come. The slot is
          // given back once the transfers settled (temporary files removed), so the connection
          // reports its end after theirs.
          handle.lost(ended);
          handle.whenIdle(release);
          if (!subscriber.closed) subscriber.error(ended);
        });
        subscriber.next(handle);
      },
      error: (error: unknown) => subscriber.error(error),
    });
    return () => {
      stopWatch?.();
      opening.unsubscribe();
      sftp?.end();
    };
  });
}
