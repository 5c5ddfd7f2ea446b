import { EMPTY, NEVER, of, tap, throwError } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AuthenticationError,
  TimeoutError,
  agent,
  authenticate,
  connect,
  keyboardInteractive,
  password,
  pinned,
  privateKey,
  verifyHostKey,
  type AuthEvent,
  type AuthProvider,
} from '../../lib/index.js';
import { Server, utils } from '../../lib/ssh2/index.js';
import { generateEd25519, type TestServerInfo } from '../../lib/testing/index.js';
import { errorOf, first, serve } from '../helpers/index.js';
import { keyPair } from '../helpers/keys.js';

const encrypted = keyPair('ed25519', { passphrase: 'open sesame', cipher: 'aes256-ctr', rounds: 4 });
const rsa = utils.generateKeyPairSync('rsa', { bits: 2048 });
const ecdsa = utils.generateKeyPairSync('ecdsa', { bits: 256 });

let server: { info: TestServerInfo; stop: () => void };
beforeAll(async () => {
  server = await serve({
    keyboardInteractive: true,
    banner: 'Authorized use only',
    authorizedKeys: [encrypted.public, rsa.public, ecdsa.public],
  });
});
afterAll(() => server.stop());

function login(providers: AuthProvider[], timeouts = {}) {
  const events: AuthEvent[] = [];
  const connection$ = connect({ host: server.info.host, port: server.info.port, username: server.info.username, timeouts }).pipe(
    verifyHostKey(pinned(server.info.hostKey.fingerprint)),
    tap((t) => t.auth$.subscribe({ next: (e) => events.push(e), error: () => undefined })),
    authenticate(...providers),
  );
  return { connection$, events };
}

const attempts = (events: AuthEvent[]) =>
  events.flatMap((e) => (e.type === 'attempt' ? [`${e.provider}:${e.accepted ? 'ok' : 'no'}`] : []));

describe('authenticate', () => {
  it('password: accepted, reported on auth$ and kept on the Connection', async () => {
    const { connection$, events } = login([password(server.info.password)]);
    const connection = await first(connection$);
    expect(attempts(events)).toEqual(['password:ok']);
    expect(attempts([...connection.auth])).toEqual(['password:ok']);
    expect(connection.username).toBe(server.info.username);
  });

  it('reports the server banner', async () => {
    const { connection$, events } = login([password(server.info.password)]);
    await first(connection$);
    expect(events).toContainEqual({ type: 'banner', message: expect.stringContaining('Authorized use only') });
  });

  it('wrong password → AuthenticationError naming methods tried and left', async () => {
    const { connection$, events } = login([password('wrong')]);
    const err = await errorOf(connection$);
    expect(err).toBeInstanceOf(AuthenticationError);
    const e = err as AuthenticationError;
    expect(e.code).toBe('ERR_SSH_AUTH');
    expect(e.phase).toBe('auth');
    expect(e.methodsTried).toEqual(['password']);
    expect(e.methodsLeft).toEqual(expect.arrayContaining(['publickey', 'password']));
    expect(attempts(events)).toEqual(['password:no']);
  });

  it('tries providers in order until one is accepted', async () => {
    const { connection$, events } = login([password('wrong'), privateKey(server.info.privateKey)]);
    await first(connection$);
    expect(attempts(events)).toEqual(['password:no', 'privateKey:ok']);
  });

  it('ed25519, rsa (rsa-sha2) and ecdsa keys; an encrypted key with its passphrase', async () => {
    for (const key of [rsa.private, ecdsa.private]) {
      const { connection$, events } = login([privateKey(key)]);
      await first(connection$);
      expect(attempts(events)).toEqual(['privateKey:ok']);
    }
    const { connection$, events } = login([privateKey(encrypted.private, { passphrase: 'open sesame' })]);
    await first(connection$);
    expect(attempts(events)).toEqual(['privateKey:ok']);
    const lazy = login([privateKey(() => Promise.resolve(encrypted.private), { passphrase: async () => 'open sesame' })]);
    await first(lazy.connection$);
    expect(attempts(lazy.events)).toEqual(['privateKey:ok']);
  });

  it('a corrupt key, or an encrypted one without passphrase, is a TypeError at call time', () => {
    expect(() => privateKey('-----BEGIN OPENSSH PRIVATE KEY-----\nnope\n-----END OPENSSH PRIVATE KEY-----\n')).toThrow(TypeError);
    expect(() => privateKey(encrypted.private)).toThrow(/passphrase/i);
    expect(() => privateKey(server.info.publicKey)).toThrow(TypeError);
  });

  it('a lazily given wrong passphrase skips the key (an event says so) and the next credential is tried, as ssh does', async () => {
    const { connection$, events } = login([privateKey(encrypted.private, { passphrase: () => 'wrong', name: 'enc' })]);
    const err = await errorOf(connection$);
    expect(err).toBeInstanceOf(AuthenticationError);
    expect((err as Error).message).toMatch(/skipped: bad passphrase for enc/);
    expect(events).toContainEqual({ type: 'skipped', provider: 'privateKey', reason: 'bad-passphrase', detail: 'bad passphrase for enc' });
    const next = login([privateKey(encrypted.private, { passphrase: () => 'wrong' }), password(server.info.password)]);
    expect(await first(next.connection$)).toBeDefined();
  });

  it('password from a function, a Promise or an Observable, asked only when reached', async () => {
    let asked = 0;
    const lazy = password(() => {
      asked++;
      return Promise.resolve(server.info.password);
    });
    const { connection$ } = login([privateKey(server.info.privateKey), lazy]);
    await first(connection$);
    expect(asked).toBe(0);
    await first(login([lazy]).connection$);
    expect(asked).toBe(1);
    await first(login([password(() => of(server.info.password))]).connection$);
  });

  it('a provider that produces nothing is skipped', async () => {
    const { connection$, events } = login([password(() => EMPTY), password(server.info.password)]);
    await first(connection$);
    expect(attempts(events)).toEqual(['password:ok']);
  });

  it('a provider whose source errors fails with AuthenticationError (cause kept)', async () => {
    const boom = new Error('no tty');
    const err = await errorOf(login([password(() => throwError(() => boom))]).connection$);
    expect(err).toBeInstanceOf(AuthenticationError);
    expect((err as Error).cause).toBe(boom);
  });

  it('agent() without SSH_AUTH_SOCK is skipped', async () => {
    const saved = process.env['SSH_AUTH_SOCK'];
    delete process.env['SSH_AUTH_SOCK'];
    try {
      const { connection$, events } = login([agent(), password(server.info.password)]);
      await first(connection$);
      expect(attempts(events)).toEqual(['password:ok']);
    } finally {
      if (saved !== undefined) process.env['SSH_AUTH_SOCK'] = saved;
    }
  });

  it('keyboard-interactive: prompts reported as data, answered by the function', async () => {
    const seen: string[] = [];
    const { connection$, events } = login([
      keyboardInteractive(({ prompts }) => {
        seen.push(...prompts.map((p) => p.prompt));
        return prompts.map(() => server.info.password);
      }),
    ]);
    await first(connection$);
    expect(seen).toEqual(['Password: ']);
    expect(events).toContainEqual(expect.objectContaining({ type: 'prompt', prompts: [{ prompt: 'Password: ', echo: false }] }));
    expect(attempts(events)).toEqual(['keyboardInteractive:ok']);
  });

  it('a credential that never arrives is cut off by the auth deadline', async () => {
    const err = await errorOf(login([password(() => NEVER)], { auth: 300 }).connection$);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as TimeoutError).phase).toBe('auth');
  });

  it('throws TypeError at call time on bad providers', () => {
    expect(() => authenticate()).toThrow(TypeError);
    expect(() => authenticate({} as never)).toThrow(TypeError);
    expect(() => password(42 as never)).toThrow(TypeError);
    expect(() => agent('')).toThrow(TypeError);
    expect(() => keyboardInteractive('x' as never)).toThrow(TypeError);
  });
});

describe('public-key authentication is signed at once', () => {
  it('one signed publickey request per key (no query first); a refused key falls through to the next provider', async () => {
    const accepted = keyPair('ed25519');
    const refused = utils.generateKeyPairSync('rsa', { bits: 2048 });
    const allowed = utils.parseKey(accepted.public) as { getPublicSSH(): Buffer; verify(data: Buffer, sig: Buffer, hash?: string): boolean };
    const attempts: Array<{ method: string; signed: boolean; accepted: boolean }> = [];
    const srv = new Server({ hostKeys: [generateEd25519().private] }, (client) => {
      client.on('error', () => undefined);
      client.on('authentication', (ctx) => {
        if (ctx.method === 'publickey') {
          const ok = ctx.key.data.equals(allowed.getPublicSSH()) && (!ctx.signature || (ctx.blob !== undefined && allowed.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true));
          attempts.push({ method: 'publickey', signed: ctx.signature !== undefined, accepted: ok });
          return ok ? ctx.accept() : ctx.reject(['publickey', 'password']);
        }
        attempts.push({ method: ctx.method, signed: false, accepted: false });
        return ctx.reject(['publickey', 'password']);
      });
      client.on('ready', () => client.end());
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as { port: number }).port;
    const connection = await first(
      connect({ host: '127.0.0.1', port, username: 'u' }).pipe(verifyHostKey(() => true), authenticate(privateKey(refused.private), privateKey(accepted.private))),
    );
    expect(connection.username).toBe('u');
    expect(attempts).toEqual([
      { method: 'publickey', signed: true, accepted: false },
      { method: 'publickey', signed: true, accepted: true },
    ]);
    srv.close();
  });
});
