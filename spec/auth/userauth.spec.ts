/** The user-auth loop on its own: providers in order, methods the server allows, "none", failures. */
import { EMPTY, Observable, of, throwError } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { UserAuth, type CredentialSource, type NextAuth, type UserAuthHost } from '../../lib/auth/userauth.js';
import { AuthenticationError, type SshError } from '../../lib/index.js';
import type { AuthEvent } from '../../lib/index.js';

function host(): UserAuthHost & { failed: SshError[]; phases: number } {
  const h = {
    host: 'h',
    port: 22,
    username: 'ops',
    finished: false,
    isFinished: () => h.finished,
    failed: [] as SshError[],
    phases: 0,
    enterAuth: () => void h.phases++,
    fail: (e: SshError) => {
      h.failed.push(e);
      h.finished = true;
    },
  };
  return h;
}

/** A provider whose credential is `source` (default: one method object naming the provider). */
const give = (method: string, label: string, source?: (ctx: { signal: AbortSignal }) => Observable<unknown>): CredentialSource => ({
  method,
  label,
  credential: (source ?? (() => of({ type: method, username: 'ops', [label]: true }))) as CredentialSource['credential'],
});

/** ssh2's side: records what it was handed. */
function server(): { next: NextAuth; offered: unknown[] } {
  const offered: unknown[] = [];
  return { offered, next: (m) => void offered.push(m) };
}

describe('UserAuth', () => {
  it('offers providers in order, skips methods the server no longer allows, and reports each attempt', () => {
    const h = host();
    const auth = new UserAuth(h);
    const events: AuthEvent[] = [];
    auth.events$.subscribe((e) => events.push(e));
    auth.start([give('password', 'pw'), give('keyboard-interactive', 'kbd'), give('publickey', 'key')]);
    const s = server();
    auth.onServerAsks(null, false, s.next);
    expect(s.offered).toEqual([{ type: 'password', username: 'ops', pw: true }]);
    auth.onServerAsks(['publickey'], false, s.next); // password refused; only publickey left: kbd is skipped
    expect(s.offered[1]).toEqual({ type: 'publickey', username: 'ops', key: true });
    auth.accepted();
    expect(events.map((e) => e.type === 'attempt' && [e.provider, e.accepted])).toEqual([
      ['pw', false],
      ['key', true],
    ]);
    expect(auth.methodsTried).toEqual(['password', 'publickey']);
    expect(h.phases).toBe(2);
  });

  it('waits when the server asks before the providers are installed', () => {
    const auth = new UserAuth(host());
    const s = server();
    auth.onServerAsks(null, false, s.next);
    expect(s.offered).toEqual([]);
    auth.start([give('password', 'pw')]);
    expect(s.offered).toHaveLength(1);
  });

  it('asks "none" once when nothing was offered, then fails naming what the server allows', () => {
    const auth = new UserAuth(host());
    auth.start([give('publickey', 'empty', () => EMPTY)]);
    const s = server();
    auth.onServerAsks(null, false, s.next);
    expect(s.offered).toEqual([{ type: 'none', username: 'ops' }]);
    auth.onServerAsks(['publickey', 'password'], false, s.next);
    expect(s.offered[1]).toBe(false);
    expect(auth.failure).toBeInstanceOf(AuthenticationError);
    expect(auth.failure?.message).toContain('No credentials to offer');
    expect((auth.failure as AuthenticationError).methodsLeft).toEqual(['publickey', 'password']);
  });

  it('a provider that fails ends the connection with an AuthenticationError naming it', () => {
    const h = host();
    const auth = new UserAuth(h);
    auth.start([give('publickey', 'agent', () => throwError(() => new Error('agent gone')))]);
    auth.onServerAsks(null, false, server().next);
    expect(h.failed).toHaveLength(1);
    expect(h.failed[0]).toBeInstanceOf(AuthenticationError);
    expect(h.failed[0]?.message).toContain('Credential provider agent failed');
    expect((h.failed[0]?.cause as Error).message).toBe('agent gone');
  });

  it('stop() ends a credential still being asked for (its signal aborts) and fails the events', () => {
    const auth = new UserAuth(host());
    let signal: AbortSignal | undefined;
    let unsubscribed = false;
    auth.start([
      give('publickey', 'slow', (ctx) => {
        signal = ctx.signal;
        return new Observable<never>(() => () => (unsubscribed = true));
      }),
    ]);
    auth.onServerAsks(null, false, server().next);
    let failed: unknown;
    auth.events$.subscribe({ error: (e) => (failed = e) });
    const error = new AuthenticationError('gone', [], null, { host: 'h', port: 22, phase: 'auth' });
    auth.stop(error);
    expect(signal?.aborted).toBe(true);
    expect(unsubscribed).toBe(true);
    expect(failed).toBe(error);
  });
});
