/** What `connect()` takes: the server, the user, deadlines, keepalive, algorithms, the way there. */
import type { Observable } from 'rxjs';
import type { Connection } from '../connection/connection.js';
import type { ProxyStderr } from './proxy-command.js';
import { optionNames } from '../util/check.js';

/**
 * Phase deadlines in milliseconds; 0 disables one.
 *
 * @example
 * ```ts
 * import { connect } from 'rxssh';
 *
 * connect({ host, username, timeouts: { connect: 5_000, handshake: 10_000, auth: 20_000, channelOpen: 10_000, sftpRequest: 30_000 } });
 * ```
 */
export interface TimeoutsConfig {
  /** DNS look-up and TCP connect (default 10 000). */
  readonly connect?: number;
  /** From TCP connect to the start of authentication: banner, key exchange and the host-key verdict (default 15 000). */
  readonly handshake?: number;
  /** User authentication, including time spent in password or prompt functions (default 30 000). */
  readonly auth?: number;
  /**
   * Opening a channel and having its request accepted (default 15 000): exec, shell, subsystem,
   * SFTP sessions and forwarding channels alike.
   */
  readonly channelOpen?: number;
  /**
   * How long one SFTP request (STAT, READDIR, READ, …) may wait for its answer before the SFTP
   * session ends with `TimeoutError` (phase `sftp`) for every operation on it (default 0 = no
   * deadline, as OpenSSH's sftp).
   */
  readonly sftpRequest?: number;
}

/**
 * Liveness checks of an established connection (like OpenSSH's `ServerAlive*`).
 *
 * @example
 * ```ts
 * import { connect } from 'rxssh';
 *
 * connect({ host, username, keepalive: { interval: 10_000, countMax: 3 } }); // dead after ~40 s of silence
 * ```
 */
export interface KeepaliveConfig {
  /** Milliseconds between checks when the server is silent (default 15 000; 0 = off). */
  readonly interval?: number;
  /** Unanswered checks before the connection is declared dead (default 3). */
  readonly countMax?: number;
}

/**
 * When to renew the session keys from the client side, as ssh_config's `RekeyLimit`: after
 * `bytes` sent or received (in either direction) since the last key exchange, or `interval`
 * ms after it, whichever comes first. The server renews them by its own limits besides.
 */
export interface RekeyLimitConfig {
  /** Bytes one direction may carry under one set of keys (at least 16, as ssh's). */
  readonly bytes?: number;
  /** Milliseconds one set of keys may live. */
  readonly interval?: number;
}

/**
 * Changes to the default list of one algorithm category: names to add at the end or the front,
 * or to take out.
 *
 * @example
 * ```ts
 * const edit: AlgorithmListEdit = { prepend: ['aes256-gcm@openssh.com'] };
 * ```
 */
export interface AlgorithmListEdit {
  /** Names added at the end of the default list. */
  readonly append?: string | readonly string[];
  /** Names added at the front of the default list. */
  readonly prepend?: string | readonly string[];
  /** Names taken out of the default list. */
  readonly remove?: string | readonly string[];
}

/**
 * Algorithm preferences per category, in SSH's names: a full list (in order of preference) or an
 * edit of the default list.
 *
 * @example
 * ```ts
 * connect({ host, username, algorithms: { cipher: ['aes128-gcm@openssh.com'], kex: { remove: ['diffie-hellman-group14-sha256'] } } });
 * ```
 */
export interface AlgorithmsConfig {
  /** Key exchange (`curve25519-sha256`, …). */
  readonly kex?: readonly string[] | AlgorithmListEdit;
  /** Host-key algorithms the client accepts (`ssh-ed25519`, `rsa-sha2-512`, …). */
  readonly serverHostKey?: readonly string[] | AlgorithmListEdit;
  /** Ciphers (`aes128-gcm@openssh.com`, …). */
  readonly cipher?: readonly string[] | AlgorithmListEdit;
  /** MACs (`hmac-sha2-256-etm@openssh.com`, …). */
  readonly hmac?: readonly string[] | AlgorithmListEdit;
  /** Compression (`none`, `zlib@openssh.com`). */
  readonly compress?: readonly string[] | AlgorithmListEdit;
}

/**
 * Where and as whom to connect, and the connection's limits.
 *
 * @example
 * ```ts
 * import type { ConnectConfig } from 'rxssh';
 *
 * const config: ConnectConfig = { host: 'example.org', port: 22, username: 'deploy', timeouts: { connect: 5000 } };
 * ```
 */
export interface ConnectConfig {
  /** Host name or IP address. */
  readonly host: string;
  /** TCP port (default 22). */
  readonly port?: number;
  /** The user to authenticate as. */
  readonly username: string;
  /** Local address to bind the socket to (ssh_config `BindAddress`). */
  readonly localAddress?: string;
  /** `inet`: IPv4 only, `inet6`: IPv6 only, `any` (default): what the name resolves to (ssh_config `AddressFamily`). */
  readonly addressFamily?: 'any' | 'inet' | 'inet6';
  /**
   * How many times to try the TCP connection, one second apart, as ssh's `ConnectionAttempts`
   * (default 1). Only a connection that could not be made (`ConnectError`) is tried again:
   * nothing has been sent then.
   */
  readonly connectionAttempts?: number;
  /** Phase deadlines. */
  readonly timeouts?: TimeoutsConfig;
  /** Keepalive settings. */
  readonly keepalive?: KeepaliveConfig;
  /**
   * SO_KEEPALIVE on the TCP socket, as ssh's `TCPKeepAlive` (default true, as ssh's): the kernel
   * probes an idle connection by its own timers (hours on Linux); `keepalive` is rxssh's own,
   * inside SSH. Not for a jump host's channel or a ProxyCommand (their own transport decides).
   */
  readonly tcpKeepAlive?: boolean;
  /** Renew the session keys after so many bytes or so long (ssh_config `RekeyLimit`; default: the server's limits only). */
  readonly rekeyLimit?: RekeyLimitConfig;
  /** Channels open at once on this connection; more are queued (default 8, below OpenSSH's MaxSessions 10). */
  readonly maxChannels?: number;
  /**
   * Algorithm preferences per category (`{ cipher: { prepend: [...] } }`, or full lists). A full
   * list replaces the hardened default for that category; `append`/`prepend`/`remove` keep the
   * hardened removals except for the names you add yourself.
   */
  readonly algorithms?: AlgorithmsConfig;
  /**
   * `hardened` (default): no `ssh-rsa` (SHA-1) or `ssh-dss` host keys, no `hmac-sha1` MACs, and no
   * `chacha20-poly1305` (with CBC already off, no Terrapin-prone combination can be negotiated,
   * strict KEX or not). `compatible`: ssh2's own defaults, for old servers.
   */
  readonly algorithmPolicy?: 'hardened' | 'compatible';
  /** Fail with `ProtocolError` unless the server supports strict key exchange (Terrapin, CVE-2023-48795). */
  readonly requireStrictKex?: boolean;
  /**
   * The smallest RSA host key accepted, in bits (default 1024, OpenSSH's `RequiredRSASize`; at
   * least 1024): a smaller one is rejected with `HostKeyRejectedError` before the verify stage.
   */
  readonly requiredRsaSize?: number;
  /**
   * OpenSSH's `PubkeyAcceptedAlgorithms`: the signature algorithms user authentication may sign
   * with, in order of preference (default {@link DEFAULT_PUBKEY_ALGORITHMS}, OpenSSH's). A key
   * whose algorithm is not listed is not offered (an `AuthSkippedEvent` with reason `algorithm`);
   * an RSA key signs with the first RSA entry the server announced in `server-sig-algs`, and plain
   * `ssh-rsa` (SHA-1) only when listed, which needs `algorithmPolicy: 'compatible'`.
   */
  readonly pubkeyAlgorithms?: readonly string[];
  /**
   * A jump host (ProxyJump): the target is reached through a `direct-tcpip` channel of this
   * connection, with its own host-key policy and credentials. Unsubscribing the target tears
   * down the whole chain; a failure at the hop is reported with the hop's host and port.
   */
  readonly via?: Observable<Connection>;
  /**
   * ssh_config's `ProxyCommand`: reach the server through this command's stdin and stdout
   * (`ssh -W %h:%p bastion`, `aws ssm start-session …`, `nc -X connect -x proxy:3128 %h %p`),
   * run as `$SHELL -c 'exec COMMAND'` like ssh runs it; tokens are not expanded here
   * (`connectAlias` expands them from the config). The command is stopped (its whole process
   * group) when the connection ends, fails or is unsubscribed; one that exits before the server's
   * banner fails the connection with `ProxyCommandError` (its exit status and last stderr lines).
   * Not with `via`.
   */
  readonly proxyCommand?: string;
  /** Where the ProxyCommand's stderr goes besides the tail kept for errors: `'inherit'` (this process's stderr), or a function per chunk. Default: only kept. */
  readonly proxyStderr?: ProxyStderr;
  /**
   * Agent forwarding: the agent socket to offer the server (`true` = `SSH_AUTH_SOCK`), like
   * `ssh -A`. Only to hosts you trust: their root can use your keys while you are connected.
   */
  readonly forwardAgent?: boolean | string;
  /**
   * Environment variables sent on every session channel of this connection (ssh_config's
   * `SetEnv` and `SendEnv`); a channel's own `env` adds to them and wins for a name in both. The
   * server's `AcceptEnv` decides which it takes.
   */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * Host-key types to ask the server for first (`ssh-ed25519`, `ecdsa-sha2-nistp256`, a
   * `…-cert-v01@openssh.com` type), or a look-up of them for a host and port: what known_hosts
   * already knows for the host, as OpenSSH orders its host-key algorithms. `connectAlias` fills
   * it from the ssh_config's known_hosts files. Without it, a host known only by another type is
   * still verified: `verifyHostKey` has the connection start once more asking for that type.
   */
  readonly preferredHostKeyTypes?: readonly string[] | ((host: string, port: number) => Promise<readonly string[]>);
}

/**
 * What a host resolved from ssh_config (`fromSshConfig`'s `SshConfigHost`) carries beyond a
 * `ConnectConfig`: `connect()` takes such a host as it is, and leaves these to the stages they
 * belong to (the host-key policy, the credentials, the CLI's session) — except `proxyJump`, which
 * it refuses without `via` (`connectAlias` follows it). The config layer holds this list to the
 * type. @internal
 */
export const RESOLVED_HOST_FIELDS = [
  'alias', 'identityFiles', 'certificateFiles', 'identitiesOnly', 'proxyJump', 'remoteCommand', 'requestTty', 'stdinNull', 'escapeChar', 'logLevel', 'gatewayPorts',
  'clearAllForwardings', 'forwards', 'streamLocalBindMask', 'streamLocalBindUnlink', 'strictHostKeyChecking', 'userKnownHostsFiles', 'globalKnownHostsFiles', 'hashKnownHosts',
  'batchMode', 'numberOfPasswordPrompts', 'checkHostIp', 'addKeysToAgent', 'caSignatureAlgorithms', 'revokedHostKeys', 'identityAgent', 'connectTimeout',
  'serverAliveInterval', 'serverAliveCountMax', 'raw',
] as const;

/** The names each config type takes (checked by `connect()`: an unknown one is refused). @internal */
export const CONNECT_NAMES = {
  /** `ConnectConfig`'s own, and a resolved ssh_config host's. */
  config: new Set<string>([...optionNames<ConnectConfig>()([
    'host', 'port', 'username', 'localAddress', 'addressFamily', 'connectionAttempts', 'timeouts', 'keepalive', 'tcpKeepAlive', 'rekeyLimit', 'maxChannels',
    'algorithms', 'algorithmPolicy', 'requireStrictKex', 'requiredRsaSize', 'pubkeyAlgorithms', 'via', 'proxyCommand', 'proxyStderr', 'forwardAgent', 'env', 'preferredHostKeyTypes',
  ]), ...RESOLVED_HOST_FIELDS]) as ReadonlySet<string>,
  timeouts: optionNames<TimeoutsConfig>()(['connect', 'handshake', 'auth', 'channelOpen', 'sftpRequest']),
  keepalive: optionNames<KeepaliveConfig>()(['interval', 'countMax']),
  rekeyLimit: optionNames<RekeyLimitConfig>()(['bytes', 'interval']),
  algorithms: optionNames<AlgorithmsConfig>()(['kex', 'serverHostKey', 'cipher', 'hmac', 'compress']),
  listEdit: optionNames<AlgorithmListEdit>()(['append', 'prepend', 'remove']),
};

/** What ssh2's own `connect()` options are in rxssh: a program moving from ssh2 is told where each went. @internal */
export const SSH2_CONNECT_HINTS: Readonly<Record<string, string>> = {
  password: "credentials go to authenticate(): password(...)",
  privateKey: "credentials go to authenticate(): privateKey(...)",
  passphrase: "credentials go to authenticate(): privateKey(key, { passphrase })",
  agent: "credentials go to authenticate(): agent(...)",
  tryKeyboard: "credentials go to authenticate(): keyboardInteractive(...)",
  authHandler: "credentials go to authenticate(), tried in the order given",
  hostVerifier: "the host key is checked by the verifyHostKey() stage after connect()",
  hostHash: "the host key is checked by the verifyHostKey() stage after connect()",
  readyTimeout: "use timeouts: { connect, handshake, auth }",
  timeout: "use timeouts: { connect, handshake, auth }",
  keepaliveInterval: "use keepalive: { interval }",
  keepaliveCountMax: "use keepalive: { countMax }",
  forceIPv4: "use addressFamily: 'inet'",
  forceIPv6: "use addressFamily: 'inet6'",
  sock: "use via (a jump host) or proxyCommand",
  agentForward: "use forwardAgent",
  hostname: "use host",
  user: "use username",
};
