/**
 * A minimal client of the OpenSSH agent protocol (draft-miller-ssh-agent), for what ssh2's agent
 * support cannot do: list the certificate identities an agent holds and have the agent sign with
 * one. Each request is one short connection to the agent's Unix socket.
 */
import { connect } from 'node:net';
import { once, ssh2, utils, type BaseAgent, type ParsedKey } from '../ssh2/index.js';
import { wireString } from './certificate.js';

const REQUEST_IDENTITIES = 11;
const IDENTITIES_ANSWER = 12;
const SIGN_REQUEST = 13;
const SIGN_RESPONSE = 14;

/** The agent's flag asking for an rsa-sha2-256 / rsa-sha2-512 signature. */
export const AGENT_RSA_SHA2_256 = 2;
export const AGENT_RSA_SHA2_512 = 4;

/** The largest agent reply rxssh reads (OpenSSH's ssh-agent client caps them at 256 KiB too). */
export const MAX_AGENT_REPLY = 256 * 1024;

/** How long one agent request may take, and what ends it early (the attempt's deadline). */
export interface AgentRequestOptions {
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

/** One request to the agent and its reply (type and body). */
export function agentRequest(socketPath: string, type: number, body: Buffer, options: AgentRequestOptions = {}): Promise<{ type: number; body: Buffer }> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const { signal } = options;
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new Error('the agent request was cancelled'));
    const sock = connect(socketPath);
    let header = Buffer.alloc(0);
    let reply: Buffer | undefined;
    let got = 0;
    const timer = setTimeout(() => done(new Error(`the agent did not answer within ${timeoutMs} ms`)), timeoutMs);
    const abort = (): void => done(new Error('the agent request was cancelled (the authentication ended)'));
    signal?.addEventListener('abort', abort, { once: true });
    const done = (err?: Error, answer?: { type: number; body: Buffer }): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', abort);
      sock.removeAllListeners();
      sock.on('error', () => undefined);
      sock.destroy();
      if (err) reject(err);
      else resolve(answer as { type: number; body: Buffer });
    };
    sock.on('error', (err) => done(err));
    sock.on('close', () => done(new Error('the agent closed the connection')));
    sock.on('data', (data: Buffer) => {
      let rest = data;
      if (!reply) {
        header = Buffer.concat([header, rest]);
        if (header.length < 4) return;
        const length = header.readUInt32BE(0);
        if (length < 1 || length > MAX_AGENT_REPLY) return done(new Error(`the agent announced a reply of ${length} bytes (at most ${MAX_AGENT_REPLY} are read)`));
        // One buffer for the whole reply: no copy per chunk.
        reply = Buffer.allocUnsafe(length);
        rest = header.subarray(4);
      }
      const n = Math.min(rest.length, reply.length - got);
      rest.copy(reply, got, 0, n);
      got += n;
      if (got < reply.length) return;
      if (rest.length > n) return done(new Error('the agent sent more than its reply'));
      done(undefined, { type: reply[0] ?? 0, body: reply.subarray(1) });
    });
    const frame = Buffer.alloc(5);
    frame.writeUInt32BE(1 + body.length, 0);
    frame[4] = type;
    sock.write(Buffer.concat([frame, body]));
  });
}

function read(buf: Buffer, at: number): [Buffer, number] {
  if (at + 4 > buf.length) throw new Error('agent reply truncated');
  const n = buf.readUInt32BE(at);
  if (at + 4 + n > buf.length) throw new Error('agent reply truncated');
  return [buf.subarray(at + 4, at + 4 + n), at + 4 + n];
}

/** The agent's identities: key (or certificate) blobs and their comments. */
export async function agentIdentities(socketPath: string, options?: AgentRequestOptions): Promise<Array<{ blob: Buffer; comment: string }>> {
  const reply = await agentRequest(socketPath, REQUEST_IDENTITIES, Buffer.alloc(0), options);
  if (reply.type !== IDENTITIES_ANSWER) throw new Error(`the agent refused to list its keys (reply ${reply.type})`);
  const count = reply.body.readUInt32BE(0);
  const out: Array<{ blob: Buffer; comment: string }> = [];
  let at = 4;
  for (let i = 0; i < count; i++) {
    const [blob, next] = read(reply.body, at);
    const [comment, after] = read(reply.body, next);
    out.push({ blob: Buffer.from(blob), comment: comment.toString('utf8') });
    at = after;
  }
  return out;
}

/** Has the agent sign `data` with the identity `blob`; resolves with the SSH signature blob. */
export async function agentSign(socketPath: string, blob: Buffer, data: Buffer, flags: number, options?: AgentRequestOptions): Promise<Buffer> {
  const flagBytes = Buffer.alloc(4);
  flagBytes.writeUInt32BE(flags, 0);
  const reply = await agentRequest(socketPath, SIGN_REQUEST, Buffer.concat([wireString(blob), wireString(data), flagBytes]), options);
  if (reply.type !== SIGN_RESPONSE) throw new Error(`the agent refused to sign (reply ${reply.type})`);
  return Buffer.from(read(reply.body, 0)[0]);
}

/**
 * The agent behind `agent()`, given to ssh2 instead of a socket path (ssh2's own client trusts
 * the length an agent announces and keeps its socket open past any deadline): replies capped at
 * {@link MAX_AGENT_REPLY}, each request bounded in time and cancelled by `signal` (the
 * authentication's end), so no socket outlives the attempt. An ssh2 `BaseAgent` (ssh2 checks
 * with `instanceof`), so its class is made when first needed: importing rxssh loads no ssh2.
 */
export function socketAgent(socketPath: string, signal: AbortSignal): BaseAgent {
  return new (socketAgentClass())(socketPath, signal);
}

const socketAgentClass = once(
  () =>
    class SocketAgent extends ssh2().BaseAgent {
      constructor(
        readonly socketPath: string,
        readonly signal: AbortSignal,
      ) {
        super();
      }

      override getIdentities(cb: (err: Error | null, keys?: ParsedKey[]) => void): void {
        agentIdentities(this.socketPath, { signal: this.signal }).then(
          (identities) => {
            const keys: ParsedKey[] = [];
            for (const { blob, comment } of identities) {
              const key = utils.parseKey(blob);
              // Certificates are agentCertificate()'s; keys of a type ssh2 cannot use are passed over, as ssh2 does.
              if (key instanceof Error || key.type.endsWith('-cert-v01@openssh.com')) continue;
              keys.push(Object.assign(key, { comment: key.comment || comment }));
            }
            cb(null, keys);
          },
          (err: Error) => cb(err),
        );
      }

      override sign(pubKey: ParsedKey, data: Buffer, options: { hash?: string } | ((err: Error | null, signature?: Buffer) => void), cb?: (err: Error | null, signature?: Buffer) => void): void {
        const done = typeof options === 'function' ? options : cb;
        const hash = typeof options === 'object' && options !== null ? options.hash : undefined;
        const flags = hash === 'sha256' ? AGENT_RSA_SHA2_256 : hash === 'sha512' ? AGENT_RSA_SHA2_512 : 0;
        agentSign(this.socketPath, pubKey.getPublicSSH(), data, flags, { signal: this.signal }).then(
          (signature) => {
            // The agent answers an SSH signature (its algorithm, then the bytes); ssh2 wants the bytes.
            const [, at] = read(signature, 0);
            done?.(null, Buffer.from(read(signature, at)[0]));
          },
          (err: Error) => done?.(err),
        );
      }
    },
);
