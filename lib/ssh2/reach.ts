/**
 * The one place where rxssh reaches inside ssh2 past its public API. Each reach-in is
 * pinned by spec/ssh2/reach.spec.ts, which breaks if ssh2 changes the shape used.
 */
import { createRequire } from 'node:module';
import type { ClientChannel } from 'ssh2';
import { AGENT_SIGNER, CERTIFICATE, certificateAlgorithm, wireString, type AgentSigner, type ParsedCertificate } from '../auth/certificate.js';

// `any` is allowed in this file only (see eslint.config.js): ssh2's internals are untyped.

/**
 * Sends an SSH "signal" channel request.
 *
 * ssh2's public `Channel.signal()` silently does nothing once EOF was sent (it checks
 * `writable` and `outgoing.state === 'open'`), although RFC 4254 §6.9 allows a signal at any
 * time before the channel is closed, and OpenSSH (≥ 7.9) honours it. After `complete()` the
 * remote process must still be stoppable, so this calls the protocol layer directly while our
 * side of the channel is `open` or `eof`.
 *
 * @returns true when the request was sent.
 */
/**
 * Whether a live client can send signals the way {@link sendSignal} does (its protocol object
 * has `signal()`): checked at connect, so that a cancel can never silently stop signalling the
 * remote process.
 */
export function signalsReachable(client: object): boolean {
  return typeof (client as any)._protocol?.signal === 'function';
}

export function sendSignal(channel: ClientChannel, signal: string): boolean {
  const chan = channel as any;
  const state: unknown = chan.outgoing?.state;
  if (state !== 'open' && state !== 'eof') return false;
  const protocol = chan._client?._protocol;
  if (typeof protocol?.signal !== 'function') return false;
  try {
    protocol.signal(chan.outgoing.id, signal);
    return true;
  } catch {
    return false;
  }
}

/** The peer's maximum packet size for the channel (0 is hostile: ssh2 would spin, ssh2#1504). */
export function outgoingPacketSize(channel: ClientChannel): number | undefined {
  const size: unknown = (channel as any).outgoing?.packetSize;
  return typeof size === 'number' ? size : undefined;
}

/**
 * Makes an ssh2 *server* session keep honouring channel requests (such as `signal`) after the
 * client's EOF, as OpenSSH does and RFC 4254 allows. ssh2 sets `_ending` on EOF and then
 * ignores every request; the in-process test server clears it again so that it behaves like
 * sshd for cancel-after-EOF. `_ending` is set again on CHANNEL_CLOSE.
 */
export function allowRequestsAfterEof(session: object): void {
  const s = session as any;
  if (typeof s._ending !== 'boolean' || typeof s.on !== 'function') return;
  s.on('eof', () => {
    s._ending = false;
  });
}

/**
 * Keeps a session channel open until the server closes it (or rxssh closes it on purpose).
 * Node's streams destroy a Duplex once both sides ended (`autoDestroy`), and ssh2's `destroy()`
 * sends CHANNEL_CLOSE: after our EOF and the server's EOF, that CLOSE went out before the
 * server's `exit-status`. Servers that send EOF first and the status later (Twisted Conch) then
 * drop the status, and the destroy's own 'close' event ended the run without one — a command
 * that exited 0 reported as failed. OpenSSH's `ssh` waits for the server's CLOSE too.
 *
 * @returns false when the stream's state is not shaped as expected (nothing was changed).
 */
export function closeOnlyWhenServerCloses(channel: ClientChannel): boolean {
  const states = [(channel as any)._readableState, (channel as any)._writableState, (channel.stderr as any)?._readableState];
  if (!states.every((state) => typeof state === 'object' && state !== null && typeof state.autoDestroy === 'boolean')) return false;
  for (const state of states) state.autoDestroy = false;
  return true;
}

/** Whether the server has ended its side of the channel (sent EOF or CLOSE). */
export function serverEnded(channel: ClientChannel): boolean {
  const state: unknown = (channel as any).incoming?.state;
  return state === 'eof' || state === 'closed';
}

/**
 * Polices what the server sends on a channel, which ssh2 does not: data larger than the
 * channel's remaining receive window (ssh2#1505: ssh2 drops data that arrives when the window is
 * exactly 0 and otherwise lets the window go negative and buffers without limit), and data after
 * the server's own EOF (RFC 4254 §5.3; ssh2 drops it silently). Wraps ssh2's CHANNEL_DATA /
 * CHANNEL_EXTENDED_DATA handlers (they live on the client's protocol object once `connect()`
 * ran): such data is not passed on and `onViolation` gets the channel and what was wrong.
 *
 * @returns false when ssh2's internals are not shaped as expected (nothing was wrapped).
 */
export function policeChannels(client: object, onViolation: (channel: ClientChannel, what: string) => void): boolean {
  const c = client as any;
  const handlers = c._protocol?._handlers;
  const channels = c._chanMgr;
  if (!handlers || typeof channels?.get !== 'function') return false;
  for (const name of ['CHANNEL_DATA', 'CHANNEL_EXTENDED_DATA']) {
    const original = handlers[name];
    if (typeof original !== 'function') return false;
    // ssh2 calls these with (protocol, recipient, data) and, for extended data, its type: four
    // named parameters rather than a rest array, as this runs for every packet of every channel.
    handlers[name] = (p: unknown, recipient: number, data: Buffer, type?: unknown) => {
      const channel = channels.get(recipient);
      if (typeof channel === 'object' && channel !== null && typeof channel.incoming === 'object' && channel.incoming !== null) {
        const { window, state } = channel.incoming as { window?: unknown; state?: unknown };
        const what = typeof window === 'number' && data.length > window ? 'data past the channel window' : state === 'eof' ? 'data after its EOF' : undefined;
        if (what !== undefined) {
          onViolation(channel as ClientChannel, what);
          return undefined;
        }
      }
      return original(p, recipient, data, type);
    };
  }
  // After the server's EOF, ssh2 re-opens the receive window only from the stream's _read, which
  // Node never calls once the stream has ended: a server that sent EOF while data of its own was
  // still waiting for window (Twisted Conch does under load) then waits forever, and so do we.
  // The window is re-opened at EOF instead, so what such a server still sends arrives — and is
  // refused above as data after EOF, a typed error instead of a silent stall.
  const onEof = handlers.CHANNEL_EOF;
  if (typeof onEof !== 'function' || typeof channelWindowAdjust !== 'function') return false;
  handlers.CHANNEL_EOF = (p: unknown, recipient: number, ...rest: unknown[]) => {
    const result = onEof(p, recipient, ...rest);
    const channel = channels.get(recipient);
    if (typeof channel === 'object' && channel !== null && channel._waitChanDrain === true) {
      channel._waitChanDrain = false;
      channelWindowAdjust(channel);
    }
    return result;
  };
  return true;
}

/** ssh2's own window adjustment of a channel (re-opens it to its full size). */
const channelWindowAdjust: ((channel: object) => void) | undefined = (() => {
  try {
    const fn: unknown = (createRequire(import.meta.url)('ssh2/lib/Channel.js') as { windowAdjust?: unknown }).windowAdjust;
    return typeof fn === 'function' ? (fn as (channel: object) => void) : undefined;
  } catch {
    return undefined;
  }
})();

/**
 * The largest read and write an SFTP session sends in one request: what the server announced
 * through `limits@openssh.com`, or ssh2's own guess (OpenSSH's 256 KiB less overhead, 31952
 * bytes for other servers). ssh2 splits longer requests, so transfers size theirs to fit.
 */
export function sftpRequestLimits(sftp: object): { read: number; write: number } | undefined {
  const read: unknown = (sftp as any)._maxReadLen;
  const write: unknown = (sftp as any)._maxWriteLen;
  return typeof read === 'number' && typeof write === 'number' && read > 0 && write > 0 ? { read, write } : undefined;
}

/** ssh2's packet sender (it queues during a key exchange), or undefined if it moved. */
const sendPacket: ((proto: object, packet: Buffer) => unknown) | undefined = (() => {
  try {
    const fn: unknown = (createRequire(import.meta.url)('ssh2/lib/protocol/utils.js') as { sendPacket?: unknown }).sendPacket;
    return typeof fn === 'function' ? (fn as (proto: object, packet: Buffer) => unknown) : undefined;
  } catch {
    return undefined;
  }
})();

/** Sends SSH_MSG_IGNORE with empty data (RFC 4253 §11.2: always allowed, never answered). */
function sendIgnore(proto: any): boolean {
  const writer = proto?._packetRW?.write;
  if (!sendPacket || typeof writer?.alloc !== 'function' || typeof writer.finalize !== 'function') return false;
  const at: number = writer.allocStart;
  const packet: Buffer = writer.alloc(5);
  packet[at] = 2; // SSH_MSG_IGNORE
  packet.writeUInt32BE(0, at + 1); // string data, empty
  sendPacket(proto, writer.finalize(packet));
  return true;
}

/**
 * Stops ssh2 from answering OpenSSH's `hostkeys-00@openssh.com` announcement (sent after every
 * login) with a `hostkeys-prove-00@openssh.com` request. ssh2 does that on every connection, so
 * the server signs with each of its host keys (RSA included) and the client verifies each
 * signature — about 3 ms of server CPU and some client CPU per connection, for a result
 * (ssh2's 'hostkeys' event) rxssh does not use. OpenSSH's own client asks for proofs only when
 * `UpdateHostKeys` has new keys to learn.
 *
 * Saying nothing instead would cost ~40 ms per connection: sshd sends the announcement and the
 * channel confirmation as separate small segments with Nagle on, so the confirmation waits for
 * the client's delayed ACK. An SSH_MSG_IGNORE in reply carries that ACK at once.
 *
 * @returns false when ssh2's internals are not shaped as expected (nothing was changed).
 */
export function skipHostKeyProofs(client: object): boolean {
  const handlers = (client as any)._protocol?._handlers;
  const original = handlers?.GLOBAL_REQUEST;
  if (typeof original !== 'function') return false;
  handlers.GLOBAL_REQUEST = (p: { requestSuccess?: () => void }, name: unknown, wantReply: unknown, ...rest: unknown[]) => {
    if (name !== 'hostkeys-00@openssh.com') return original(p, name, wantReply, ...rest);
    if (wantReply === true) p.requestSuccess?.();
    else sendIgnore(p);
    return undefined;
  };
  return true;
}

/**
 * Makes ssh2 send public-key authentication signed at once (RFC 4252 §7 allows it) instead of
 * first asking whether the key would do and signing only after the server's PK_OK. That saves a
 * round trip per connection and the server one `authorized_keys` lookup. Only for private keys
 * rxssh holds itself: agent keys keep the query, so an agent never signs (or asks its user to
 * confirm) for a key the server would refuse.
 *
 * @returns false when ssh2's internals are not shaped as expected (nothing was changed).
 */
export function signPublicKeyAtOnce(client: object): boolean {
  const protocol = (client as any)._protocol;
  if (typeof protocol?.authPK !== 'function') return false;
  const authPK = protocol.authPK.bind(protocol) as (...args: unknown[]) => unknown;
  protocol.authPK = (username: unknown, key: any, keyAlgo: unknown, cbSign: unknown): unknown => {
    const certificate: ParsedCertificate | undefined = key?.[CERTIFICATE];
    if (certificate && typeof username === 'string' && sendCertificateAuth(protocol, username, key, certificate, typeof keyAlgo === 'string' ? keyAlgo : undefined)) {
      return undefined;
    }
    const query = cbSign === undefined && typeof keyAlgo !== 'function';
    if (!query || typeof key?.isPrivateKey !== 'function' || key.isPrivateKey() !== true || typeof key.sign !== 'function') {
      return authPK(username, key, keyAlgo, cbSign);
    }
    const hash = keyAlgo === 'rsa-sha2-256' ? 'sha256' : keyAlgo === 'rsa-sha2-512' ? 'sha512' : undefined;
    return authPK(username, key, keyAlgo, (data: Buffer, done: (signature: Buffer) => void) => {
      const signature: unknown = key.sign(data, hash);
      // A key that cannot sign goes the usual way: query, then ssh2 reports the signing error.
      if (signature instanceof Error || !Buffer.isBuffer(signature)) authPK(username, key, keyAlgo);
      else done(signature);
    });
  };
  return true;
}

/** The ssh2 version whose internals the reach-ins above were read from and are pinned by specs. */
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
    for (const method of ['signal', 'authPK']) {
      if (typeof protocol.prototype?.[method] !== 'function') problems.push(`Protocol.prototype.${method} is missing`);
    }
  } catch {
    problems.push('ssh2/lib/protocol/Protocol.js cannot be loaded');
  }
  if (!sendPacket) problems.push('ssh2/lib/protocol/utils.js has no sendPacket');
  compatibility = problems.length
    ? `rxssh needs ssh2 ${CHECKED_SSH2_VERSION} (it reaches into ssh2's internals, checked against that version): ${problems.join('; ')}. Install ssh2@${CHECKED_SSH2_VERSION}.`
    : undefined;
  return compatibility;
}

/** Whether the key exchange negotiated strict mode (Terrapin, CVE-2023-48795), from ssh2's protocol state. */
export function strictKexNegotiated(client: object): boolean | undefined {
  const mode: unknown = (client as any)._protocol?._strictMode;
  return typeof mode === 'boolean' ? mode : undefined;
}

/** The host-key algorithms that sign with a key of this type. */
function algorithmsOfKeyType(type: string): string[] {
  return type === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [type];
}

/**
 * The client's host-key algorithm list (ssh2's default edited as configured, or a full list)
 * with the algorithms of the already-known key types first, as OpenSSH orders its list by
 * known_hosts; undefined when nothing is known or nothing would move. Uses ssh2's own list
 * builder and defaults, so the result is exactly what ssh2 would have offered, reordered.
 */
export function orderHostKeyAlgorithms(configured: unknown, knownTypes: readonly string[]): string[] | undefined {
  if (knownTypes.length === 0) return undefined;
  let list: string[];
  try {
    const require = createRequire(import.meta.url);
    const { generateAlgorithmList } = require('ssh2/lib/utils.js') as { generateAlgorithmList: (c: unknown, d: string[], s: string[]) => string[] };
    const { DEFAULT_SERVER_HOST_KEY, SUPPORTED_SERVER_HOST_KEY } = require('ssh2/lib/protocol/constants.js') as Record<string, string[]>;
    list = [...generateAlgorithmList(configured, DEFAULT_SERVER_HOST_KEY ?? [], SUPPORTED_SERVER_HOST_KEY ?? [])];
  } catch {
    return undefined; // an invalid list: ssh2 reports it itself when the client starts
  }
  const known = new Set(knownTypes.flatMap(algorithmsOfKeyType));
  const preferred = list.filter((a) => known.has(a));
  if (preferred.length === 0) return undefined;
  return [...preferred, ...list.filter((a) => !known.has(a))];
}

/**
 * The smallest maximum packet size rxssh accepts from a server for any channel. ssh2 writes a
 * packet of at most that size per loop turn without yielding: 0 makes it spin forever
 * (ssh2#1504) and a few bytes make a large write take millions of synchronous turns, so the
 * event loop freezes and no timer fires. Real servers announce 16 KiB or more (OpenSSH 32 KiB,
 * Dropbear 32 KiB); OpenSSH's own client sets no lower bound.
 */
export const MIN_CHANNEL_PACKET_SIZE = 1024;

/** What the open callback of a refused channel gets as `reason` (not an RFC 4254 code). */
export const HOSTILE_PACKET_SIZE = 'hostile-packet-size';

const CHANNEL_ADDRESSED = ['CHANNEL_WINDOW_ADJUST', 'CHANNEL_DATA', 'CHANNEL_EXTENDED_DATA', 'CHANNEL_EOF', 'CHANNEL_CLOSE', 'CHANNEL_REQUEST', 'CHANNEL_SUCCESS', 'CHANNEL_FAILURE'];

/**
 * The one guard for every channel of a connection, whichever kind (session, exec, shell, sftp,
 * direct-tcpip, direct-streamlocal — so jump hops too — and the server's forwarded-tcpip,
 * forwarded-streamlocal, agent and x11 opens): a channel whose announced maximum packet size is
 * below {@link MIN_CHANNEL_PACKET_SIZE} is never handed to anyone.
 * - One we opened: we close it at once, and its open callback fails with an Error whose
 *   `reason` is {@link HOSTILE_PACKET_SIZE}; its local id stays reserved (messages to it are
 *   dropped) until the server's CHANNEL_CLOSE, so no later channel can receive them.
 * - One the server opens: refused with an open failure.
 *
 * @returns false when ssh2's internals are not shaped as expected (nothing was changed).
 */
export function guardChannelOpens(client: object): boolean {
  const c = client as any;
  const protocol = c._protocol;
  const handlers = protocol?._handlers;
  const channels = c._chanMgr;
  if (!handlers || typeof channels?.get !== 'function' || typeof channels.remove !== 'function' || typeof protocol.channelClose !== 'function' || typeof protocol.channelOpenFail !== 'function') {
    return false;
  }
  const names = ['CHANNEL_OPEN_CONFIRMATION', 'CHANNEL_OPEN', ...CHANNEL_ADDRESSED];
  if (names.some((n) => typeof handlers[n] !== 'function')) return false;
  const refused = new Set<number>();
  const confirm = handlers.CHANNEL_OPEN_CONFIRMATION;
  handlers.CHANNEL_OPEN_CONFIRMATION = (p: unknown, info: any, ...rest: unknown[]) => {
    const size: unknown = info?.packetSize;
    if (typeof size === 'number' && size >= MIN_CHANNEL_PACKET_SIZE) return confirm(p, info, ...rest);
    const pending = channels.get(info?.recipient);
    if (typeof pending !== 'function') return confirm(p, info, ...rest);
    refused.add(info.recipient);
    // A do-nothing "pending open" keeps the id reserved: ssh2 ignores data for it and, should
    // the connection end first, its clean-up just calls it.
    channels.update(info.recipient, () => undefined);
    protocol.channelClose(info.sender);
    const err = Object.assign(new Error(`the server announced a maximum packet size of ${String(size)} bytes for the channel (below ${MIN_CHANNEL_PACKET_SIZE}: hostile)`), { reason: HOSTILE_PACKET_SIZE });
    pending(err);
    return undefined;
  };
  const open = handlers.CHANNEL_OPEN;
  handlers.CHANNEL_OPEN = (p: unknown, info: any, ...rest: unknown[]) => {
    const size: unknown = info?.packetSize;
    if (typeof size === 'number' && size >= MIN_CHANNEL_PACKET_SIZE) return open(p, info, ...rest);
    protocol.channelOpenFail(info?.sender, 1 /* SSH_OPEN_ADMINISTRATIVELY_PROHIBITED */, `maximum packet size ${String(size)} is below ${MIN_CHANNEL_PACKET_SIZE}`);
    return undefined;
  };
  for (const name of CHANNEL_ADDRESSED) {
    const original = handlers[name];
    handlers[name] = (p: unknown, recipient: number, ...rest: unknown[]) => {
      if (!refused.has(recipient)) return original(p, recipient, ...rest);
      if (name === 'CHANNEL_CLOSE') {
        refused.delete(recipient);
        channels.remove(recipient);
      }
      return undefined;
    };
  }
  return true;
}

/**
 * Watches an ssh2 SFTP session's outstanding requests (its `_requests` table, keyed by request
 * id) and calls `onStall` once when one has waited `ms` or longer for its answer. Checked four
 * times per `ms`, so a stall is seen within 1.25 × `ms`.
 *
 * @returns the stop function (also safe when the shape is not there: nothing is watched then).
 */
export function watchSftpRequests(sftp: object, ms: number, onStall: () => void): () => void {
  if (!sftpRequestsReachable(sftp)) throw new Error("ssh2's SFTP session has no request table (_requests): request deadlines cannot be enforced");
  const firstSeen = new Map<string, number>();
  const timer = setInterval(
    () => {
      const now = Date.now();
      const live = (sftp as any)._requests as Record<string, unknown>;
      for (const id of firstSeen.keys()) if (!(id in live)) firstSeen.delete(id);
      for (const id of Object.keys(live)) {
        const since = firstSeen.get(id);
        if (since === undefined) firstSeen.set(id, now);
        else if (now - since >= ms) {
          clearInterval(timer);
          onStall();
          return;
        }
      }
    },
    Math.max(5, Math.floor(ms / 4)),
  );
  return () => clearInterval(timer);
}

/**
 * Fails every request still waiting on an ssh2 SFTP session with `err` (ssh2 does so itself
 * only once the channel has closed, which a server that stopped answering may never let
 * happen).
 */
/**
 * Whether an ssh2 SFTP session keeps its pending requests where {@link watchSftpRequests} and
 * {@link abandonSftpRequests} find them: checked when a session opens, so that request deadlines
 * and a lost channel can never silently leave requests waiting.
 */
export function sftpRequestsReachable(sftp: object): boolean {
  const requests: unknown = (sftp as any)._requests;
  return typeof requests === 'object' && requests !== null;
}

export function abandonSftpRequests(sftp: object, err: Error): void {
  const requests = (sftp as any)._requests;
  if (typeof requests !== 'object' || requests === null) return;
  for (const id of Object.keys(requests)) {
    const request = requests[id];
    delete requests[id];
    try {
      request?.cb?.(err);
    } catch {
      // a callback's own failure must not stop the others
    }
  }
}

type SignatureConverter = (signature: Buffer, keyType: string) => Buffer | false;

/** A signature converter from ssh2's `protocol/utils.js`, or undefined if it moved. */
function ssh2SignatureUtil(name: 'convertSignature' | 'sigSSHToASN1'): SignatureConverter | undefined {
  try {
    const fn: unknown = (createRequire(import.meta.url)('ssh2/lib/protocol/utils.js') as Record<string, unknown>)[name];
    return typeof fn === 'function' ? (fn as SignatureConverter) : undefined;
  } catch {
    return undefined;
  }
}

/** ssh2's signature converter (ECDSA DER → SSH's two mpints). */
const convertSignature = ssh2SignatureUtil('convertSignature');

/**
 * Public-key authentication with an OpenSSH certificate (PROTOCOL.certkeys), which ssh2 cannot
 * do (ssh2#551): the request names the certificate algorithm and carries the certificate blob;
 * the signature inside it is made by the certified private key and labelled with the plain
 * algorithm (`ssh-ed25519`, `ecdsa-sha2-nistp256`, `rsa-sha2-512`). Sent signed at once, on
 * ssh2's packet writer, queued as a 'publickey' attempt so ssh2 reads the answer as usual
 * (and tries its next RSA hash on a failure, which comes back here).
 *
 * @returns false when the request could not be made (nothing was sent).
 */
function sendCertificateAuth(protocol: any, username: string, key: any, certificate: ParsedCertificate, keyAlgo: string | undefined): boolean {
  const sessionId: unknown = protocol._kex?.sessionID;
  const writer = protocol._packetRW?.write;
  if (!sendPacket || !convertSignature || !Buffer.isBuffer(sessionId) || typeof writer?.alloc !== 'function' || !Array.isArray(protocol._authsQueue)) return false;
  const signatureAlgorithm = keyAlgo ?? String(key.type);
  // Never an ssh-rsa-cert with a SHA-1 signature: the plain key goes the usual way instead.
  if (certificate.keyType === 'ssh-rsa' && signatureAlgorithm !== 'rsa-sha2-256' && signatureAlgorithm !== 'rsa-sha2-512') return false;
  const hash = signatureAlgorithm === 'rsa-sha2-256' ? 'sha256' : signatureAlgorithm === 'rsa-sha2-512' ? 'sha512' : undefined;
  const body = Buffer.concat([
    Buffer.from([50]), // SSH_MSG_USERAUTH_REQUEST
    wireString(username),
    wireString('ssh-connection'),
    wireString('publickey'),
    Buffer.from([1]),
    wireString(certificateAlgorithm(certificate, signatureAlgorithm)),
    wireString(certificate.blob),
  ]);
  const toSign = Buffer.concat([wireString(sessionId), body]);
  const send = (signatureBlob: Buffer): void => {
    const payload = Buffer.concat([body, wireString(signatureBlob)]);
    const packet: Buffer = writer.alloc(payload.length);
    payload.copy(packet, writer.allocStart);
    protocol._authsQueue.push('publickey');
    sendPacket?.(protocol, writer.finalize(packet));
  };
  const agentSigner: AgentSigner | undefined = key[AGENT_SIGNER];
  if (agentSigner) {
    // Held by an agent: it signs (asynchronously); ssh2 waits for the server's answer meanwhile.
    // Should the agent fail, the request goes unsigned and the server refuses it.
    agentSigner(toSign, signatureAlgorithm).then(send, () => send(Buffer.concat([wireString(signatureAlgorithm), wireString(Buffer.alloc(0))])));
    return true;
  }
  const raw: unknown = key.sign(toSign, hash);
  if (!Buffer.isBuffer(raw)) return false;
  const signature = convertSignature(raw, String(key.type));
  if (!signature) return false;
  send(Buffer.concat([wireString(signatureAlgorithm), wireString(signature)]));
  return true;
}

/**
 * Host certificates, step 1: puts `algorithms` (the `*-cert-v01@openssh.com` host-key
 * algorithms) first in the client's KEXINIT, as OpenSSH does when known_hosts has a matching
 * `@cert-authority` line. ssh2 refuses these names in its config (it cannot verify a
 * certificate), so the offer it built is rebuilt with them, before it is sent (after the
 * server's identification line arrives).
 *
 * @returns false when ssh2's internals are not shaped as expected (nothing was changed).
 */
export function offerHostCertificates(client: object, algorithms: readonly string[]): boolean {
  const protocol = (client as any)._protocol;
  const offer = protocol?._offer;
  const lists = offer?.lists;
  let KexInit: (new (obj: unknown) => unknown) | undefined;
  try {
    KexInit = (createRequire(import.meta.url)('ssh2/lib/protocol/kex.js') as { KexInit?: new (obj: unknown) => unknown }).KexInit;
  } catch {
    return false;
  }
  if (typeof KexInit !== 'function' || !lists?.serverHostKey?.array || !lists.cs || !lists.sc) return false;
  const side = (s: any) => ({ cipher: s.cipher.array, mac: s.mac.array, compress: s.compress.array, lang: s.lang.array });
  protocol._offer = new KexInit({
    kex: lists.kex.array,
    serverHostKey: [...algorithms, ...lists.serverHostKey.array.filter((a: string) => !algorithms.includes(a))],
    cs: side(lists.cs),
    sc: side(lists.sc),
  });
  return true;
}

/**
 * Host certificates, step 2: lets ssh2 check the server's exchange-hash signature when the host
 * key is a certificate. ssh2 hashes the host key as sent (the certificate, as it must) but then
 * wants the signature type to equal the negotiated certificate algorithm and parses the
 * certificate as a plain key, which fails. For the key exchange in progress, its `finish` sees
 * the certificate blob where it hashes the host key, and the certified plain key (and plain
 * algorithm) where it checks the signature — the signature OpenSSH makes with the certified key.
 *
 * @returns false when ssh2's internals are not shaped as expected (nothing was changed).
 */
export function acceptCertificateSignature(client: object, certificate: Buffer, plainKey: Buffer, plainAlgorithm: string): boolean {
  const kex = (client as any)._protocol?._kex;
  if (!kex || typeof kex.finish !== 'function' || !Buffer.isBuffer(kex._hostKey) || !kex.negotiated) return false;
  const finish = kex.finish;
  kex.finish = function (this: any, ...args: unknown[]) {
    let reads = 0;
    // The first read of the host key is the "K_S" of the exchange hash: the certificate itself.
    Object.defineProperty(this, '_hostKey', { configurable: true, get: () => (reads++ === 0 ? certificate : plainKey), set: () => undefined });
    Object.defineProperty(this.negotiated, 'serverHostKey', { configurable: true, value: plainAlgorithm, writable: true });
    return finish.apply(this, args);
  };
  return true;
}

/** ssh2's SSH-to-ASN.1 signature converter (ECDSA). */
const sigSSHToASN1 = ssh2SignatureUtil('sigSSHToASN1');

/**
 * CA signature algorithms accepted, as OpenSSH's default `CASignatureAlgorithms` (without the
 * security-key ones ssh2 cannot verify): never `ssh-rsa` (SHA-1) or `ssh-dss`.
 */
export const CA_SIGNATURE_ALGORITHMS: ReadonlyMap<string, readonly string[]> = new Map([
  ['ssh-ed25519', ['ssh-ed25519']],
  ['ecdsa-sha2-nistp256', ['ecdsa-sha2-nistp256']],
  ['ecdsa-sha2-nistp384', ['ecdsa-sha2-nistp384']],
  ['ecdsa-sha2-nistp521', ['ecdsa-sha2-nistp521']],
  ['ssh-rsa', ['rsa-sha2-512', 'rsa-sha2-256']],
]);

/** Whether a signature named `algorithm` may come from a CA key of `keyType`. */
export function caSignatureAllowed(keyType: string, algorithm: string): boolean {
  return CA_SIGNATURE_ALGORITHMS.get(keyType)?.includes(algorithm) === true;
}

/** Verifies an SSH-format signature (string algorithm, string blob) by a key blob over `data`. */
export function verifySshSignature(keyBlob: Buffer, data: Buffer, signature: Buffer, parseKey: (text: string) => unknown): boolean {
  const read = (buf: Buffer, at: number): [Buffer, number] | undefined => {
    if (at + 4 > buf.length) return undefined;
    const n = buf.readUInt32BE(at);
    return at + 4 + n > buf.length ? undefined : [buf.subarray(at + 4, at + 4 + n), at + 4 + n];
  };
  const algo = read(signature, 0);
  const sig = algo && read(signature, algo[1]);
  const type = read(keyBlob, 0);
  if (!algo || !sig || !type) return false;
  const algorithm = algo[0].toString('latin1');
  // The algorithm's name is not signed: it must fit the CA key's type and be allowed, or a
  // SHA-1 RSA signature renamed to anything else would be checked with SHA-1 (ssh2's default).
  if (!caSignatureAllowed(type[0].toString('latin1'), algorithm)) return false;
  const key = parseKey(`${type[0].toString('latin1')} ${keyBlob.toString('base64')}`) as any;
  if (!key || key instanceof Error || typeof key.verify !== 'function') return false;
  let value: Buffer | false = sig[0];
  if (algorithm.startsWith('ecdsa-sha2-')) value = sigSSHToASN1 ? sigSSHToASN1(value, algorithm) : false;
  if (!value) return false;
  const hash = algorithm === 'rsa-sha2-256' ? 'sha256' : algorithm === 'rsa-sha2-512' ? 'sha512' : undefined;
  return key.verify(data, value, hash) === true;
}

/** Bytes before a WRITE request's data: length, type, request id, handle, offset, data length. */
const writeHeaderLength = (handleLength: number): number => 4 + 1 + 4 + 4 + handleLength + 8 + 4;

/**
 * Room a buffer should leave before a WRITE request's data so that {@link sendSftpWrite} can put
 * the request's header there (handles are at most 256 bytes, SFTP draft 3 §6.3).
 */
export const SFTP_WRITE_HEADROOM = writeHeaderLength(256);

/**
 * Sends an SFTP WRITE of `data` at `position` without ssh2's copy. ssh2's `write()` allocates a
 * buffer per request and copies the data into it (for a 255 KiB request, 256 MiB of garbage
 * per 256 MiB uploaded, and the collections it triggers). Here the request's header goes into
 * the `headroom` bytes before `data` in its own buffer, and the request leaves through the same
 * window-bounded path as ssh2's own (SFTP.js `sendOrBuffer`/`drainBuffer`, mirrored below).
 *
 * The buffer is ssh2's until `done` is called. Then it is the caller's again, even when the
 * request did not go out in full: a request ended early (the session closed, rxssh gave up on
 * a silent server, or a hostile server answered before it was sent) leaves a copy of its unsent
 * rest waiting, never a view of a buffer its caller may refill.
 *
 * @returns false when it cannot: too little headroom, more than one WRITE may carry, or ssh2's
 * internals not shaped as expected. The caller then sends with `sftp.write()`.
 */
export function sendSftpWrite(sftp: object, handle: Buffer, data: Buffer, headroom: number, position: number, done: (err?: Error) => void): boolean {
  const s = sftp as any;
  const header = writeHeaderLength(handle.length);
  const outgoing = s.outgoing;
  if (
    headroom < header ||
    s.server ||
    typeof s._writeReqid !== 'number' ||
    typeof s._requests !== 'object' ||
    s._requests === null ||
    !Array.isArray(s._buffer) ||
    typeof s._protocol?.channelData !== 'function' ||
    typeof outgoing?.window !== 'number' ||
    typeof outgoing.packetSize !== 'number' ||
    !(data.length <= (sftpRequestLimits(sftp)?.write ?? 0))
  )
    return false;
  const packet = Buffer.from(data.buffer, data.byteOffset - header, header + data.length);
  // ssh2 counts request ids in int32 (`& (2 ** 32 - 1)`) and looks answers up by their uint32.
  const id = (s._writeReqid = (s._writeReqid + 1) & (2 ** 32 - 1)) >>> 0;
  packet.writeUInt32BE(packet.length - 4, 0);
  packet[4] = 6; // SSH_FXP_WRITE
  packet.writeUInt32BE(id, 5);
  packet.writeUInt32BE(handle.length, 9);
  handle.copy(packet, 13);
  const at = 13 + handle.length;
  packet.writeUInt32BE(Math.floor(position / 2 ** 32), at);
  packet.writeUInt32BE(position >>> 0, at + 4);
  packet.writeUInt32BE(data.length, at + 8);
  s._requests[id] = {
    cb: (err?: Error) => {
      disown(s, packet);
      done(err);
    },
  };
  const rest = writePayload(s, packet);
  if (rest !== undefined) s._buffer.push(rest);
  return true;
}

/** Replaces what still waits to be sent from `packet`'s memory with a copy. */
function disown(s: any, packet: Buffer): void {
  const waiting: unknown = s._buffer;
  if (!Array.isArray(waiting)) return;
  for (let i = 0; i < waiting.length; i++) {
    const part: unknown = waiting[i];
    if (part instanceof Uint8Array && part.buffer === packet.buffer && part.byteOffset >= packet.byteOffset && part.byteOffset < packet.byteOffset + packet.length) {
      waiting[i] = Buffer.from(part);
    }
  }
}

/** ssh2's `tryWritePayload`: sends what the window allows; returns the part still to send. */
function writePayload(s: any, payload: Buffer): Buffer | undefined {
  const outgoing = s.outgoing;
  if (outgoing.state !== 'open') return undefined;
  if (outgoing.window === 0) {
    s._waitWindow = true;
    s._chunkcb = drainWrites;
    return payload;
  }
  let p = 0;
  while (payload.length - p > 0 && outgoing.window > 0) {
    const n = Math.min(payload.length - p, outgoing.window, outgoing.packetSize);
    outgoing.window -= n;
    if (outgoing.window === 0) {
      s._waitWindow = true;
      s._chunkcb = drainWrites;
    }
    s._protocol.channelData(outgoing.id, p === 0 && n === payload.length ? payload : payload.subarray(p, p + n));
    p += n;
  }
  return p < payload.length ? payload.subarray(p) : undefined;
}

/** ssh2's `drainBuffer` (called with the SFTP session as `this` when the window opens again). */
function drainWrites(this: any): void {
  this._chunkcb = undefined;
  const buffer: Buffer[] = this._buffer;
  let i = 0;
  while (i < buffer.length) {
    const payload = buffer[i] as Buffer;
    const rest = writePayload(this, payload);
    if (rest !== undefined) {
      if (rest !== payload) buffer[i] = rest;
      if (i > 0) this._buffer = buffer.slice(i);
      return;
    }
    ++i;
  }
  if (i > 0) this._buffer = [];
}
