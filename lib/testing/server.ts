/**
 * An in-process SSH server for tests, examples and demos, on ssh2's `Server`, bound to a
 * loopback port while subscribed.
 *
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { Observable, type ObservableInput } from 'rxjs';
import { holdWhile } from '../util/hold.js';
import { destroySocketOf, Server, utils, type Ssh2ServerConnection } from '../ssh2/index.js';
import { sha256Fingerprint } from '../transport/host-key.js';
import { authenticator } from './server-auth.js';
import { serveConnection } from './server-connection.js';
import { isLoopback } from './loopback.js';
import { checkOptions, optionNames } from '../util/check.js';

/**
 * A key pair in OpenSSH format.
 *
 * @example
 * ```ts
 * import { generateEd25519, type KeyPair } from 'rxssh/testing';
 *
 * const pair: KeyPair = generateEd25519();
 * console.log(pair.public.startsWith('ssh-ed25519 ')); // true
 * ```
 */
export interface KeyPair {
  /** The private key (`-----BEGIN OPENSSH PRIVATE KEY-----`…). */
  readonly private: string;
  /** The public key line (`ssh-ed25519 AAAA…`). */
  readonly public: string;
}

/**
 * Options of {@link testServer}.
 *
 * @example
 * ```ts
 * import type { TestServerConfig } from 'rxssh/testing';
 *
 * const config: TestServerConfig = { commands: 'scripted', maxSessions: 2 };
 * ```
 */
export interface TestServerConfig {
  /**
   * `scripted` (default): a fixed set of fake commands, see {@link runScript}. `local`: each
   * command is run by `/bin/sh -c` on this machine as the current user — for demos only; the
   * server listens on loopback with random credentials.
   */
  readonly commands?: 'scripted' | 'local';
  /** The accepted user name (default `rxssh`). */
  readonly username?: string;
  /** The accepted password (default: random). */
  readonly password?: string;
  /** Offer keyboard-interactive (one `Password: ` prompt) as well as password and publickey. */
  readonly keyboardInteractive?: boolean;
  /** A pre-auth banner to send. */
  readonly banner?: string;
  /** Refuse session channels beyond this many open at once on one connection, like sshd's MaxSessions (default 10). */
  readonly maxSessions?: number;
  /** The client key pair to accept and hand out (default: a fresh ed25519 pair per server). */
  readonly clientKey?: KeyPair;
  /** More public keys (OpenSSH lines) to accept for publickey authentication. */
  readonly authorizedKeys?: readonly string[];
  /** The address to bind (default `127.0.0.1`; must be a loopback address). */
  readonly host?: string;
}

const TEST_SERVER_NAMES = optionNames<TestServerConfig>()(['commands', 'username', 'password', 'keyboardInteractive', 'banner', 'maxSessions', 'clientKey', 'authorizedKeys', 'host']);

/**
 * Live counters of what the server saw; read them after a pipeline ran.
 *
 * @example
 * ```ts
 * import { withTestServer } from 'rxssh/testing';
 *
 * withTestServer({}, (s) => [s.stats.connections]).subscribe(console.log); // 0
 * ```
 */
export interface TestServerStats {
  /** TCP connections accepted. */
  connections: number;
  /** Connections currently open. */
  openConnections: number;
  /** Every USERAUTH request, as `method` (including `none`). */
  readonly authRequests: string[];
  /** Every exec request's command. */
  readonly execs: string[];
  /** Every signal request's name (also those sent after EOF, as sshd honours them). */
  readonly signals: string[];
  /** Session channels currently open. */
  openSessions: number;
  /** Session channels refused because of `maxSessions`. */
  refusedSessions: number;
}

/**
 * The test server's host key.
 *
 * @example
 * ```ts
 * import { withTestServer } from 'rxssh/testing';
 *
 * withTestServer({}, (s) => [s.hostKey.fingerprint]).subscribe(console.log); // SHA256:…
 * ```
 */
export interface TestServerHostKey {
  /** Its SHA256 fingerprint, for `pinned()`. */
  readonly fingerprint: string;
  /** Its OpenSSH public-key line. */
  readonly openssh: string;
}

/**
 * What {@link testServer} emits once it is listening.
 *
 * @example
 * ```ts
 * import type { TestServerInfo } from 'rxssh/testing';
 *
 * const describe = (s: TestServerInfo) => `${s.username}@${s.host}:${s.port} ${s.hostKey.fingerprint}`;
 * ```
 */
export interface TestServerInfo {
  /** The loopback address it listens on. */
  readonly host: string;
  /** The port it listens on. */
  readonly port: number;
  /** The accepted user name. */
  readonly username: string;
  /** The accepted password. */
  readonly password: string;
  /** A client private key (OpenSSH format, ed25519) the server accepts. */
  readonly privateKey: string;
  /** The matching public key line. */
  readonly publicKey: string;
  /** The server's host key. */
  readonly hostKey: TestServerHostKey;
  /** Live counters. */
  readonly stats: TestServerStats;
}


/**
 * An in-process SSH server bound to a loopback port while subscribed.
 *
 * @remarks
 * Emits one {@link TestServerInfo} once listening, then stays silent; unsubscribing closes the
 * server and every connection. Each subscription makes a new server with fresh host and
 * client keys and a random password. Accepts password, publickey (the emitted key) and
 * optionally keyboard-interactive authentication. Forwards `direct-tcpip` channels to loopback
 * addresses only (so it can serve as a jump host in tests).
 *
 * @example
 * ```ts
 * import { testServer } from 'rxssh/testing';
 * import { connect, verifyHostKey, pinned, authenticate, password, run } from 'rxssh';
 * import { switchMap, take } from 'rxjs';
 *
 * testServer().pipe(
 *   switchMap((s) =>
 *     connect({ host: s.host, port: s.port, username: s.username }).pipe(
 *       verifyHostKey(pinned(s.hostKey.fingerprint)),
 *       authenticate(password(s.password)),
 *       run('echo hello'),
 *     ),
 *   ),
 *   take(1), // the server stays up while subscribed: take the result, then it closes
 * ).subscribe((r) => console.log(r.stdout)); // hello
 * ```
 */
// eslint-disable-next-line max-lines-per-function -- Long by design: one Observable: the keys, the server, its connections and their children are made and torn down together.
export function testServer(config: TestServerConfig = {}): Observable<TestServerInfo> {
  checkOptions('testServer()', config, TEST_SERVER_NAMES);
  const bindHost = config.host ?? '127.0.0.1';
  if (!isLoopback(bindHost)) throw new TypeError(`testServer() binds to loopback only, not ${bindHost}`);
  const maxSessions = config.maxSessions ?? 10;
  return new Observable<TestServerInfo>((subscriber) => {
    const hostKey = generateEd25519();
    const clientKey = config.clientKey ?? generateEd25519();
    const parsedClient = utils.parseKey(clientKey.public);
    const parsedHost = utils.parseKey(hostKey.public);
    if (parsedClient instanceof Error || parsedHost instanceof Error) {
      subscriber.error(new Error('rxssh testing: cannot parse generated keys'));
      return undefined;
    }
    const allowedKeys = [parsedClient, ...(config.authorizedKeys ?? []).map((line) => utils.parseKey(line))].flatMap((k) =>
      k instanceof Error ? [] : Array.isArray(k) ? k : [k],
    );
    const hostPublic = Array.isArray(parsedHost) ? parsedHost[0] : parsedHost;
    const username = config.username ?? 'rxssh';
    const secret = config.password ?? randomBytes(12).toString('base64url');
    const stats: TestServerStats = {
      connections: 0,
      openConnections: 0,
      authRequests: [],
      execs: [],
      signals: [],
      openSessions: 0,
      refusedSessions: 0,
    };
    const clients = new Set<Ssh2ServerConnection>();
    const children = new Set<{ kill(): void }>();
    const forwards = new Set<Socket>();

    const onAuth = authenticator({ username, secret, allowedKeys, keyboardInteractive: config.keyboardInteractive === true, stats });

    const server = new Server(
      { hostKeys: [hostKey.private], ...(config.banner ? { banner: config.banner } : {}) },
      (client) => serveConnection(client, { config, maxSessions, stats, clients, children, forwards, onAuth }),
    );
    server.on('error', (err: Error) => subscriber.error(err));
    server.listen(0, bindHost, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      subscriber.next({
        host: bindHost,
        port,
        username,
        password: secret,
        privateKey: clientKey.private,
        publicKey: clientKey.public,
        hostKey: {
          fingerprint: sha256Fingerprint(hostPublic ? hostPublic.getPublicSSH() : Buffer.alloc(0)),
          openssh: hostKey.public.trim(),
        },
        stats,
      });
    });
    return () => {
      for (const child of children) child.kill();
      for (const f of forwards) f.destroy();
      for (const client of clients) {
        client.end();
        destroySocketOf(client);
      }
      server.close();
    };
  });
}

/**
 * A fresh ed25519 key pair in OpenSSH format (`private`, `public`), e.g. to share one client
 * key between several test servers.
 *
 * ssh2's generateKeyPairSync('ed25519') drops a leading zero byte of the public key about once
 * in 256 keys, producing a key its own parser rejects; this draws again until both halves parse.
 *
 * @example
 * ```ts
 * import { generateEd25519, testServer } from 'rxssh/testing';
 *
 * const clientKey = generateEd25519();
 * testServer({ clientKey }); // accepts clientKey.private
 * ```
 */
export function generateEd25519(): KeyPair {
  for (;;) {
    const pair = utils.generateKeyPairSync('ed25519');
    if (!(utils.parseKey(pair.public) instanceof Error) && !(utils.parseKey(pair.private) instanceof Error)) return pair;
  }
}

/**
 * Runs a test server for as long as the Observable made from its info runs, then closes it.
 *
 * @example
 * ```ts
 * import { withTestServer } from 'rxssh/testing';
 * import { connect, verifyHostKey, pinned, authenticate, password, run } from 'rxssh';
 *
 * withTestServer({}, (s) =>
 *   connect({ host: s.host, port: s.port, username: s.username }).pipe(
 *     verifyHostKey(pinned(s.hostKey.fingerprint)),
 *     authenticate(password(s.password)),
 *     run('echo hi'),
 *   ),
 * ).subscribe((r) => console.log(r.stdout)); // hi — and the server is closed
 * ```
 */
export function withTestServer<R>(config: TestServerConfig, project: (server: TestServerInfo) => ObservableInput<R>): Observable<R> {
  return testServer(config).pipe(holdWhile(project));
}
