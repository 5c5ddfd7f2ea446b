/**
 * `connect()`'s config checked and resolved into a Session's settings: every number and string
 * checked (a `RangeError`/`TypeError` naming the option), deadlines and keepalive defaulted, the
 * hardened algorithm floor applied, `pubkeyAlgorithms` checked against it.
 */
import { isObservable } from 'rxjs';
import type { Ssh2ConnectConfig } from '../ssh2/index.js';
import type { SessionSettings } from './session-settings.js';
import { CONNECT_NAMES, SSH2_CONNECT_HINTS, type AlgorithmListEdit, type AlgorithmsConfig, type ConnectConfig } from './connect-config.js';
import { belowPubkeyFloor, DEFAULT_PUBKEY_ALGORITHMS, PUBKEY_ALGORITHM_NAMES } from '../auth/signature-algorithms.js';
import { checkNumber, checkOptions, checkString, MILLISECONDS, NON_NEGATIVE_INTEGER, POSITIVE_INTEGER, PORT } from '../util/check.js';

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
  checkOptions('connect(): algorithms', own, CONNECT_NAMES.algorithms);
  for (const [category, list] of Object.entries(own)) if (list !== undefined && !Array.isArray(list)) checkOptions(`connect(): algorithms.${category}`, list, CONNECT_NAMES.listEdit);
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
  checkOptions('connect()', config, CONNECT_NAMES.config, SSH2_CONNECT_HINTS);
  const jump = (config as { readonly proxyJump?: unknown }).proxyJump;
  if (typeof jump === 'string' && jump !== '' && jump.toLowerCase() !== 'none' && config.via === undefined) {
    throw new TypeError(`connect(): ${config.host} is behind ProxyJump ${jump} (from ssh_config), which connect() does not follow: use connectAlias(), or give via`);
  }
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
  checkOptions('connect(): timeouts', t, CONNECT_NAMES.timeouts);
  checkOptions('connect(): keepalive', k, CONNECT_NAMES.keepalive);
  const countMax = checkNumber('connect(): keepalive.countMax', k.countMax ?? 3, NON_NEGATIVE_INTEGER);
  return {
    host,
    port,
    username,
    localAddress: config.localAddress,
    family: familyOf(config.addressFamily),
    timeouts: {
      connect: nonNegative('connect(): timeouts.connect', t.connect, 10_000),
      handshake: nonNegative('connect(): timeouts.handshake', t.handshake, 15_000),
      auth: nonNegative('connect(): timeouts.auth', t.auth, 30_000),
      channelOpen: nonNegative('connect(): timeouts.channelOpen', t.channelOpen, 15_000),
      sftpRequest: nonNegative('connect(): timeouts.sftpRequest', t.sftpRequest, 0),
    },
    tcpKeepAlive: config.tcpKeepAlive !== false,
    keepaliveInterval: nonNegative('connect(): keepalive.interval', k.interval, 15_000),
    keepaliveCountMax: countMax,
    rekeyLimit: checkedRekeyLimit(config.rekeyLimit),
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

/** `rekeyLimit`, checked: bytes at least 16 (as ssh), an interval of whole milliseconds; undefined when neither is set. */
function checkedRekeyLimit(limit: ConnectConfig['rekeyLimit']): SessionSettings['rekeyLimit'] {
  if (limit === undefined) return undefined;
  if (typeof limit !== 'object' || limit === null) throw new TypeError('connect(): rekeyLimit must be an object ({ bytes, interval })');
  checkOptions('connect(): rekeyLimit', limit, CONNECT_NAMES.rekeyLimit);
  const bytes = limit.bytes === undefined ? undefined : checkNumber('connect(): rekeyLimit.bytes', limit.bytes, { min: 16, integer: true, expected: 'a number of bytes, at least 16' });
  const interval = limit.interval === undefined ? undefined : checkNumber('connect(): rekeyLimit.interval', limit.interval, POSITIVE_INTEGER);
  return bytes === undefined && interval === undefined ? undefined : { ...(bytes !== undefined ? { bytes } : {}), ...(interval !== undefined ? { interval } : {}) };
}

/** `pubkeyAlgorithms`, checked: names ssh knows, and SHA-1/DSA ones only with the compatible policy. */
function pubkeyAlgorithmsOf(config: ConnectConfig): readonly string[] {
  const list = config.pubkeyAlgorithms;
  if (list === undefined) return DEFAULT_PUBKEY_ALGORITHMS;
  if (!Array.isArray(list) || list.length === 0 || list.some((n) => typeof n !== 'string' || !PUBKEY_ALGORITHM_NAMES.includes(n))) {
    throw new TypeError(`connect(): pubkeyAlgorithms must be a non-empty list of signature algorithm names (${PUBKEY_ALGORITHM_NAMES.join(', ')})`);
  }
  const weak = list.filter(belowPubkeyFloor);
  if (weak.length > 0 && config.algorithmPolicy !== 'compatible') throw new TypeError(`connect(): pubkeyAlgorithms ${weak.join(',')} below rxssh's hardened floor (opt in with algorithmPolicy 'compatible')`);
  return [...list];
}
