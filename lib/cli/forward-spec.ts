/**
 * `-L`, `-R` and `-D` as ssh reads them (readconf.c's parse_forward): up to four fields split at
 * `:`, a field in `[...]` taken literally (an IPv6 address), a backslash escaping the next
 * character, a field with a `/` a Unix socket path; ports as numbers or service names. Then what
 * the host's ssh_config says about forwards: `ClearAllForwardings`, `GatewayPorts`,
 * `StreamLocalBindMask` and `StreamLocalBindUnlink`.
 */
import { readFileSync } from 'node:fs';
import type { BindAddress, SshConfigHost } from '../index.js';
import { UsageError } from './usage.js';

/** Where a forwarded connection goes: a host and port, or a Unix socket path. */
export type ForwardTarget = { readonly host: string; readonly port: number } | { readonly path: string };

/** What `-L`, `-R` and `-D` asked for. */
export interface ForwardPlan {
  readonly local: ReadonlyArray<{ readonly bind: BindAddress; readonly to: ForwardTarget }>;
  /** Where the server listens: an address and port, or a Unix socket path (OpenSSH `streamlocal-forward`). */
  readonly remote: ReadonlyArray<{ readonly listen: { readonly host: string; readonly port: number } | { readonly path: string }; readonly to: ForwardTarget }>;
  readonly dynamic: readonly BindAddress[];
}

/** One forward as ssh's parse_forward leaves it: a listen side and a connect side, each an address or a path. */
export interface ParsedForward {
  /** undefined: no address given (ssh's NULL); '' and '*' are written as given. */
  readonly listenHost?: string;
  readonly listenPort?: number;
  readonly listenPath?: string;
  /** `socks` for a dynamic forward (ssh's marker). */
  readonly connectHost?: string;
  readonly connectPort?: number;
  readonly connectPath?: string;
}

interface Field {
  readonly arg: string;
  readonly isPath: boolean;
}

/** The fields of a specification, or undefined where ssh's parse_fwd_field fails. */
function fieldsOf(spec: string): Field[] | undefined {
  const fields: Field[] = [];
  let i = spec.search(/\S|$/); // leading white space is skipped
  while (fields.length < 4 && i < spec.length) {
    if (spec[i] === '[') {
      const end = spec.indexOf(']', i + 1);
      if (end < 0 || (end + 1 < spec.length && spec[end + 1] !== ':')) return undefined;
      const arg = spec.slice(i + 1, end);
      fields.push({ arg, isPath: arg.includes('/') });
      i = end + 2;
      continue;
    }
    let arg = '';
    let isPath = false;
    for (; i < spec.length; i++) {
      const c = spec[i] as string;
      if (c === '\\') {
        // A backslash at the very end fails the field; ssh then finds nothing left of it (its
        // escape was already removed) when the field held nothing else, and stops there.
        if (i + 1 >= spec.length) return arg === '' ? fields : undefined;
        arg += spec[++i];
      } else if (c === ':') {
        i++;
        break;
      } else {
        if (c === '/') isPath = true;
        arg += c;
      }
    }
    fields.push({ arg, isPath });
  }
  return i < spec.length ? undefined : fields;
}

let services: Map<string, number> | undefined;

/** ssh's a2port: a decimal 0-65535 (white space and a sign allowed), or a TCP service name; -1 otherwise. */
export function portNumber(text: string): number {
  if (/^\s*[+-]?\d+$/.test(text)) {
    const n = Math.abs(Number(text.trim())); // only -0 passes the range below with a sign
    return Number(text.trim()) >= 0 && n <= 65535 ? n : -1;
  }
  if (!services) {
    services = new Map();
    let text = '';
    try {
      text = readFileSync('/etc/services', 'utf8');
    } catch {
      // no services file: names are not ports, as getservbyname finds none
    }
    for (const line of text.split('\n')) {
      const [name, at, ...aliases] = line.replace(/#.*/, '').trim().split(/\s+/);
      const m = /^(\d+)\/tcp$/.exec(at ?? '');
      if (!name || !m) continue;
      for (const n of [name, ...aliases]) if (!services.has(n)) services.set(n, Number(m[1]));
    }
  }
  return services.get(text) ?? -1;
}

/**
 * A forward specification as ssh's parse_forward reads it (`dynamic` for `-D`, `remote` for
 * `-R`), or undefined where ssh says "Bad … forwarding specification".
 */
export function parseForward(spec: string, dynamic: boolean, remote: boolean): ParsedForward | undefined {
  const fields = fieldsOf(spec);
  if (!fields) return undefined;
  const [a, b, c, d] = fields as [Field, Field, Field, Field];
  let f: ParsedForward;
  switch (fields.length) {
    case 1:
      f = a.isPath ? { listenPath: a.arg, connectHost: 'socks' } : { listenPort: portNumber(a.arg), connectHost: 'socks' };
      break;
    case 2:
      if (a.isPath && b.isPath) f = { listenPath: a.arg, connectPath: b.arg };
      else if (b.isPath) f = { listenPort: portNumber(a.arg), connectPath: b.arg };
      else f = { listenHost: a.arg, listenPort: portNumber(b.arg), connectHost: 'socks' };
      break;
    case 3:
      if (a.isPath) f = { listenPath: a.arg, connectHost: b.arg, connectPort: portNumber(c.arg) };
      else if (c.isPath) f = { listenHost: a.arg, listenPort: portNumber(b.arg), connectPath: c.arg };
      else f = { listenPort: portNumber(a.arg), connectHost: b.arg, connectPort: portNumber(c.arg) };
      break;
    case 4:
      f = { listenHost: a.arg, listenPort: portNumber(b.arg), connectHost: c.arg, connectPort: portNumber(d.arg) };
      break;
    default:
      return undefined;
  }
  const n = fields.length;
  if (dynamic ? n !== 1 && n !== 2 : n !== 3 && n !== 4 && f.connectPath === undefined && f.listenPath === undefined) return undefined;
  if (!dynamic && (f.connectPort ?? 0) <= 0 && f.connectPath === undefined) return undefined;
  if (f.listenPath === undefined && ((f.listenPort ?? -1) < 0 || (!remote && f.listenPort === 0))) return undefined;
  // NI_MAXHOST (1025) for names, the size of sun_path (108) for paths, as ssh.
  if ((f.connectHost?.length ?? 0) >= 1025 || (f.listenHost?.length ?? 0) >= 1025) return undefined;
  if ((f.connectPath?.length ?? 0) >= 108 || (f.listenPath?.length ?? 0) >= 108) return undefined;
  return f;
}

const EXPECTED = {
  L: '[bind_address:]port:host:hostport, [bind_address:]port:/remote/socket, /local/socket:host:hostport or /local/socket:/remote/socket',
  R: '[bind_address:]port:host:hostport, [bind_address:]port:/local/socket, /remote/socket:host:hostport or /remote/socket:/local/socket',
  D: '[bind_address:]port or /local/socket',
};

/** Parses ssh's `-L`, `-R` and `-D` arguments; what ssh refuses, or rxssh cannot do, is a usage error naming it. */
export function forwardPlan(local: readonly string[], remote: readonly string[], dynamic: readonly string[]): ForwardPlan {
  const bad = (flag: 'L' | 'R' | 'D', spec: string, why = `expected ${EXPECTED[flag]}`): never => {
    throw new UsageError(`-${flag} ${JSON.stringify(spec)}: bad forwarding specification (${why})`);
  };
  const target = (f: ParsedForward): ForwardTarget => (f.connectPath !== undefined ? { path: f.connectPath } : { host: f.connectHost as string, port: f.connectPort as number });
  // As ssh: an empty address or `*` is every interface; none at all is GatewayPorts' choice (forwardsFor()).
  const listenAddress = (f: ParsedForward): BindAddress =>
    f.listenPath !== undefined ? { path: f.listenPath } : { ...(f.listenHost !== undefined ? { host: f.listenHost === '' ? '*' : f.listenHost } : {}), port: f.listenPort as number };
  return {
    local: local.map((spec) => {
      const f = parseForward(spec, false, false) ?? bad('L', spec);
      return { bind: listenAddress(f), to: target(f) };
    }),
    remote: remote.map((spec) => {
      const f = parseForward(spec, false, true) ?? parseForward(spec, true, true) ?? bad('R', spec);
      if (f.connectHost === 'socks' && f.connectPort === undefined) bad('R', spec, 'rxssh does not run a SOCKS proxy for the server (-R without a destination)');
      if (f.listenPath !== undefined) return { listen: { path: f.listenPath }, to: target(f) };
      // No address: the server's loopback; an empty one or `*`: every interface its GatewayPorts allows (ssh sends "").
      return { listen: { host: f.listenHost === undefined ? '127.0.0.1' : f.listenHost === '*' ? '' : f.listenHost, port: f.listenPort as number }, to: target(f) };
    }),
    dynamic: dynamic.map((spec) => {
      const f = parseForward(spec, true, false) ?? bad('D', spec);
      if (f.connectPath !== undefined) bad('D', spec, 'with a destination it is a local forward, not a SOCKS proxy: use -L');
      return listenAddress(f);
    }),
  };
}

/**
 * The forwards as the host's ssh_config has them: none with `ClearAllForwardings yes`;
 * `GatewayPorts yes` makes the local and dynamic forwards given without an address listen on
 * every interface; Unix socket listeners take `StreamLocalBindMask` and `StreamLocalBindUnlink`.
 */
export function forwardsFor(plan: ForwardPlan, host: SshConfigHost): ForwardPlan {
  if (host.clearAllForwardings) return { local: [], remote: [], dynamic: [] };
  const bind = (b: BindAddress): BindAddress =>
    b.path !== undefined ? { ...b, mask: host.streamLocalBindMask, unlink: host.streamLocalBindUnlink } : host.gatewayPorts && b.host === undefined ? { ...b, host: '*' } : b;
  return { local: plan.local.map((f) => ({ ...f, bind: bind(f.bind) })), remote: plan.remote, dynamic: plan.dynamic.map(bind) };
}

/** A forward in `ssh -G`'s words (`8080 [db]:80`, `/tmp/s /run/d.sock`, `[*]:1080`): what the parity spec compares. */
export function sshGWords(f: ParsedForward, dynamic: boolean): string {
  const listen = f.listenPath ?? (f.listenHost === undefined ? String(f.listenPort) : `[${f.listenHost}]:${f.listenPort}`);
  if (dynamic) return listen;
  const connect = f.connectPath ?? (f.connectHost === undefined ? String(f.connectPort) : `[${f.connectHost}]:${f.connectPort ?? 0}`);
  return `${listen} ${connect}`;
}
