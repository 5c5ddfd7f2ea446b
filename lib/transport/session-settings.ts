/** What a Session is made with (connect()'s validated settings) and what it reports through. */
import type { Observable } from 'rxjs';
import type { Ssh2ConnectConfig } from '../ssh2/index.js';
import type { SshError } from '../errors.js';
import type { HostKeyInfo } from './transport.js';
import type { Hop } from './socket.js';
import type { ProxyStderr } from './proxy-command.js';

/** A channel event as the session relays it (the public `ChannelEvent` has this shape). */
export type ChannelEventData =
  | { readonly type: 'open'; readonly id: number; readonly kind: 'exec' | 'shell' | 'subsystem'; readonly command: string }
  | { readonly type: 'close'; readonly id: number; readonly kind: 'exec' | 'shell' | 'subsystem'; readonly command: string; readonly exitCode: number | null; readonly signal: string | null };

/** Resolved, validated settings of one connection. */
export interface SessionSettings {
  readonly host: string;
  readonly port: number;
  readonly username: string;
  readonly localAddress: string | undefined;
  /** The address family to resolve to (4 or 6), or undefined for any. */
  readonly family?: 4 | 6 | undefined;
  readonly timeouts: {
    readonly connect: number;
    readonly handshake: number;
    readonly auth: number;
    readonly channelOpen: number;
    readonly sftpRequest: number;
  };
  /** SO_KEEPALIVE on a TCP socket of its own (ssh's TCPKeepAlive, default on). */
  readonly tcpKeepAlive: boolean;
  readonly keepaliveInterval: number;
  readonly keepaliveCountMax: number;
  /** RekeyLimit, checked; undefined when neither limit is set. */
  readonly rekeyLimit: { readonly bytes?: number; readonly interval?: number } | undefined;
  readonly maxChannels: number;
  readonly algorithms: Ssh2ConnectConfig['algorithms'] | undefined;
  /** A jump host's connection to tunnel through (ProxyJump). */
  readonly via: Observable<Hop> | undefined;
  /** A command whose stdio carries the connection (ProxyCommand). */
  readonly proxy: { readonly command: string; readonly stderr?: ProxyStderr } | undefined;
  /** The agent socket to forward, if any. */
  readonly forwardAgent: string | undefined;
  /** Environment variables sent on every session channel (ssh_config SetEnv/SendEnv). */
  readonly env: Readonly<Record<string, string>> | undefined;
  /** Fail unless the server does strict key exchange. */
  readonly requireStrictKex: boolean;
  /** The smallest RSA host key accepted, in bits. */
  readonly requiredRsaSize: number;
  /** PubkeyAcceptedAlgorithms: what user authentication may sign with, in order. */
  readonly pubkeyAlgorithms: readonly string[];
}

/** How the session reports to the `connect()` subscriber. */
export interface SessionSink {
  /** The server offered its host key (the session waits for `answerHostKey`). */
  hostKey(key: HostKeyInfo): void;
  error(err: SshError): void;
  /** The server closed an established connection cleanly. */
  close(): void;
}
