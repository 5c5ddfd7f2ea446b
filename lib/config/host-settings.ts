/**
 * The settings of a resolved ssh_config host beyond where and who: the algorithm lists and
 * Compression, CASignatureAlgorithms, PubkeyAcceptedAlgorithms, ProxyCommand and RemoteCommand (tokens expanded),
 * RequestTTY, BindAddress, AddressFamily, ConnectionAttempts, RequiredRSASize, RekeyLimit, TCPKeepAlive, SetEnv and
 * SendEnv, IdentityAgent, and the
 * "jumphost loop" refusal, each checked as ssh checks it (a value rxssh cannot honour throws
 * `SshConfigError` naming the keyword and where it was set).
 */
import type { SshConfigError } from '../errors.js';
import type { AlgorithmsConfig } from '../transport/connect.js';
import { ALGORITHM_KEYWORDS, algorithmsFromConfig, pubkeyAlgorithmList, sshAlgorithmList } from './algorithms.js';
import { expandProxyCommand } from './proxy-tokens.js';
import { rekeyLimitFrom, sshSeconds } from './rekey-limit.js';
import type { ResolvedConfig } from './reader.js';
import { patternRegExp } from '../transport/known-hosts-store.js';

/** A resolved host as this module reads it. */
export interface ResolvedHost {
  readonly resolved: ResolvedConfig;
  readonly context: (keyword: string, origin: string, message: string) => SshConfigError;
  readonly alias: string;
  readonly hostname: string;
  readonly port: number;
  readonly user: string;
  readonly localUser: string;
  readonly home: string;
  /** `algorithmPolicy: 'compatible'`: lists may go below the hardened floor. */
  readonly compatible: boolean;
}

/** The host's transport and session settings (fields of `SshConfigHost`). */
export function transportSettings(r: ResolvedHost) {
  const { hostname, port, user, alias, localUser, home } = r;
  const first = (keyword: string): string | undefined => r.resolved.get(keyword)?.[0]?.args[0];
  const proxyJump = first('proxyjump');
  if (proxyJump && proxyJump.toLowerCase() !== 'none') {
    // As ssh: the last hop being the host itself (same name, port, no user of its own) loops.
    const last = /^(?:([^@]*)@)?(.*?)(?::(\d+))?$/.exec(proxyJump.split(',').at(-1) ?? '');
    if (last && last[1] === undefined && last[2] === hostname && Number(last[3] ?? 22) === port) {
      throw r.context('proxyjump', r.resolved.get('proxyjump')?.[0]?.origin ?? 'command line', `jumphost loop via ${hostname}`);
    }
  }
  const algorithms = algorithmsOf(r.resolved, r.compatible, r.context);
  const caValue = r.resolved.get('casignaturealgorithms')?.[0];
  const caSignatureAlgorithms = caValue ? sshAlgorithmList('casignaturealgorithms', caValue.args.join(' ')) : undefined;
  if (caSignatureAlgorithms instanceof Error) throw r.context('casignaturealgorithms', caValue?.origin ?? 'command line', `CASignatureAlgorithms ${caValue?.args.join(' ') ?? ''}: ${caSignatureAlgorithms.message}`);
  const remoteValue = r.resolved.get('remotecommand')?.[0];
  let remoteCommand: string | undefined;
  if (remoteValue && remoteValue.args[0]?.toLowerCase() !== 'none') {
    const expanded = expandProxyCommand(remoteValue.args[0] ?? '', { host: hostname, port, user, alias, localUser, home }, 'RemoteCommand');
    if (expanded instanceof Error) throw r.context('remotecommand', remoteValue.origin, expanded.message);
    remoteCommand = expanded;
  }
  const tty = (first('requesttty') ?? 'auto').toLowerCase();
  const requestTty = tty === 'yes' || tty === 'true' ? 'yes' : tty === 'no' || tty === 'false' ? 'no' : tty === 'force' ? 'force' : 'auto';
  const bind = first('bindaddress');
  const family = (first('addressfamily') ?? 'any').toLowerCase();
  if (family !== 'any' && family !== 'inet' && family !== 'inet6') throw r.context('addressfamily', r.resolved.get('addressfamily')?.[0]?.origin ?? 'command line', `AddressFamily ${family}: not any, inet or inet6`);
  const rsaText = first('requiredrsasize');
  const rsaSize = rsaText === undefined ? undefined : Number(rsaText);
  if (rsaSize !== undefined && (!Number.isInteger(rsaSize) || rsaSize < 1)) throw r.context('requiredrsasize', r.resolved.get('requiredrsasize')?.[0]?.origin ?? 'command line', `RequiredRSASize ${String(rsaText)}: not a number of bits`);
  const attempts = Number(first('connectionattempts') ?? 1);
  if (!Number.isInteger(attempts) || attempts < 1) throw r.context('connectionattempts', r.resolved.get('connectionattempts')?.[0]?.origin ?? 'command line', `ConnectionAttempts ${String(first('connectionattempts'))}: not a positive number`);
  const pubkeyValue = r.resolved.get('pubkeyacceptedalgorithms')?.[0];
  const pubkeyAlgorithms = pubkeyValue ? pubkeyAlgorithmList(pubkeyValue.args.join(' '), r.compatible) : undefined;
  if (pubkeyAlgorithms instanceof Error) throw r.context('pubkeyacceptedalgorithms', pubkeyValue?.origin ?? 'command line', `PubkeyAcceptedAlgorithms ${pubkeyValue?.args.join(' ') ?? ''}: ${pubkeyAlgorithms.message}`);
  const rekeyValues = r.resolved.get('rekeylimit') ?? [];
  const rekeyValue = rekeyValues[0];
  const rekeyLimit = rekeyLimitFrom(rekeyValues.map((v) => v.args)); // every line counts, part by part (rekey-limit.ts)
  if (rekeyLimit instanceof Error) throw r.context('rekeylimit', rekeyValue?.origin ?? 'command line', `RekeyLimit ${rekeyValue?.args.join(' ') ?? ''}: ${rekeyLimit.message}`);
  const proxyValue = r.resolved.get('proxycommand')?.[0];
  let proxyCommand: string | undefined;
  if (proxyValue && proxyValue.args[0]?.toLowerCase() !== 'none') {
    const expanded = expandProxyCommand(proxyValue.args[0] ?? '', { host: hostname, port, user, alias, localUser, home });
    if (expanded instanceof Error) throw r.context('proxycommand', proxyValue.origin, expanded.message);
    proxyCommand = expanded;
  }
  return {
    ...(proxyCommand !== undefined ? { proxyCommand } : {}),
    ...(algorithms ? { algorithms } : {}),
    ...(remoteCommand !== undefined ? { remoteCommand } : {}),
    ...(caSignatureAlgorithms ? { caSignatureAlgorithms } : {}),
    ...(pubkeyAlgorithms ? { pubkeyAlgorithms } : {}),
    requestTty: requestTty as 'yes' | 'no' | 'force' | 'auto',
    ...(bind && bind.toLowerCase() !== 'none' ? { localAddress: bind } : {}),
    ...(family !== 'any' ? { addressFamily: family as 'inet' | 'inet6' } : {}),
    ...(attempts > 1 ? { connectionAttempts: attempts } : {}),
    ...(rekeyLimit ? { rekeyLimit } : {}),
    ...(/^(no|false)$/i.test(first('tcpkeepalive') ?? '') ? { tcpKeepAlive: false } : {}),
    // A smaller value cannot take the floor below OpenSSH's 1024 bits.
    ...(rsaSize !== undefined ? { requiredRsaSize: Math.min(16384, Math.max(1024, rsaSize)) } : {}),
  };
}

/** The algorithm keywords and `Compression` as a ConnectConfig's `algorithms`; a list rxssh cannot honour throws. */
function algorithmsOf(resolved: ResolvedConfig, compatible: boolean, context: (keyword: string, origin: string, message: string) => SshConfigError): AlgorithmsConfig | undefined {
  const values = new Map<string, string>();
  for (const keyword of Object.keys(ALGORITHM_KEYWORDS)) {
    const value = resolved.get(keyword)?.[0];
    if (value) values.set(keyword, value.args.join(' '));
  }
  const found = algorithmsFromConfig(values, compatible);
  if ('error' in found) {
    const value = resolved.get(found.keyword)?.[0];
    throw context(found.keyword, value?.origin ?? 'command line', `${found.keyword} ${value?.args.join(' ') ?? ''}: ${found.error.message}`);
  }
  const compression = /^(yes|true)$/i.test(resolved.get('compression')?.[0]?.args[0] ?? '');
  if (!found.algorithms && !compression) return undefined;
  return { ...found.algorithms, ...(compression ? { compress: ['zlib@openssh.com', 'zlib', 'none'] } : {}) };
}

/**
 * `SetEnv NAME=VALUE` (the first value of a name wins) and `SendEnv PATTERN` (this process's
 * variables whose names match; `-PATTERN` takes names out again), as ssh sends them.
 */
export function environmentOf(resolved: ResolvedConfig): Record<string, string> | undefined {
  const env: Record<string, string> = {};
  let send: string[] = [];
  for (const { args } of resolved.get('sendenv') ?? []) {
    for (const pattern of args) {
      if (pattern.startsWith('-')) {
        const out = patternRegExp(pattern.slice(1));
        send = send.filter((p) => !out.test(p));
      } else send.push(pattern);
    }
  }
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && send.some((p) => patternRegExp(p).test(name))) env[name] = value;
  }
  const set: Record<string, string> = {};
  for (const { args } of resolved.get('setenv') ?? []) {
    for (const pair of args) {
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq);
      if (!(name in set)) set[name] = pair.slice(eq + 1);
    }
  }
  Object.assign(env, set);
  return Object.keys(env).length > 0 ? env : undefined;
}

/** `IdentityAgent`: `none` → no agent, `SSH_AUTH_SOCK` → the default, `$VAR` → that variable's socket, else a path. */
export function agentOf(value: string | undefined, expand: (path: string) => string, refuse: (why: string) => never): string | null | undefined {
  if (value === undefined || value === 'SSH_AUTH_SOCK') return undefined;
  if (value.toLowerCase() === 'none') return null;
  // As ssh.c: expanded first (`${HOME}/agent` is a path); then `$NAME` names a variable holding the path.
  const path = expand(value);
  if (!path.startsWith('$')) return path;
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(path.slice(1))) refuse(`Invalid IdentityAgent environment variable name ${path}`);
  return process.env[path.slice(1)] || null;
}

/**
 * `AddKeysToAgent` as ssh reads it: `yes`, `confirm` or `no`, optionally followed by a time
 * (`confirm 30m`), or a time alone (`1h`: yes, for that long); `ask` is refused by the keyword
 * table before this.
 */
export function addKeysToAgentOf(args: readonly string[]): { addKeysToAgent?: { confirm: boolean; lifetime?: number } } {
  const [first = 'no', second] = args;
  const time = (text: string | undefined): number | undefined => {
    const seconds = text === undefined ? undefined : sshSeconds(text);
    return seconds instanceof Error ? undefined : seconds; // checked where the line was read (config-line.ts)
  };
  if (/^(no|false)$/i.test(first)) return {};
  const confirm = /^confirm$/i.test(first);
  const lifetime = /^(yes|true|confirm)$/i.test(first) ? time(second) : time(first);
  return { addKeysToAgent: { confirm, ...(lifetime !== undefined && lifetime > 0 ? { lifetime } : {}) } };
}
