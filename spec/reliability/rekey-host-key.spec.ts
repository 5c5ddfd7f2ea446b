/**
 * The host key at re-key: a server that re-keys with the key it was trusted with keeps going
 * (bytes exact across the re-key); one that presents a different key at re-key is torn down
 * with HostKeyRejectedError (phase `kex`) after every byte received before it. The server is
 * ssh2's, told to swap its host key and re-key in the middle of a command's output.
 */
import { createHash } from 'node:crypto';
import { lastValueFrom, reduce, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { ServerChannel } from 'ssh2';
import { HostKeyRejectedError, authenticate, connect, password, pinned, run, sha256Fingerprint, verifyHostKey, withConnection, type ExecChunk } from '../../lib/index.js';
import { fanOut } from '../../lib/fleet/index.js';
import { Server, utils } from '../../lib/ssh2/index.js';
import { generateEd25519 } from '../../lib/testing/index.js';
import { eventually, expectNoLeaks, resources } from '../helpers/index.js';

const BLOCK = Buffer.alloc(64 * 1024, 'x');

/**
 * A server whose exec writes 20 blocks, one per 20 ms; after block 5 it re-keys, with a new host
 * key when `swap` is set. Counts re-keys it completed.
 */
async function rekeyingServer(swap: boolean) {
  const original = generateEd25519();
  const other = generateEd25519();
  const state = { rekeys: 0, closed: 0, execs: 0 };
  const server = new Server({ hostKeys: [original.private] }, (client) => {
    client.on('error', () => undefined);
    client.on('close', () => state.closed++);
    client.on('authentication', (ctx) => ctx.accept());
    client.on('ready', () =>
      client.on('session', (accept) => {
        const session = accept();
        session.on('exec', (acceptExec) => {
          state.execs++;
          const stream: ServerChannel = acceptExec();
          stream.on('error', () => undefined);
          let sent = 0;
          const tick = setInterval(() => {
            if (stream.destroyed || !stream.writable) return clearInterval(tick);
            stream.write(BLOCK);
            if (++sent === 5) {
              if (swap) {
                // ssh2 signs each key exchange with _hostKeys[type], read at that moment.
                const keys = (client as unknown as { _protocol: { _hostKeys: Record<string, unknown> } })._protocol._hostKeys;
                keys['ssh-ed25519'] = utils.parseKey(other.private);
              }
              client.rekey(() => state.rekeys++);
            }
            if (sent === 20) {
              clearInterval(tick);
              stream.exit(0);
              stream.end();
            }
          }, 20);
          stream.on('close', () => clearInterval(tick));
        });
      }),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const fingerprint = sha256Fingerprint((utils.parseKey(original.public) as { getPublicSSH(): Buffer }).getPublicSSH());
  return { server, port, fingerprint, state };
}

const tally = (acc: { bytes: number; hash: ReturnType<typeof createHash> }, c: ExecChunk) => {
  acc.hash.update(c.data);
  acc.bytes += c.data.length;
  return acc;
};

describe('host key at re-key', () => {
  it('the same key at re-key: accepted, every byte delivered', async () => {
    const { server, port, fingerprint, state } = await rekeyingServer(false);
    const got = await lastValueFrom(
      connect({ host: '127.0.0.1', port, username: 'u' }).pipe(
        verifyHostKey(pinned(fingerprint)),
        authenticate(password('p')),
        withConnection((c) => c.exec('stream')),
        reduce(tally, { bytes: 0, hash: createHash('sha256') }),
      ),
    );
    expect(state.rekeys).toBe(1);
    expect(got.bytes).toBe(20 * BLOCK.length);
    expect(got.hash.digest('hex')).toBe(createHash('sha256').update(Buffer.concat(Array.from({ length: 20 }, () => BLOCK))).digest('hex'));
    server.close();
  });

  it('a different key at re-key: HostKeyRejectedError (phase kex), bytes before it delivered, connection closed', async () => {
    const baseline = resources();
    const { server, port, fingerprint, state } = await rekeyingServer(true);
    let bytes = 0;
    const err = await new Promise<unknown>((resolve) =>
      connect({ host: '127.0.0.1', port, username: 'u' })
        .pipe(
          verifyHostKey(pinned(fingerprint)),
          authenticate(password('p')),
          withConnection((c) => c.exec('stream')),
        )
        .subscribe({ next: (c) => (bytes += c.data.length), error: resolve, complete: () => resolve('completed') }),
    );
    expect(err).toBeInstanceOf(HostKeyRejectedError);
    expect(err).toMatchObject({ phase: 'kex', host: '127.0.0.1', port });
    expect((err as Error).message).toMatch(/changed during re-key/);
    expect(bytes).toBeGreaterThanOrEqual(5 * BLOCK.length - 2 * 1024 * 1024); // what arrived before the swap (minus what was still in flight)
    expect(bytes).toBeLessThan(20 * BLOCK.length);
    expect(state.rekeys).toBe(0); // the client never completed the key exchange
    expect(await eventually(() => state.closed === 1)).toBe(true);
    server.close();
    await expectNoLeaks(baseline);
  });
});

describe('fan-out never runs a command twice because of a re-key (issue 12)', () => {
  it('a host key changed at re-key mid-command is host-key-rejected after one attempt, never retried', async () => {
    const { server, port, fingerprint, state } = await rekeyingServer(true);
    const results = await lastValueFrom(
      fanOut([`u@127.0.0.1:${port}`], (t) =>
        connect({ host: t.host, port: t.port ?? 22, username: 'u' }).pipe(verifyHostKey(pinned(fingerprint)), authenticate(password('p')), run('stream')),
        { retries: 3, retryDelay: 10 },
      ).pipe(toArray()),
    );
    expect(results.map((r) => [r.status, r.attempts])).toEqual([['host-key-rejected', 1]]);
    expect(results[0]?.error).toBeInstanceOf(HostKeyRejectedError);
    expect(state.execs).toBe(1);
    server.close();
  });
});
