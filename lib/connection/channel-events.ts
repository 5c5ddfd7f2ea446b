/** What `Connection.channel$` reports: a channel opened or closed. */
import type { ChannelInfo } from '../channel/channel.js';

/**
 * A channel opened and its request was accepted.
 *
 * @example
 * ```ts
 * connection.channel$.subscribe((e) => e.type === 'open' && console.log(`${e.kind} ${e.command} opened`));
 * ```
 */
export interface ChannelOpenEvent extends ChannelInfo {
  /** Discriminator. */
  readonly type: 'open';
}

/**
 * A channel closed.
 *
 * @example
 * ```ts
 * connection.channel$.subscribe((e) => e.type === 'close' && console.log(`channel ${e.id} closed`));
 * ```
 */
export interface ChannelCloseEvent extends ChannelInfo {
  /** Discriminator. */
  readonly type: 'close';
  /** The exit status, or `null` (signal, or none reported). */
  readonly exitCode: number | null;
  /** The signal name without `SIG`, or `null`. */
  readonly signal: string | null;
}

/**
 * What `channel$` reports: a channel opened (its request accepted) or closed (with how its
 * command ended).
 *
 * @example
 * ```ts
 * import type { ChannelEvent } from 'rxssh';
 *
 * const log = (e: ChannelEvent) => console.log(e.type, e.id, e.kind, e.command);
 * // open 1 exec uname -a
 * // close 1 exec uname -a
 * ```
 */
export type ChannelEvent = ChannelOpenEvent | ChannelCloseEvent;
