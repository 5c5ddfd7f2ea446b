/**
 * A hostile or stuck SSH agent: a sign request never answered (a security key waiting for a
 * touch) ends at the auth deadline with the agent's socket closed; a reply announcing 4 GiB is
 * refused at once (OpenSSH caps agent replies at 256 KiB) and the next credential is tried.
 */
import { mkdtempSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastValueFrom } from 'rxjs';
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import { TimeoutError, agent, authenticate, connect, password, pinned, run, verifyHostKey } from '../../lib/index.js';
import { utils } from '../../lib/ssh2/index.js';
import { generateEd25519, type TestServerInfo } from '../../lib/testing/index.js';
import { errorOf, expectNoLeaks, resources, serve } from '../helpers/index.js';

const IDENTITIES_ANSWER = 12;

/** A Unix-socket agent scripted per request; counts the connections still open. */
async function fakeAgent(answer: (type: number, socket: Socket) => void): Promise<{ path: string; open: () => number; requests: number[]; close: () => Promise<void> }> {
  const path = join(mkdtempSync(join(tmpdir(), 'rxssh-agent-')), 'agent.sock');
  const sockets = new Set<Socket>();
  const requests: number[] = [];
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.once('data', (d: Buffer) => {
      requests.push(d[4] ?? 0);
      answer(d[4] ?? 0, socket);
    });
  });
  await new Promise<void>((r) => server.listen(path, r));
  return {
    path,
    open: () => sockets.size,
    requests,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/** An IDENTITIES_ANSWER holding one key. */
function identities(publicKey: string): Buffer {
  const parsed = utils.parseKey(publicKey);
  if (parsed instanceof Error) throw parsed;
  const blob = parsed.getPublicSSH();
  const comment = Buffer.from('hostile');
  const body = Buffer.alloc(1 + 4 + 4 + blob.length + 4 + comment.length);
  let at = 0;
  body[at++] = IDENTITIES_ANSWER;
  at = body.writeUInt32BE(1, at);
  at = body.writeUInt32BE(blob.length, at);
  at += blob.copy(body, at);
  at = body.writeUInt32BE(comment.length, at);
  comment.copy(body, at);
  const frame = Buffer.alloc(4);
  frame.writeUInt32BE(body.length);
  return Buffer.concat([frame, body]);
}

let server: { info: TestServerInfo; stop: () => void };
const clientKey = generateEd25519();
beforeAll(async () => {
  server = await serve({ clientKey });
});
afterAll(() => server.stop());
let agentServer: Awaited<ReturnType<typeof fakeAgent>> | undefined;
afterEach(async () => {
  await agentServer?.close();
  agentServer = undefined;
});

const login = (...providers: Parameters<typeof authenticate>) =>
  connect({ host: server.info.host, port: server.info.port, username: server.info.username, timeouts: { auth: 800 } }).pipe(
    verifyHostKey(pinned(server.info.hostKey.fingerprint)),
    authenticate(...providers),
  );

describe('a hostile or stuck SSH agent', () => {
  it('a sign request never answered: TimeoutError (auth) at the deadline, the agent socket closed, nothing left open', async () => {
    agentServer = await fakeAgent((type, socket) => {
      if (type === 11) socket.write(identities(clientKey.public));
      // 13 (sign): never answered, as a security key waiting for a touch.
    });
    const before = resources();
    const err = await errorOf(login(agent(agentServer.path)).pipe(run('echo hi')));
    expect(err).toBeInstanceOf(TimeoutError);
    expect((err as TimeoutError).phase).toBe('auth');
    expect(agentServer.requests).toEqual([11, 13]);
    await expectNoLeaks(before);
    expect(agentServer.open()).toBe(0);
  });

  it('a reply announcing 4 GiB is refused at once without reading it; the next credential logs in', async () => {
    let sent = 0;
    agentServer = await fakeAgent((_type, socket) => {
      const header = Buffer.alloc(4);
      header.writeUInt32BE(0xffffffff);
      socket.write(header);
      // Then keep sending, as a hostile agent would.
      const block = Buffer.alloc(64 * 1024);
      const pump = (): void => {
        while (!socket.destroyed && sent < 64 * 1024 * 1024 && socket.write(block)) sent += block.length;
        if (!socket.destroyed && sent < 64 * 1024 * 1024) socket.once('drain', pump);
      };
      pump();
    });
    const rss = process.memoryUsage().rss;
    const started = Date.now();
    const r = await lastValueFrom(login(agent(agentServer.path), password(server.info.password)).pipe(run('echo hi')));
    expect(r.stdout).toBe('hi\n');
    expect(Date.now() - started).toBeLessThan(5000); // a bound on a hang, not a speed claim
    expect(process.memoryUsage().rss - rss).toBeLessThan(32 * 1024 * 1024);
    expect(sent).toBeLessThan(64 * 1024 * 1024);
  });
});
