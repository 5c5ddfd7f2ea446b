/**
 * A resolved host in `ssh -G`'s words: what `rxssh exec -G HOST` prints, and what the parity
 * specs hold against the machine's `ssh -G`, keyword by keyword.
 */
import { DEFAULT_CA_SIGNATURE_ALGORITHMS } from '../auth/certificate.js';
import { DEFAULT_PUBKEY_ALGORITHMS } from '../auth/signature-algorithms.js';
import { OPENSSH_ALGORITHMS, sshAlgorithmList } from './algorithms.js';
import type { SshForward } from './forwards.js';
import type { SshConfigHost } from './ssh-config.js';

/** OpenSSH's default IdentityFile list, as `ssh -G` prints it when the config names none. */
const DEFAULT_IDENTITY_FILES = ['~/.ssh/id_rsa', '~/.ssh/id_ecdsa', '~/.ssh/id_ecdsa_sk', '~/.ssh/id_ed25519', '~/.ssh/id_ed25519_sk', '~/.ssh/id_xmss', '~/.ssh/id_dsa'];

/** A forward as ssh -G prints it: `8080 [db]:80`, `/tmp/s /run/d.sock`, `[*]:1080`, `1080 [socks]:0`. */
function forwardWords(f: SshForward): string {
  const listen = 'path' in f.listen ? f.listen.path : f.listen.host === undefined ? String(f.listen.port) : `[${f.listen.host}]:${f.listen.port}`;
  if (f.kind === 'dynamic') return listen;
  const connect = f.connect === undefined ? '[socks]:0' : 'path' in f.connect ? f.connect.path : `[${f.connect.host}]:${f.connect.port}`;
  return `${listen} ${connect}`;
}

const yesNo = (on: boolean): string => (on ? 'yes' : 'no');

/**
 * Each keyword rxssh honours, with the values it resolved for `host` written as `ssh -G` writes
 * them (lower-case keyword; an empty list where ssh prints no line), in one fixed order. Paths
 * and commands appear as `ssh -G` shows them (IdentityFile, ProxyCommand unexpanded); the rest
 * as rxssh will use them.
 *
 * @example
 * ```ts
 * import { fromSshConfig, sshConfigValues } from 'rxssh';
 *
 * for (const [keyword, values] of sshConfigValues(fromSshConfig('web1')))
 *   for (const value of values) console.log(`${keyword} ${value}`);
 * ```
 */
export function sshConfigValues(host: SshConfigHost): ReadonlyArray<readonly [string, readonly string[]]> {
  const h = host;
  const raw = (k: string): string[] => {
    const v = h.raw[k];
    return v === undefined ? [] : Array.isArray(v) ? [...(v as string[])] : [v as string];
  };
  const identities = raw('identityfile');
  const agent = h.addKeysToAgent;
  const forwards = h.forwards ?? [];
  return [
    ['hostname', [h.host]],
    ['user', [h.username ?? '']],
    ['port', [String(h.port ?? 22)]],
    ['proxyjump', h.proxyJump ? [h.proxyJump] : []],
    ['proxycommand', h.proxyCommand !== undefined ? raw('proxycommand') : []],
    ['identityfile', identities.length ? identities : DEFAULT_IDENTITY_FILES],
    ['certificatefile', raw('certificatefile')],
    ['identitiesonly', [yesNo(h.identitiesOnly)]],
    ['identityagent', h.identityAgent === null ? ['none'] : h.identityAgent === undefined ? (raw('identityagent').length ? ['SSH_AUTH_SOCK'] : []) : [h.identityAgent]],
    ['stricthostkeychecking', [{ yes: 'true', no: 'false', ask: 'ask', 'accept-new': 'accept-new' }[h.strictHostKeyChecking]]],
    ['userknownhostsfile', [h.userKnownHostsFiles.join(' ')]],
    ['globalknownhostsfile', [h.globalKnownHostsFiles.join(' ')]],
    ['hashknownhosts', [yesNo(h.hashKnownHosts)]],
    ['stdinnull', [yesNo(h.stdinNull)]],
    ['gatewayports', [yesNo(h.gatewayPorts)]],
    ['tcpkeepalive', [yesNo(h.tcpKeepAlive !== false)]],
    ['clearallforwardings', [yesNo(h.clearAllForwardings)]],
    ['checkhostip', [yesNo(h.checkHostIp)]],
    ['numberofpasswordprompts', [String(h.numberOfPasswordPrompts)]],
    // ssh -G writes a control character as \^X.
    ['escapechar', [h.escapeChar === null ? 'none' : h.escapeChar.charCodeAt(0) < 32 ? `\\^${String.fromCharCode(h.escapeChar.charCodeAt(0) + 64)}` : h.escapeChar]],
    ['loglevel', [h.logLevel === 'QUIET' ? 'SILENT' : h.logLevel]],
    ['addkeystoagent', [agent === undefined ? 'false' : `${agent.confirm ? 'confirm' : ''}${agent.confirm && agent.lifetime ? ' ' : ''}${agent.lifetime ?? (agent.confirm ? '' : 'true')}`]],
    // A local forward to a socket is listed under dynamicforward too (ssh's dump does so).
    ['localforward', forwards.filter((f) => f.kind === 'local').map(forwardWords)],
    ['remoteforward', forwards.filter((f) => f.kind === 'remote').map(forwardWords)],
    ['dynamicforward', forwards.filter((f) => f.kind === 'dynamic' || (f.kind === 'local' && f.connect !== undefined && 'path' in f.connect)).map((f) => forwardWords(f).split(' ')[0] as string)],
    ['streamlocalbindmask', [`0${h.streamLocalBindMask.toString(8)}`]],
    ['streamlocalbindunlink', [yesNo(h.streamLocalBindUnlink)]],
    ['rekeylimit', [`${h.rekeyLimit?.bytes ?? 0} ${(h.rekeyLimit?.interval ?? 0) / 1000}`]],
    ['connecttimeout', [h.connectTimeout === undefined ? 'none' : String(h.connectTimeout)]],
    ['serveraliveinterval', [String(h.serverAliveInterval ?? 0)]],
    ['serveralivecountmax', [String(h.serverAliveCountMax ?? 3)]],
    ['forwardagent', [yesNo(h.forwardAgent === true)]],
    ['hostkeyalias', raw('hostkeyalias')],
    ['batchmode', [yesNo(h.batchMode)]],
    // ssh's lists as ssh prints them; h.algorithms is what rxssh negotiates of them.
    ...(['ciphers', 'macs', 'kexalgorithms', 'hostkeyalgorithms'] as const).map((k): [string, string[]] => {
      const value = raw(k)[0];
      const list = value === undefined ? OPENSSH_ALGORITHMS[k].default : sshAlgorithmList(k, value);
      return [k, [Array.isArray(list) ? list.join(',') : String(list)]];
    }),
    ['compression', [yesNo(h.algorithms?.compress !== undefined)]],
    ['bindaddress', h.localAddress ? [h.localAddress] : []],
    ['addressfamily', [h.addressFamily ?? 'any']],
    ['connectionattempts', [String(h.connectionAttempts ?? 1)]],
    ['requesttty', [{ yes: 'true', no: 'false', force: 'force', auto: 'auto' }[h.requestTty]]],
    ['remotecommand', h.remoteCommand !== undefined ? [h.remoteCommand] : []],
    ['casignaturealgorithms', [(h.caSignatureAlgorithms ?? DEFAULT_CA_SIGNATURE_ALGORITHMS).join(',')]],
    ['pubkeyacceptedalgorithms', [(h.pubkeyAlgorithms ?? DEFAULT_PUBKEY_ALGORITHMS).join(',')]],
  ];
}
