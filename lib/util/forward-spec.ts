/**
 * ssh's forward specifications (`-L`, `-R`, `-D` and the `LocalForward`, `RemoteForward`,
 * `DynamicForward` lines) as readconf.c's parse_forward reads them: up to four fields split at
 * `:`, a field in `[...]` taken literally (an IPv6 address), a backslash escaping the next
 * character, a field with a `/` a Unix socket path; ports as numbers or service names.
 */
import { readFileSync } from 'node:fs';

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

/** A forward in `ssh -G`'s words (`8080 [db]:80`, `/tmp/s /run/d.sock`, `[*]:1080`): what the parity spec compares. */
export function sshGWords(f: ParsedForward, dynamic: boolean): string {
  const listen = f.listenPath ?? (f.listenHost === undefined ? String(f.listenPort) : `[${f.listenHost}]:${f.listenPort}`);
  if (dynamic) return listen;
  const connect = f.connectPath ?? (f.connectHost === undefined ? String(f.connectPort) : `[${f.connectHost}]:${f.connectPort ?? 0}`);
  return `${listen} ${connect}`;
}

/**
 * The one specification ssh makes of a `LocalForward`, `RemoteForward` or `DynamicForward`
 * line (`LocalForward 8080 db:80` is `-L 8080:db:80`; `RemoteForward 1080` alone is a SOCKS
 * proxy for the server), with the command-line letter it stands for; undefined where ssh says
 * "Bad forwarding specification" (or "Missing target argument").
 */
export function configForward(keyword: string, args: readonly string[]): { readonly flag: 'L' | 'R' | 'D'; readonly spec: string } | undefined {
  const kind = keyword.toLowerCase();
  const remote = kind === 'remoteforward';
  let dynamic = kind === 'dynamicforward';
  const [listen, target, ...rest] = args;
  if (!listen || rest.length > 0 || (dynamic && target !== undefined)) return undefined;
  let spec = listen;
  if (!dynamic) {
    if (target === undefined || target === '') {
      if (!remote) return undefined;
      dynamic = true; // a remote SOCKS proxy
    } else spec = `${listen}:${target}`;
  }
  if (!parseForward(spec, dynamic, remote)) return undefined;
  return { flag: remote ? 'R' : dynamic ? 'D' : 'L', spec };
}
