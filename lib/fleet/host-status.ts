/** What a host's error means for the run: its status, and whether its attempt may be retried. */
import { AuthenticationError, ChannelOpenError, ConnectError, ConnectionLostError, HostKeyRejectedError, ProtocolError, QueueError, SshError, TimeoutError, WorkerLostError } from '../errors.js';
import type { HostStatus } from './types.js';

/**
 * Maps an error to a host status: host-key and auth failures, unreachable hosts (DNS, TCP,
 * no SSH handshake), timeouts, and everything else as `failed`.
 *
 * @example
 * ```ts
 * import { AuthenticationError } from 'rxssh';
 * import { statusOf } from 'rxssh/fleet';
 *
 * statusOf(new AuthenticationError('no', [], null, { host: 'h', port: 22, phase: 'auth' })); // 'auth-failed'
 * ```
 */
export function statusOf(error: unknown): HostStatus {
  if (error instanceof WorkerLostError || error instanceof QueueError) return 'lost';
  if (error instanceof HostKeyRejectedError) return 'host-key-rejected';
  if (error instanceof AuthenticationError) return 'auth-failed';
  if (error instanceof ConnectError) return 'unreachable';
  if (error instanceof TimeoutError) return ['dns', 'tcp', 'banner'].includes(error.phase) ? 'unreachable' : 'timeout';
  if (error instanceof SshError && ['dns', 'tcp', 'banner', 'kex'].includes(error.phase)) return 'unreachable';
  if (error instanceof ConnectionLostError || error instanceof ChannelOpenError || error instanceof ProtocolError) return 'connection-error';
  return 'failed';
}

export function retriable(error: unknown): boolean {
  // sshd's MaxStartups drops surplus unauthenticated connections right after accept. Only such
  // early failures are retried: the phases before authentication (a failure after it has phase
  // `connection` or later, so a command never runs twice), and never a host-key rejection (a
  // key changed at re-key mid-command has phase `kex` too).
  return error instanceof SshError && !(error instanceof TimeoutError) && !(error instanceof HostKeyRejectedError) &&
    (error.phase === 'banner' || error.phase === 'kex' || error.phase === 'tcp') &&
    !(error instanceof ConnectError && (error.cause as { code?: string } | undefined)?.code === 'ECONNREFUSED');
}
