/** The queue's HMAC signatures: canonical JSON, bound to the kind and the job id. */
import { describe, expect, it } from 'vitest';
import { canonicalJson, signQueued, unsigned, verifyQueued } from '../../lib/queue/signing.js';

const secret = Buffer.from('sixteen bytes or more, for the spec');

describe('queue signatures', () => {
  it('canonical JSON sorts keys at every depth and leaves out undefined', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: undefined } })).toBe('{"a":{"d":[2,{"y":2,"z":1}]},"b":1}');
  });

  it('a signature verifies for the same value in any key order, and for nothing else', () => {
    const result = { status: 'ok', exitCode: 0, signal: null, error: null, sent: 2 };
    const sig = signQueued(secret, 'result', 'run/web1', result);
    expect(verifyQueued(secret, 'result', 'run/web1', { sent: 2, error: null, signal: null, exitCode: 0, status: 'ok' }, sig)).toBe(true);
    expect(verifyQueued(secret, 'result', 'run/web1', unsigned({ ...result, sig }), sig)).toBe(true);
    expect(verifyQueued(secret, 'result', 'run/web1', { ...result, status: 'failed' }, sig)).toBe(false);
    expect(verifyQueued(secret, 'result', 'run/web2', result, sig)).toBe(false); // moved to another job
    expect(verifyQueued(secret, 'progress', 'run/web1', result, sig)).toBe(false); // another kind
    expect(verifyQueued(Buffer.from('another secret of sixteen+'), 'result', 'run/web1', result, sig)).toBe(false);
    expect(verifyQueued(secret, 'result', 'run/web1', result, undefined)).toBe(false);
    expect(verifyQueued(secret, 'result', 'run/web1', result, 'zz')).toBe(false);
  });
});
