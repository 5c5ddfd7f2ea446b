/** Describes a raw SSH public-key blob as the plain {@link HostKeyInfo} data the stages carry. */
import { createHash } from 'node:crypto';
import type { HostKeyInfo } from './transport.js';
import { fingerprintOf } from './fingerprint.js';
import { keyTypeOf } from '../util/key-blob.js';

/** Computes a {@link HostKeyInfo} from a raw SSH public key blob. */
export function describeHostKey(key: Buffer, host: string, port: number, address?: string): HostKeyInfo {
  const type = keyTypeOf(key) ?? 'unknown';
  return Object.freeze({
    type,
    fingerprint: fingerprintOf(key),
    md5: createHash('md5')
      .update(key)
      .digest('hex')
      .replace(/(..)(?!$)/g, '$1:'),
    key: Buffer.from(key),
    openssh: `${type} ${key.toString('base64')}`,
    host,
    port,
    ...(address !== undefined ? { address } : {}),
  });
}
