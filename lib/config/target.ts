/**
 * Where to connect, as a target: `[user@]host[:port]` parsed, and the target shape that
 * `openConnection`, `connectAlias`'s jump hosts, `fanOut` and the queue share.
 *
 * @module
 */
import { checkNumber, PORT } from '../util/check.js';

/**
 * One host to run on.
 *
 * @example
 * ```ts
 * import { type FanOutTarget } from 'rxssh';
import { fanOut } from 'rxssh/fleet';
 *
 * const targets: FanOutTarget[] = [{ host: '10.0.0.5', port: 2222, username: 'deploy', label: 'db1' }];
 * fanOut(targets, pipeline);
 * ```
 */
export interface FanOutTarget {
  /** Host name or address. */
  readonly host: string;
  /** Port, when not the default. */
  readonly port?: number;
  /** User, when not the default. */
  readonly username?: string;
  /**
   * How the host is named in results and output (default: `[user@]host[:port]` made from the
   * fields; `parseHostSpec` keeps the spec as written).
   */
  readonly label?: string;
  /** The ssh_config alias this target came from (see `sshConfigTargets`), if any. */
  readonly alias?: string;
}

/**
 * A target as a run sees it: its label always set (given, or made from its fields).
 *
 * @example
 * ```ts
 * import { run, type LabelledTarget } from 'rxssh';
import { fanOut } from 'rxssh/fleet';
import { checkNumber, PORT } from '../util/check.js';
 *
 * fanOut([{ host: 'web1' }], (t: LabelledTarget) => connectTo(t).pipe(run(`echo ${t.label}`)));
 * ```
 */
export interface LabelledTarget extends FanOutTarget {
  /** How the host is named in results and output. */
  readonly label: string;
}

/** A target's name in results: its label, or `[user@]host[:port]` (IPv6 in brackets with a port). */
export function labelOf(t: FanOutTarget): string {
  if (t.label) return t.label;
  const host = t.port !== undefined && t.host.includes(':') ? `[${t.host}]` : t.host;
  return `${t.username ? `${t.username}@` : ''}${host}${t.port !== undefined ? `:${t.port}` : ''}`;
}

/**
 * Parses `[user@]host[:port]` (IPv6 as `[addr]:port` or bare). Throws TypeError when empty or malformed.
 *
 * @example
 * ```ts
 * import { parseHostSpec } from 'rxssh';
 *
 * parseHostSpec('deploy@web1:2222'); // { host: 'web1', port: 2222, username: 'deploy', label: 'deploy@web1:2222' }
 * ```
 */
export function parseHostSpec(spec: string): LabelledTarget {
  const text = spec.trim();
  const m = /^(?:([^@\s]+)@)?(\[[^\]]+\]|[^:\s]+|[0-9a-fA-F:]+)(?::(\d+))?$/.exec(text);
  const ipv6Bare = /^(?:([^@\s]+)@)?([0-9a-fA-F]*:[0-9a-fA-F:]+)$/.exec(text);
  const match = ipv6Bare && !text.includes('[') ? [text, ipv6Bare[1], ipv6Bare[2], undefined] : m;
  if (!text || !match || !match[2]) throw new TypeError(`not a host spec ([user@]host[:port]): ${JSON.stringify(spec)}`);
  const host = match[2].replace(/^\[(.*)\]$/, '$1');
  // No empty user (`@host`), no `@` left in the host (`user@`, `a@b@c`), no bare `:port`.
  if (host === '' || host.includes('@') || host.startsWith(':') && !host.startsWith('::') || (host.includes(':') && host.split(':').length < 3)) {
    throw new TypeError(`not a host spec ([user@]host[:port]): ${JSON.stringify(spec)}`);
  }
  const port = match[3] === undefined ? undefined : Number(match[3]);
  if (port !== undefined) checkNumber(`the port of ${JSON.stringify(spec)}`, port, PORT);
  return { host, ...(port !== undefined ? { port } : {}), ...(match[1] ? { username: match[1] } : {}), label: text };
}
