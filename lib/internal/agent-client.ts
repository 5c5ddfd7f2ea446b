/**
 * A minimal client of the OpenSSH agent protocol (draft-miller-ssh-agent), for what ssh2's agent
 * support cannot do: list the certificate identities an agent holds and have the agent sign with
 * one. Each request is one short connection to the agent's Unix socket.
 */
import { connect } from 'node:net';
import { wireString } from './certificate.js';

const REQUEST_IDENTITIES = 11;
const IDENTITIES_ANSWER = 12;
const SIGN_REQUEST = 13;
const SIGN_RESPONSE = 14;

/** The agent's flag asking for an rsa-sha2-256 / rsa-sha2-512 signature. */
export const AGENT_RSA_SHA2_256 = 2;
export const AGENT_RSA_SHA2_512 = 4;

function request(socketPath: string, type: number, body: Buffer, timeoutMs = 10_000): Promise<{ type: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const sock = connect(socketPath);
    const chunks: Buffer[] = [];
    let got = 0;
    const timer = setTimeout(() => done(new Error(`the agent did not answer within ${timeoutMs} ms`)), timeoutMs);
    const done = (err?: Error, reply?: { type: number; body: Buffer }): void => {
      clearTimeout(timer);
      sock.removeAllListeners();
      sock.on('error', () => undefined);
      sock.destroy();
      if (err) reject(err);
      else resolve(reply as { type: number; body: Buffer });
    };
    sock.on('error', (err) => done(err));
    sock.on('close', () => done(new Error('the agent closed the connection')));
    sock.on('data', (data: Buffer) => {
      chunks.push(data);
      got += data.length;
      const all = Buffer.concat(chunks, got);
      if (all.length < 4) return;
      const length = all.readUInt32BE(0);
      if (all.length < 4 + length) return;
      done(undefined, { type: all[4] ?? 0, body: all.subarray(5, 4 + length) });
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
export async function agentIdentities(socketPath: string): Promise<Array<{ blob: Buffer; comment: string }>> {
  const reply = await request(socketPath, REQUEST_IDENTITIES, Buffer.alloc(0));
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
export async function agentSign(socketPath: string, blob: Buffer, data: Buffer, flags: number): Promise<Buffer> {
  const flagBytes = Buffer.alloc(4);
  flagBytes.writeUInt32BE(flags, 0);
  const reply = await request(socketPath, SIGN_REQUEST, Buffer.concat([wireString(blob), wireString(data), flagBytes]));
  if (reply.type !== SIGN_RESPONSE) throw new Error(`the agent refused to sign (reply ${reply.type})`);
  return Buffer.from(read(reply.body, 0)[0]);
}
