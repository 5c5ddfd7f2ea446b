/**
 * `ssh -G` and rxssh's resolution side by side, for the parity specs: a seeded generator, ssh's
 * output read into keyword → values, and a resolved host written in ssh -G's words.
 */
import { execFileSync } from 'node:child_process';
import type { SshConfigHost, SshForward } from '../../lib/index.js';
import { OPENSSH_ALGORITHMS, sshAlgorithmList } from '../../lib/config/algorithms.js';
import { DEFAULT_CA_SIGNATURE_ALGORITHMS } from '../../lib/auth/certificate.js';
import { DEFAULT_PUBKEY_ALGORITHMS } from '../../lib/auth/signature-algorithms.js';

/** A config to resolve: the file, and `-o` lines. */
export interface Generated {
  readonly file: string;
  readonly extra: string[];
  readonly text: string;
}

/** A small seeded generator (mulberry32). */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `ssh -G` for an alias: keyword → values (lines in order), or the error it stopped with. */
export function sshG(g: Generated, alias: string): Map<string, string[]> | Error {
  const args = ['-G', '-F', g.file, ...g.extra.flatMap((l) => ['-o', l.replace(' ', '=')]), alias];
  let out: string;
  try {
    out = execFileSync('ssh', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    return new Error(String((err as { stderr?: string }).stderr ?? err));
  }
  const map = new Map<string, string[]>();
  for (const line of out.split('\n')) {
    const at = line.indexOf(' ');
    if (at > 0) map.set(line.slice(0, at).toLowerCase(), [...(map.get(line.slice(0, at).toLowerCase()) ?? []), line.slice(at + 1)]);
  }
  return map;
}

/** A forward as ssh -G prints it: `8080 [db]:80`, `/tmp/s /run/d.sock`, `[*]:1080`, `1080 [socks]:0`. */
function forwardWords(f: SshForward): string {
  const listen = 'path' in f.listen ? f.listen.path : f.listen.host === undefined ? String(f.listen.port) : `[${f.listen.host}]:${f.listen.port}`;
  if (f.kind === 'dynamic') return listen;
  const connect = f.connect === undefined ? '[socks]:0' : 'path' in f.connect ? f.connect.path : `[${f.connect.host}]:${f.connect.port}`;
  return `${listen} ${connect}`;
}

/** What rxssh resolved, in ssh -G's words, for the keywords both know. */
export function ours(h: SshConfigHost): Record<string, string[]> {
  const raw = (k: string): string[] => {
    const v = h.raw[k];
    return v === undefined ? [] : Array.isArray(v) ? [...v] : [v as string];
  };
  const strict = { yes: 'true', no: 'false', ask: 'ask', 'accept-new': 'accept-new' }[h.strictHostKeyChecking];
  const identities = raw('identityfile');
  return {
    hostname: [h.host],
    user: [h.username],
    port: [String(h.port)],
    proxyjump: h.proxyJump ? [h.proxyJump] : [],
    proxycommand: h.proxyCommand !== undefined ? raw('proxycommand') : [],
    identityfile: identities.length ? identities : ['~/.ssh/id_rsa', '~/.ssh/id_ecdsa', '~/.ssh/id_ecdsa_sk', '~/.ssh/id_ed25519', '~/.ssh/id_ed25519_sk', '~/.ssh/id_xmss', '~/.ssh/id_dsa'],
    certificatefile: raw('certificatefile'),
    identitiesonly: [h.identitiesOnly ? 'yes' : 'no'],
    identityagent: h.identityAgent === null ? ['none'] : h.identityAgent === undefined ? (raw('identityagent').length ? ['SSH_AUTH_SOCK'] : []) : [h.identityAgent],
    stricthostkeychecking: [strict],
    userknownhostsfile: [h.userKnownHostsFiles.join(' ')],
    globalknownhostsfile: [h.globalKnownHostsFiles.join(' ')],
    hashknownhosts: [h.hashKnownHosts ? 'yes' : 'no'],
    stdinnull: [h.stdinNull ? 'yes' : 'no'],
    gatewayports: [h.gatewayPorts ? 'yes' : 'no'],
    tcpkeepalive: [h.tcpKeepAlive === false ? 'no' : 'yes'],
    clearallforwardings: [h.clearAllForwardings ? 'yes' : 'no'],
    checkhostip: [h.checkHostIp ? 'yes' : 'no'],
    numberofpasswordprompts: [String(h.numberOfPasswordPrompts)],
    // ssh -G writes a control character as \^X.
    escapechar: [h.escapeChar === null ? 'none' : h.escapeChar.charCodeAt(0) < 32 ? `\\^${String.fromCharCode(h.escapeChar.charCodeAt(0) + 64)}` : h.escapeChar],
    loglevel: [h.logLevel === 'QUIET' ? 'SILENT' : h.logLevel],
    addkeystoagent: [h.addKeysToAgent === undefined ? 'false' : `${h.addKeysToAgent.confirm ? 'confirm' : ''}${h.addKeysToAgent.confirm && h.addKeysToAgent.lifetime ? ' ' : ''}${h.addKeysToAgent.lifetime ?? (h.addKeysToAgent.confirm ? '' : 'true')}`],
    // In ssh -G's words; a local forward to a socket is listed under dynamicforward too (its dump does so).
    localforward: (h.forwards ?? []).filter((f) => f.kind === 'local').map(forwardWords),
    remoteforward: (h.forwards ?? []).filter((f) => f.kind === 'remote').map(forwardWords),
    dynamicforward: (h.forwards ?? []).filter((f) => f.kind === 'dynamic' || (f.kind === 'local' && f.connect !== undefined && 'path' in f.connect)).map((f) => forwardWords(f).split(' ')[0] as string),
    streamlocalbindmask: [`0${h.streamLocalBindMask.toString(8)}`],
    streamlocalbindunlink: [h.streamLocalBindUnlink ? 'yes' : 'no'],
    rekeylimit: [`${h.rekeyLimit?.bytes ?? 0} ${(h.rekeyLimit?.interval ?? 0) / 1000}`],
    connecttimeout: [h.connectTimeout === undefined ? 'none' : String(h.connectTimeout)],
    serveraliveinterval: [String(h.serverAliveInterval ?? 0)],
    serveralivecountmax: [String(h.serverAliveCountMax ?? 3)],
    forwardagent: [h.forwardAgent ? 'yes' : 'no'],
    hostkeyalias: raw('hostkeyalias'),
    batchmode: [/^(yes|true)$/i.test(raw('batchmode')[0] ?? '') ? 'yes' : 'no'],
    // ssh's lists (what ssh -G prints); h.algorithms is what rxssh negotiates of them.
    ...Object.fromEntries(
      (['ciphers', 'macs', 'kexalgorithms', 'hostkeyalgorithms'] as const).map((k) => {
        const value = raw(k)[0];
        const list = value === undefined ? OPENSSH_ALGORITHMS[k].default : sshAlgorithmList(k, value);
        return [k, [Array.isArray(list) ? list.join(',') : String(list)]];
      }),
    ),
    compression: [h.algorithms?.compress ? 'yes' : 'no'],
    bindaddress: h.localAddress ? [h.localAddress] : [],
    addressfamily: [h.addressFamily ?? 'any'],
    connectionattempts: [String(h.connectionAttempts ?? 1)],
    requesttty: [{ yes: 'true', no: 'false', force: 'force', auto: 'auto' }[h.requestTty]],
    remotecommand: h.remoteCommand !== undefined ? [h.remoteCommand] : [],
    casignaturealgorithms: [(h.caSignatureAlgorithms ?? DEFAULT_CA_SIGNATURE_ALGORITHMS).join(',')],
    pubkeyacceptedalgorithms: [(h.pubkeyAlgorithms ?? DEFAULT_PUBKEY_ALGORITHMS).join(',')],
  };
}

