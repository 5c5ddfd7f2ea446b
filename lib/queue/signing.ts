/**
 * HMAC signatures over what crosses Redis in a queued run, with a secret the submitter and the
 * workers share (`QueueConfig.secret`): the submitter signs each job, a worker each progress
 * message and each result. The job id is part of every signature, so a signed message cannot
 * be moved onto another job. Anyone who can write to Redis but lacks the secret can then neither
 * make a worker run a command nor make a submitter report a result.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** What is signed: a job, a progress message, or a result. */
export type SignedKind = 'job' | 'progress' | 'result';

/** JSON with object keys in sorted order (arrays keep theirs): one text for one value. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** The signature (hex HMAC-SHA256) of `value` as a `kind` of job `jobId`. */
export function signQueued(secret: Buffer, kind: SignedKind, jobId: string, value: unknown): string {
  return createHmac('sha256', secret).update(`rxssh ${kind}\n${jobId}\n${canonicalJson(value)}`).digest('hex');
}

/** Whether `signature` is `value`'s, as a `kind` of job `jobId` (constant-time compare). */
export function verifyQueued(secret: Buffer, kind: SignedKind, jobId: string, value: unknown, signature: unknown): boolean {
  if (typeof signature !== 'string' || !/^[0-9a-f]{64}$/.test(signature)) return false;
  return timingSafeEqual(Buffer.from(signQueued(secret, kind, jobId, value), 'hex'), Buffer.from(signature, 'hex'));
}

/** `value` without its `sig` field (what the signature covers). */
export function unsigned<T extends { readonly sig?: unknown }>(value: T): Omit<T, 'sig'> {
  const rest: Record<string, unknown> = { ...value };
  delete rest['sig'];
  return rest as Omit<T, 'sig'>;
}
