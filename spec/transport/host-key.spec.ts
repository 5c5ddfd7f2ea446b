import { createHash } from 'node:crypto';
import { of, NEVER, throwError } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  HostKeyRejectedError,
  TimeoutError,
  authenticate,
  connect,
  password,
  pinned,
  sha256Fingerprint,
  verifyHostKey,
  type HostKeyOffer,
  type HostKeyPolicy,
} from '../../lib/index.js';
import type { TestServerInfo } from '../../lib/testing/index.js';
import { errorOf, expectNoLeaks, first, resources, serve } from '../helpers/index.js';

let server: { info: TestServerInfo; stop: () => void };
beforeAll(async () => {
  server = await serve();
});
afterAll(() => server.stop());

const hostKey$ = () => connect({ host: server.info.host, port: server.info.port, username: server.info.username });

/** Runs the pipeline up to auth with `policy`; returns the outcome and how many USERAUTH requests the server saw. */
async function tryPolicy(policy: HostKeyPolicy, timeouts = {}) {
  const before = server.info.stats.authRequests.length;
  const pipeline = connect({ host: server.info.host, port: server.info.port, username: server.info.username, timeouts }).pipe(
    verifyHostKey(policy),
    authenticate(password(server.info.password)),
  );
  let outcome: unknown;
  try {
    outcome = await first(pipeline);
  } catch (err) {
    outcome = err;
  }
  return { outcome, userauth: server.info.stats.authRequests.length - before };
}

describe('HostKeyInfo', () => {
  it('describes the offered key: type, SHA256 and MD5 fingerprints, raw key, host and port', async () => {
    const { hostKey } = await first(hostKey$());
    expect(hostKey.type).toBe('ssh-ed25519');
    expect(hostKey.fingerprint).toBe(server.info.hostKey.fingerprint);
    expect(hostKey.fingerprint).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(hostKey.md5).toMatch(/^([0-9a-f]{2}:){15}[0-9a-f]{2}$/);
    expect(hostKey.md5.replace(/:/g, '')).toBe(createHash('md5').update(hostKey.key).digest('hex'));
    expect(sha256Fingerprint(hostKey.key)).toBe(hostKey.fingerprint);
    expect(hostKey.openssh).toBe(server.info.hostKey.openssh.split(' ').slice(0, 2).join(' '));
    expect(hostKey.host).toBe(server.info.host);
    expect(hostKey.port).toBe(server.info.port);
    expect(Object.isFrozen(hostKey)).toBe(true);
  });
});

describe('verifyHostKey', () => {
  it('pinned fingerprint accepted → authentication proceeds', async () => {
    const { outcome, userauth } = await tryPolicy(pinned(server.info.hostKey.fingerprint));
    expect(outcome).toHaveProperty('hostKey');
    expect(userauth).toBeGreaterThan(0);
  });

  it('MD5 pins work too', async () => {
    const { hostKey } = await first(hostKey$());
    const { outcome } = await tryPolicy(pinned(`MD5:${hostKey.md5}`));
    expect(outcome).toHaveProperty('hostKey');
  });

  it('a wrong pin is rejected and no USERAUTH request is ever sent', async () => {
    const baseline = resources();
    const { outcome, userauth } = await tryPolicy(pinned(`SHA256:${'A'.repeat(43)}`));
    expect(outcome).toBeInstanceOf(HostKeyRejectedError);
    const e = outcome as HostKeyRejectedError;
    expect(e.code).toBe('ERR_SSH_HOST_KEY_REJECTED');
    expect(e.fingerprint).toBe(server.info.hostKey.fingerprint);
    expect(e.phase).toBe('host-key');
    expect(e.port).toBe(server.info.port);
    expect(userauth).toBe(0);
    await expectNoLeaks(baseline);
  });

  it('an async verifier resolving false rejects; resolving true accepts', async () => {
    const no = await tryPolicy(async () => false);
    expect(no.outcome).toBeInstanceOf(HostKeyRejectedError);
    expect(no.userauth).toBe(0);
    const yes = await tryPolicy(async (key) => key.fingerprint === server.info.hostKey.fingerprint);
    expect(yes.outcome).toHaveProperty('hostKey');
  });

  it('an Observable verifier: its first value counts; completing empty rejects', async () => {
    expect((await tryPolicy(() => of(true))).outcome).toHaveProperty('hostKey');
    expect((await tryPolicy(() => of(false, true))).outcome).toBeInstanceOf(HostKeyRejectedError);
    expect((await tryPolicy(() => of())).outcome).toBeInstanceOf(HostKeyRejectedError);
  });

  it('only a literal true accepts (ssh2 would treat truthy values as yes)', async () => {
    for (const answer of [1, 'yes', {}, null, undefined]) {
      const r = await tryPolicy(() => answer as never);
      expect(r.outcome).toBeInstanceOf(HostKeyRejectedError);
      expect(r.userauth).toBe(0);
    }
  });

  it('a verifier that throws or errors rejects, with the error as cause', async () => {
    const boom = new Error('boom');
    const thrown = await tryPolicy(() => {
      throw boom;
    });
    expect(thrown.outcome).toBeInstanceOf(HostKeyRejectedError);
    expect((thrown.outcome as Error).cause).toBe(boom);
    const errored = await tryPolicy(() => throwError(() => boom));
    expect((errored.outcome as Error).cause).toBe(boom);
    const rejected = await tryPolicy(() => Promise.reject(boom));
    expect((rejected.outcome as Error).cause).toBe(boom);
  });

  it('a verifier that never answers is rejected at the handshake deadline', async () => {
    const r = await tryPolicy(() => NEVER, { handshake: 300 });
    expect(r.outcome).toBeInstanceOf(TimeoutError);
    expect((r.outcome as TimeoutError).phase).toBe('host-key');
    expect(r.userauth).toBe(0);
  });

  it('throws TypeError at call time without a policy or with bad pins', () => {
    expect(() => verifyHostKey(undefined as never)).toThrow(TypeError);
    expect(() => pinned()).toThrow(TypeError);
    expect(() => pinned('not-a-fingerprint')).toThrow(TypeError);
    expect(() => pinned('SHA256:short')).toThrow(TypeError);
  });

  it('two verify stages: a rejection by the second (async) policy surfaces at once as HostKeyRejectedError, before any credential', async () => {
    const before = server.info.stats.authRequests.length;
    const baseline = resources();
    const stages = [verifyHostKey(pinned(server.info.hostKey.fingerprint)), verifyHostKey(() => new Promise<boolean>((r) => setTimeout(() => r(false), 20)))] as const;
    const pipeline = connect({ host: server.info.host, port: server.info.port, username: server.info.username, timeouts: { auth: 10_000 } }).pipe(
      stages[0],
      // A second verify stage does not type-check (a Transport is not a HostKeyOffer); at run time it still must not lose a rejection.
      stages[1] as never,
      authenticate(password(server.info.password)),
    );
    const err = await errorOf(pipeline);
    expect(err).toBeInstanceOf(HostKeyRejectedError);
    expect(err).not.toBeInstanceOf(TimeoutError);
    expect((err as HostKeyRejectedError).phase).toBe('host-key');
    expect(server.info.stats.authRequests.length - before).toBe(0);
    await expectNoLeaks(baseline);
  });

  it('refuses something that is not a HostKeyOffer', async () => {
    const fake = { hostKey: {} } as unknown as HostKeyOffer;
    const err = await errorOf(of(fake).pipe(verifyHostKey(() => true)));
    expect(err).toBeInstanceOf(TypeError);
  });
});
