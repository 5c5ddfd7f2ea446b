/** OpenSSH's SHA256 fingerprint of a raw public-key blob (shared by host keys and errors). */
import { createHash } from 'node:crypto';

export function fingerprintOf(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}
