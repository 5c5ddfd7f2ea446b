/**
 * The stage types are nominal (pinned at the type level, as rxjs's dtslint specs pin its
 * operators): the compiler refuses exec before authenticate, authenticate before verify, a
 * second verify, and a stage made by hand. The `@ts-expect-error` lines fail `npm run
 * typecheck` the day one of them compiles.
 */
import type { Observable } from 'rxjs';
import { describe, expectTypeOf, it } from 'vitest';
import {
  authenticate,
  connect,
  exec,
  password,
  pinned,
  run,
  verifyHostKey,
  type Connection,
  type ExecChunk,
  type ExecResult,
  type HostKeyOffer,
  Transport,
} from '../lib/index.js';

const offer$ = (): Observable<HostKeyOffer> => connect({ host: '127.0.0.1', port: 1, username: 'u' });
const policy = pinned('SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');

describe('stage types', () => {
  it('the lifecycle in order type-checks, stage by stage', () => {
    expectTypeOf(offer$().pipe(verifyHostKey(policy))).toEqualTypeOf<Observable<Transport>>();
    expectTypeOf(offer$().pipe(verifyHostKey(policy), authenticate(password('p')))).toEqualTypeOf<Observable<Connection>>();
    expectTypeOf(offer$().pipe(verifyHostKey(policy), authenticate(password('p')), run('true'))).toEqualTypeOf<Observable<ExecResult>>();
    expectTypeOf(offer$().pipe(verifyHostKey(policy), authenticate(password('p')), exec('true'))).toEqualTypeOf<Observable<ExecChunk>>();
  });

  it('refuses every shortcut', () => {
    // @ts-expect-error: no exec before authentication
    offer$().pipe(exec('true'));
    // @ts-expect-error: no exec on a verified transport that has not authenticated
    offer$().pipe(verifyHostKey(policy), exec('true'));
    // @ts-expect-error: no authentication before the host key is verified
    offer$().pipe(authenticate(password('p')));
    // @ts-expect-error: no second verify (a Transport is not a HostKeyOffer)
    offer$().pipe(verifyHostKey(policy), verifyHostKey(policy));
    expectTypeOf<Transport>().not.toMatchTypeOf<HostKeyOffer>();
    expectTypeOf<HostKeyOffer>().not.toMatchTypeOf<Transport>();
  });

  it('refuses a stage made by hand', () => {
    const hostKey = { type: 'ssh-ed25519', fingerprint: '', md5: '', key: Buffer.alloc(0), openssh: '', host: '', port: 22 };
    // @ts-expect-error: an object literal is not a HostKeyOffer (the class has a private brand)
    const offer: HostKeyOffer = { hostKey };
    // @ts-expect-error: nor a Transport
    const transport: Transport = { hostKey, auth$: offer$() as never };
    // @ts-expect-error: the constructors are private
    const made = () => new Transport(hostKey, offer$() as never);
    expectTypeOf([offer, transport, made]).not.toBeAny();
  });
});
