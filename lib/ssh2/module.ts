/**
 * ssh2 itself: its values, loaded on first use (importing rxssh loads none of ssh2; see
 * lazy.ts), the types rxssh uses, the version check that every reach-in relies on, and the
 * native-crypto warning.
 */
import { createRequire } from 'node:module';
import type * as Ssh2Module from 'ssh2';
import { once, requireSsh2 } from './lazy.js';
import { sendPacket } from './packets.js';

export type {
  AnyAuthMethod,
  AuthContext,
  AuthenticationType,
  BaseAgent,
  Client as Ssh2Client,
  ClientChannel,
  Connection as Ssh2ServerConnection,
  ConnectConfig as Ssh2ConnectConfig,
  FileEntryWithStats,
  ParsedKey,
  PseudoTtyOptions,
  ServerChannel,
  SFTPWrapper,
  Stats,
} from 'ssh2';

type Ssh2 = typeof Ssh2Module;

/** ssh2's module, required on first use. */
export const ssh2 = once(() => requireSsh2('ssh2') as Ssh2);

/**
 * A class of ssh2's that loads ssh2 when it is first constructed (or a static read): `new
 * Client()` works as with ssh2's own export, and so does a subclass.
 */
function lazyClass<K extends 'Client' | 'Server'>(name: K): Ssh2[K] {
  type Constructor = new (...args: unknown[]) => object;
  const real = (): Constructor => ssh2()[name] as unknown as Constructor;
  const stand = function () {} as unknown as Constructor;
  const proxy: Constructor = new Proxy(stand, {
    // `new Client()` makes ssh2's own Client (its prototype, not the stand-in's).
    construct: (_target, args: unknown[], newTarget: Constructor) => Reflect.construct(real(), args, newTarget === proxy ? real() : newTarget),
    get: (_target, key) => Reflect.get(real(), key) as unknown,
  });
  return proxy as unknown as Ssh2[K];
}

/** ssh2's `Client`, loaded when first constructed. */
export const Client = lazyClass('Client');
/** ssh2's `Server`, loaded when first constructed. */
export const Server = lazyClass('Server');
/** ssh2's `utils` (parseKey, generateKeyPairSync, sftp), loaded when first used. */
export const utils: Ssh2['utils'] = new Proxy({} as Ssh2['utils'], { get: (_target, key) => Reflect.get(ssh2().utils, key) });

let warned = false;

/**
 * Warns once per process when ssh2's optional native crypto binding did not build (its install
 * script needs node-gyp): bulk transfers are then ~30 % slower and ChaCha20 runs in JavaScript.
 */
export function warnIfNoNativeCrypto(): void {
  if (warned) return;
  warned = true;
  let available: boolean;
  try {
    // ssh2 exposes no public flag; its crypto module does.
    available = (createRequire(import.meta.url)('ssh2/lib/protocol/crypto.js') as { bindingAvailable?: boolean }).bindingAvailable === true;
  } catch {
    available = false;
  }
  if (!available) {
    process.emitWarning("ssh2's native crypto binding is not built; bulk transfers will be slower (rebuild with `npm rebuild ssh2`)", {
      code: 'RXSSH_NO_NATIVE_CRYPTO',
    });
  }
}

/** The ssh2 version whose internals the reach-ins in lib/ssh2/ were read from and are pinned by specs. */
export const CHECKED_SSH2_VERSION = '1.17.0';

let compatibility: string | undefined | null = null;

/**
 * Why the installed ssh2 cannot be used by rxssh (its version is not the one the reach-ins were
 * checked against, or a shape they rely on is gone), or undefined when it can. Checked once per
 * process; `connect()` fails with this message instead of running with a silently missing
 * guard.
 */
export function ssh2Incompatibility(): string | undefined {
  if (compatibility !== null) return compatibility;
  const require = createRequire(import.meta.url);
  const problems: string[] = [];
  let version = 'unknown';
  try {
    version = String((require('ssh2/package.json') as { version?: unknown }).version);
  } catch {
    problems.push('its package.json cannot be read');
  }
  if (version !== CHECKED_SSH2_VERSION) problems.push(`version ${version} is installed`);
  try {
    const protocol = require('ssh2/lib/protocol/Protocol.js') as { prototype?: Record<string, unknown> };
    for (const method of ['signal', 'authPK', 'rekey']) {
      if (typeof protocol.prototype?.[method] !== 'function') problems.push(`Protocol.prototype.${method} is missing`);
    }
  } catch {
    problems.push('ssh2/lib/protocol/Protocol.js cannot be loaded');
  }
  if (!sendPacket()) problems.push('ssh2/lib/protocol/utils.js has no sendPacket');
  compatibility = problems.length
    ? `rxssh needs ssh2 ${CHECKED_SSH2_VERSION} (it reaches into ssh2's internals, checked against that version): ${problems.join('; ')}. Install ssh2@${CHECKED_SSH2_VERSION}.`
    : undefined;
  return compatibility;
}
