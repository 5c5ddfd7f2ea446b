/**
 * Adding a private key to an agent (draft-miller-ssh-agent `SSH_AGENTC_ADD_IDENTITY`, with the
 * lifetime and confirm constraints), as ssh does for `AddKeysToAgent`: the key's parts are read
 * through Node's crypto (its JWK form) and written in the agent's wire format.
 */
import { createPrivateKey } from 'node:crypto';
import type { ParsedKey } from '../ssh2/index.js';
import { agentRequest, type AgentRequestOptions } from './agent-client.js';
import { wireString } from './certificate.js';

const ADD_IDENTITY = 17;
const ADD_ID_CONSTRAINED = 25;
const SUCCESS = 6;
const CONSTRAIN_LIFETIME = 1;
const CONSTRAIN_CONFIRM = 2;

/**
 * How a key is added: for how long the agent keeps it, and whether it asks before each use (ssh's
 * `AddKeysToAgent confirm`, `ssh-add -c`).
 *
 * @example
 * ```ts
 * const constraints: AgentKeyConstraints = { lifetime: 3600, confirm: true };
 * ```
 */
export interface AgentKeyConstraints {
  /** Seconds the agent keeps the key (`AddKeysToAgent 1h`, `ssh-add -t`); none: until it is removed. */
  readonly lifetime?: number;
  /** The agent confirms each use with the user (`AddKeysToAgent confirm`). */
  readonly confirm?: boolean;
}

/** An unsigned big-endian number as an SSH mpint. */
function mpint(base64url: string | undefined): Buffer {
  let b = Buffer.from(base64url ?? '', 'base64url');
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  b = b.subarray(i);
  return wireString(b.length > 0 && (b[0] as number) & 0x80 ? Buffer.concat([Buffer.alloc(1), b]) : b);
}

/** The key's private parts in the agent's format (after its type name), from its JWK form. */
function keyParts(key: ParsedKey): Buffer {
  const jwk = createPrivateKey(key.getPrivatePEM()).export({ format: 'jwk' });
  const raw = (v: string | undefined): Buffer => Buffer.from(v ?? '', 'base64url');
  if (key.type === 'ssh-ed25519') {
    const pub = raw(jwk.x);
    return Buffer.concat([wireString(pub), wireString(Buffer.concat([raw(jwk.d), pub]))]);
  }
  if (key.type.startsWith('ecdsa-sha2-')) {
    const curve = key.type.slice('ecdsa-sha2-'.length);
    return Buffer.concat([wireString(curve), wireString(Buffer.concat([Buffer.from([4]), raw(jwk.x), raw(jwk.y)])), mpint(jwk.d)]);
  }
  if (key.type === 'ssh-rsa') return Buffer.concat([jwk.n, jwk.e, jwk.d, jwk.qi, jwk.p, jwk.q].map(mpint));
  throw new Error(`a ${key.type} key cannot be added to an agent by rxssh`);
}

/** Adds `key` to the agent at `socketPath`; rejects with the agent's refusal or the socket's error. @internal */
export async function agentAddKey(socketPath: string, key: ParsedKey, constraints: AgentKeyConstraints = {}, options?: AgentRequestOptions): Promise<void> {
  const extra: Buffer[] = [];
  if (constraints.lifetime !== undefined) {
    const seconds = Buffer.alloc(5);
    seconds[0] = CONSTRAIN_LIFETIME;
    seconds.writeUInt32BE(constraints.lifetime, 1);
    extra.push(seconds);
  }
  if (constraints.confirm) extra.push(Buffer.from([CONSTRAIN_CONFIRM]));
  const body = Buffer.concat([wireString(key.type), keyParts(key), wireString(key.comment ?? ''), ...extra]);
  const reply = await agentRequest(socketPath, extra.length ? ADD_ID_CONSTRAINED : ADD_IDENTITY, body, options);
  if (reply.type !== SUCCESS) throw new Error(`the agent refused the key (reply ${reply.type})`);
}
