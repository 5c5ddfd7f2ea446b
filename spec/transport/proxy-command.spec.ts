/** connect({ proxyCommand }): the connection through a command's stdio, its errors, and its reaping. */
import { execFileSync } from 'node:child_process';
import { lastValueFrom, NEVER, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, pinned, password, authenticate, verifyHostKey, run, ProxyCommandError, TimeoutError, withConnection } from '../../lib/index.js';
import { fanOut } from '../../lib/fleet/index.js';
import type { TestServerInfo } from '../../lib/testing/index.js';
import { errorOf, eventually, serve } from '../helpers/index.js';

let server: { info: TestServerInfo; stop: () => void };
beforeAll(async () => {
  server = await serve({ commands: 'local' });
});
afterAll(() => server?.stop());

/** A ProxyCommand that relays stdio to the test server, as `nc HOST PORT` would; `tag` marks it in ps. */
const relay = (tag = 'relay') =>
  `${process.execPath} -e 'const s = require("net").connect(${server.info.port}, "127.0.0.1"); process.stdin.pipe(s); s.pipe(process.stdout); s.on("close", () => process.exit(0))' ${tag}`;
const through = (proxyCommand: string, extra: object = {}) =>
  connect({ host: 'target.internal', port: 22, username: server.info.username, proxyCommand, ...extra }).pipe(
    verifyHostKey(pinned(server.info.hostKey.fingerprint)),
    authenticate(password(server.info.password)),
  );
const running = (tag: string): boolean => execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).includes(tag);

describe('connect({ proxyCommand })', () => {
  it('runs commands over the ProxyCommand\'s stdin/stdout; the command is gone once the connection ends', async () => {
    const tag = `relay-${process.pid}-a`;
    const r = await lastValueFrom(through(relay(tag)).pipe(run('echo through the proxy')));
    expect(r.stdout).toBe('through the proxy\n');
    expect(await eventually(() => !running(tag), 5000), 'the ProxyCommand was reaped').toBe(true);
  });

  it('unsubscribing stops the whole process group of the command (a pipeline too)', async () => {
    const tag = `sleep 61.${process.pid % 1000}7`;
    const sub = through(`sh -c '${tag} & exec ${relay('relay-group').replaceAll("'", "'\\''")}'`)
      .pipe(withConnection(() => NEVER))
      .subscribe({ error: () => undefined });
    expect(await eventually(() => running(tag), 5000), 'the pipeline started').toBe(true);
    sub.unsubscribe();
    expect(await eventually(() => !running(tag) && !running('relay-group'), 5000), 'every process of it stopped').toBe(true);
  });

  it('a command that exits before the banner is a ProxyCommandError with its status and stderr (phase banner)', async () => {
    // Run as `exec COMMAND`, like ssh runs it: a list needs a shell of its own.
    const err = await errorOf(through(`sh -c 'echo "bastion: Connection refused" >&2; exit 255'`));
    expect(err).toBeInstanceOf(ProxyCommandError);
    const e = err as ProxyCommandError;
    expect(e).toMatchObject({ exitCode: 255, signal: null, phase: 'banner', host: 'target.internal', port: 22 });
    expect(e.stderr).toBe('bastion: Connection refused\n');
    expect(e.message).toBe(`ProxyCommand "sh -c 'echo \\"bastion: Connection refused\\" >&2; exit 255'" exited with status 255 before the SSH banner: bastion: Connection refused (target.internal:22, phase banner)`);
    const clean = await errorOf(through('true'));
    expect(clean).toBeInstanceOf(ProxyCommandError);
    expect((clean as ProxyCommandError).exitCode).toBe(0);
  });

  it('a command that never speaks meets the handshake deadline, and is stopped', async () => {
    const tag = `sleep 62.${process.pid % 1000}3`;
    const err = await errorOf(through(tag, { timeouts: { handshake: 300 } }));
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as TimeoutError).phase).toBe('banner');
    expect(await eventually(() => !running(tag), 5000)).toBe(true);
  });

  it('in a fan-out a failing ProxyCommand is an unreachable host; its stderr can be passed on; with via it is a TypeError', async () => {
    const seen: string[] = [];
    const results = await lastValueFrom(
      fanOut(['ok', 'down'], (t) => through(t.host === 'ok' ? relay() : 'echo nope >&2; exit 1', { proxyStderr: (chunk: Buffer) => seen.push(chunk.toString()) }).pipe(run('echo hi')), { retries: 0 }).pipe(toArray()),
    );
    expect(results.map((r) => [r.host, r.status]).sort()).toEqual([
      ['down', 'unreachable'],
      ['ok', 'ok'],
    ]);
    expect(seen).toContain('nope\n');
    expect(() => connect({ host: 'h', username: 'u', proxyCommand: 'true', via: through(relay()) })).toThrow(TypeError);
    expect(() => connect({ host: 'h', username: 'u', proxyCommand: '' })).toThrow(TypeError);
  });
});
