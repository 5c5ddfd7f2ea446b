/**
 * `rxssh exec`'s forwards: its `-L`, `-R` and `-D` checked (read by util/forward-spec.ts as ssh
 * reads them), then the host's forwards (those and the config's `LocalForward`, `RemoteForward`,
 * `DynamicForward`) as the library's, with what the config says about them: `GatewayPorts`,
 * `StreamLocalBindMask` and `StreamLocalBindUnlink` (`ClearAllForwardings` is the config's).
 */
import type { BindAddress, CommandLineForwards, SshConfigHost, SshForward } from '../index.js';
import { parseForward } from '../util/forward-spec.js';
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

const EXPECTED = {
  L: '[bind_address:]port:host:hostport, [bind_address:]port:/remote/socket, /local/socket:host:hostport or /local/socket:/remote/socket',
  R: '[bind_address:]port:host:hostport, [bind_address:]port:/local/socket, /remote/socket:host:hostport or /remote/socket:/local/socket',
  D: '[bind_address:]port or /local/socket',
};

/** The command line's `-L`, `-R` and `-D` checked: what ssh refuses, or rxssh cannot do, is a usage error naming it. */
export function checkForwardSpecs(local: readonly string[], remote: readonly string[], dynamic: readonly string[]): CommandLineForwards {
  const bad = (flag: 'L' | 'R' | 'D', spec: string, why = `expected ${EXPECTED[flag]}`): never => {
    throw new UsageError(`-${flag} ${JSON.stringify(spec)}: bad forwarding specification (${why})`);
  };
  for (const spec of local) if (!parseForward(spec, false, false)) bad('L', spec);
  for (const spec of remote) {
    const f = parseForward(spec, false, true) ?? parseForward(spec, true, true) ?? bad('R', spec);
    if (f.connectHost === 'socks' && f.connectPort === undefined) bad('R', spec, NO_REMOTE_SOCKS);
  }
  for (const spec of dynamic) {
    const f = parseForward(spec, true, false) ?? bad('D', spec);
    if (f.connectPath !== undefined) bad('D', spec, NOT_SOCKS);
  }
  return { local, remote, dynamic };
}

const NO_REMOTE_SOCKS = 'rxssh does not run a SOCKS proxy for the server (-R without a destination)';
const NOT_SOCKS = 'with a destination it is a local forward, not a SOCKS proxy: use -L';

/**
 * The host's forwards (the command line's and its config's, as `fromSshConfig` resolved them;
 * none with `ClearAllForwardings yes`) as the library's: `GatewayPorts yes` makes the local and
 * dynamic ones given without an address listen on every interface; Unix socket listeners take
 * `StreamLocalBindMask` and `StreamLocalBindUnlink`. A config line rxssh cannot set up is an
 * error naming it.
 */
export function forwardPlan(host: SshConfigHost): ForwardPlan {
  const local: Array<ForwardPlan['local'][number]> = [];
  const remote: Array<ForwardPlan['remote'][number]> = [];
  const dynamic: BindAddress[] = [];
  const refuse = (f: SshForward, why: string): never => {
    throw new Error(`${f.written} (${f.origin}): ${why}`);
  };
  // As ssh: an empty address or `*` is every interface; none at all is GatewayPorts' choice.
  const bind = (l: SshForward['listen']): BindAddress =>
    'path' in l
      ? { path: l.path, mask: host.streamLocalBindMask, unlink: host.streamLocalBindUnlink }
      : { ...(l.host !== undefined ? { host: l.host === '' ? '*' : l.host } : host.gatewayPorts ? { host: '*' } : {}), port: l.port };
  for (const f of host.forwards ?? []) {
    if (f.kind === 'local') local.push({ bind: bind(f.listen), to: f.connect ?? refuse(f, NOT_SOCKS) });
    else if (f.kind === 'dynamic') dynamic.push(f.connect ? refuse(f, NOT_SOCKS) : bind(f.listen));
    else {
      const to = f.connect ?? refuse(f, NO_REMOTE_SOCKS);
      // No address: the server's loopback; an empty one or `*`: every interface its GatewayPorts allows (ssh sends "").
      remote.push({ listen: 'path' in f.listen ? f.listen : { host: f.listen.host === undefined ? '127.0.0.1' : f.listen.host === '*' ? '' : f.listen.host, port: f.listen.port }, to });
    }
  }
  return { local, remote, dynamic };
}
