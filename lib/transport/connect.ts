/**
 * The transport stage: `connect(config)` opens one TCP connection and one ssh2 Client per
 * subscription and emits the server's host-key offer.
 *
 * @module
 */
import { isObservable, Observable } from 'rxjs';
import type { Connection } from '../connection/connection.js';
import { warnIfNoNativeCrypto, type Ssh2ConnectConfig } from '../ssh2/index.js';
import { Session, type SessionSettings } from './session.js';
import type { ProxyStderr } from './proxy-command.js';
import { HostKeyOffer } from './transport.js';
import { DEFAULT_PUBKEY_ALGORITHMS, PUBKEY_ALGORITHM_NAMES } from '../auth/signature-algorithms.js';
import { ConnectError } from '../errors.js';
import { register, registerRetry } from './registry.js';
import { checkNumber, checkString, MILLISECONDS, NON_NEGATIVE_INTEGER, POSITIVE_INTEGER, PORT } from '../util/check.js';


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

/** A connection's environment, checked: names as a shell's, values without NUL. */
function environment(env: Readonly<Record<string, string>> | undefined): Readonly<Record<string, string>> | undefined {
  if (env === undefined) return undefined;
  if (typeof env !== 'object' || env === null) throw new TypeError('connect(): env must be an object of strings');
  for (const [name, value] of Object.entries(env)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || typeof value !== 'string' || value.includes('\u0000')) {
      throw new TypeError(`connect(): env ${JSON.stringify(name)} must be a variable name with a string value`);
    }
  }
  return Object.keys(env).length > 0 ? { ...env } : undefined;
}

function nonNegative(name: string, value: number | undefined, fallback: number): number {
  return value === undefined ? fallback : checkNumber(name, value, MILLISECONDS);
}

/** What the hardened policy removes from ssh2's defaults. @internal */
export const HARDENED_REMOVALS = {
  serverHostKey: ['ssh-rsa', 'ssh-dss'],
  hmac: ['hmac-sha1', 'hmac-sha1-etm@openssh.com', 'hmac-md5'],
  cipher: ['chacha20-poly1305@openssh.com'],
} as const;

function algorithmsFor(config: ConnectConfig): Ssh2ConnectConfig['algorithms'] | undefined {
  const policy = config.algorithmPolicy ?? 'hardened';
  if (policy !== 'hardened' && policy !== 'compatible') throw new TypeError(`connect(): algorithmPolicy must be 'hardened' or 'compatible'`);
  const own: AlgorithmsConfig = config.algorithms ?? {};
  if (policy === 'compatible') return config.algorithms as Ssh2ConnectConfig['algorithms'];
  const out: Record<string, unknown> = { ...own };
  for (const [category, remove] of Object.entries(HARDENED_REMOVALS)) {
    const mine = own[category as keyof AlgorithmsConfig];
    if (mine === undefined) {
      out[category] = { remove: [...remove] };
    } else if (!Array.isArray(mine)) {
      // An edit of the default list keeps the hardened removals, except for what the caller
      // names in append/prepend (a name they ask for is theirs to have).
      const edit = mine as AlgorithmListEdit;
      const list = (names: string | readonly string[] | undefined): string[] => (names === undefined ? [] : typeof names === 'string' ? [names] : [...names]);
      const asked = new Set([...list(edit.append), ...list(edit.prepend)]);
      out[category] = { ...edit, remove: [...list(edit.remove), ...remove.filter((name) => !asked.has(name))] };
    }
  }
  return out as Ssh2ConnectConfig['algorithms'];
}

function familyOf(family: ConnectConfig['addressFamily']): 4 | 6 | undefined {
  if (family === undefined || family === 'any') return undefined;
  if (family === 'inet') return 4;
  if (family === 'inet6') return 6;
  throw new TypeError(`connect(): addressFamily must be 'any', 'inet' or 'inet6'`);
}

/** Validates a ConnectConfig; throws TypeError on bad input. @internal */
export function settingsOf(config: ConnectConfig): SessionSettings {
  if (typeof config !== 'object' || config === null) throw new TypeError('connect() needs a config object');
  const { host, username } = config;
  checkString('connect(): host', host);
  checkString('connect(): username', username);
  const port = checkNumber('connect(): port', config.port ?? 22, PORT);
  const maxChannels = checkNumber('connect(): maxChannels', config.maxChannels ?? 8, POSITIVE_INTEGER);
  if (config.via !== undefined && !isObservable(config.via)) throw new TypeError('connect(): via must be an Observable<Connection>');
  if (config.proxyCommand !== undefined) {
    checkString('connect(): proxyCommand', config.proxyCommand);
    if (config.via !== undefined) throw new TypeError('connect(): give via (ProxyJump) or proxyCommand, not both');
  }
  if (config.proxyStderr !== undefined && config.proxyStderr !== 'inherit' && typeof config.proxyStderr !== 'function') throw new TypeError("connect(): proxyStderr must be 'inherit' or a function");
  const t = config.timeouts ?? {};
  const k = config.keepalive ?? {};
  const countMax = checkNumber('connect(): keepalive.countMax', k.countMax ?? 3, NON_NEGATIVE_INTEGER);
  return {
    host,
    port,
    username,
    localAddress: config.localAddress,
    family: familyOf(config.addressFamily),
    timeouts: {
      connect: nonNegative('timeouts.connect', t.connect, 10_000),
      handshake: nonNegative('timeouts.handshake', t.handshake, 15_000),
      auth: nonNegative('timeouts.auth', t.auth, 30_000),
      channelOpen: nonNegative('timeouts.channelOpen', t.channelOpen, 15_000),
      sftpRequest: nonNegative('timeouts.sftpRequest', t.sftpRequest, 0),
    },
    keepaliveInterval: nonNegative('keepalive.interval', k.interval, 15_000),
    keepaliveCountMax: countMax,
    maxChannels,
    algorithms: algorithmsFor(config),
    requireStrictKex: config.requireStrictKex === true,
    requiredRsaSize: checkNumber('connect(): requiredRsaSize', config.requiredRsaSize ?? 1024, { min: 1024, max: 16384, integer: true, expected: 'a number of bits, 1024-16384' }),
    pubkeyAlgorithms: pubkeyAlgorithmsOf(config),
    via: config.via,
    proxy: config.proxyCommand !== undefined ? { command: config.proxyCommand, ...(config.proxyStderr !== undefined ? { stderr: config.proxyStderr } : {}) } : undefined,
    forwardAgent:
      config.forwardAgent === true ? process.env['SSH_AUTH_SOCK'] : typeof config.forwardAgent === 'string' ? config.forwardAgent : undefined,
    env: environment(config.env),
  };
}

/**
 * Connects to an SSH server and emits its host-key offer: the `hostKey$` that a verify
 * operator must accept before anything else happens.
 *
 * @remarks
 * Lazy: nothing touches the network until subscribed; each subscription has its own TCP
 * connection (with TCP_NODELAY) and ssh2 Client. Unsubscribing ends it. Emits one
 * {@link HostKeyOffer}; completes when the server closes an established connection; errors with
 * `ConnectError` (refused, DNS), `TimeoutError` (with the phase), `ConnectionLostError`,
 * `ProtocolError`, or whatever the later stages report. Bad config throws `TypeError` at call
 * time.
 *
 * ```text
 * connect: --offer--(verify)--(auth)--ready-----------|   server closed ⇒ complete
 *          unsubscribe ⇒ DISCONNECT, socket closed
 * ```
 *
 * @param config - host, port, username, deadlines, keepalive and channel limit.
 * @example
 * ```ts
 * import { connect, verifyHostKey, pinned, authenticate, privateKey, run } from 'rxssh';
 *
 * connect({ host: 'example.org', username: 'me' }).pipe(
 *   verifyHostKey(pinned('SHA256:Ct3Ij8HhQd1J3Zk2qvKfVYw0LQKc5L4b8xZB7f2Uq4E')),
 *   authenticate(privateKey(pem)),
 *   run('uname -a'),
 * ).subscribe((result) => console.log(result.stdout)); // Linux example 6.1.0 …
 * ```
 */
export function connect(config: ConnectConfig): Observable<HostKeyOffer> {
  const settings = settingsOf(config);
  const attempts = checkNumber('connect(): connectionAttempts', config.connectionAttempts ?? 1, POSITIVE_INTEGER);
  warnIfNoNativeCrypto();
  const preferred = config.preferredHostKeyTypes;
  return new Observable<HostKeyOffer>((subscriber) => {
    let session: Session | undefined;
    let retried = false;
    let attemptsLeft = attempts - 1;
    let again: NodeJS.Timeout | undefined;
    // One session, or a second one when the verify stage asks for other key types first (the
    // host is known only by those): the offer carries that request, so nothing between
    // connect and verifyHostKey can lose it.
    const open = (knownTypes: Promise<readonly string[]> | undefined): void => {
      const current: Session = new Session(settings, {
        hostKey: (key) => {
          const offer = HostKeyOffer.create(key);
          register(offer, current);
          if (!retried) {
            registerRetry(offer, (types) => {
              if (retried || session !== current) return;
              retried = true;
              current.end();
              open(Promise.resolve(types));
            });
          }
          subscriber.next(offer);
        },
        error: (err) => {
          if (session !== current) return;
          if (attemptsLeft > 0 && err instanceof ConnectError) {
            attemptsLeft--;
            again = setTimeout(() => open(knownTypes), 1000);
            return;
          }
          subscriber.error(err);
        },
        close: () => {
          if (session === current) subscriber.complete();
        },
      });
      session = current;
      current.start(knownTypes);
    };
    open(preferred === undefined ? undefined : Promise.resolve(typeof preferred === 'function' ? preferred(settings.host, settings.port) : preferred));
    return () => {
      clearTimeout(again);
      session?.end();
    };
  });
}

/** `pubkeyAlgorithms`, checked: names ssh knows, and SHA-1/DSA ones only with the compatible policy. */
function pubkeyAlgorithmsOf(config: ConnectConfig): readonly string[] {
  const list = config.pubkeyAlgorithms;
  if (list === undefined) return DEFAULT_PUBKEY_ALGORITHMS;
  if (!Array.isArray(list) || list.length === 0 || list.some((n) => typeof n !== 'string' || !PUBKEY_ALGORITHM_NAMES.includes(n))) {
    throw new TypeError(`connect(): pubkeyAlgorithms must be a non-empty list of signature algorithm names (${PUBKEY_ALGORITHM_NAMES.join(', ')})`);
  }
  const weak = list.filter((n) => /^ssh-(rsa|dss)(-cert-v01@openssh\.com)?$/.test(n));
  if (weak.length > 0 && config.algorithmPolicy !== 'compatible') throw new TypeError(`connect(): pubkeyAlgorithms ${weak.join(',')} below rxssh's hardened floor (opt in with algorithmPolicy 'compatible')`);
  return [...list];
}
