/**
 * A server that never answers must not hold SFTP or forwarding forever (issue 12): the SFTP
 * session open and its subsystem request and a forwarding channel open get the channel-open
 * deadline exec has; each SFTP request can get its own deadline (`timeouts.sftpRequest`).
 */
import { lastValueFrom, type Observable } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { TimeoutError, authenticate, connect, password, verifyHostKey, withConnection, type Connection, type TimeoutsConfig } from '../../lib/index.js';
import { Server } from '../../lib/ssh2/index.js';
import { generateEd25519 } from '../../lib/testing/index.js';
import { errorOf, expectNoLeaks, resources } from '../helpers/index.js';

type Silence = 'session' | 'subsystem' | 'stat' | 'tcpip';

/** A server that leaves one kind of request unanswered. */
async function silent(what: Silence): Promise<{ port: number; close: () => Promise<void> }> {
  const clients = new Set<{ end: () => void }>();
  const server = new Server({ hostKeys: [generateEd25519().private] }, (client) => {
    clients.add(client);
    client.on('error', () => undefined);
    client.on('authentication', (ctx) => ctx.accept());
    client.on('ready', () => {
      client.on('session', (accept) => {
        if (what === 'session') return; // never confirmed
        const session = accept();
        session.on('sftp', (acceptSftp) => {
          if (what === 'subsystem') return; // never answered
          const sftp = acceptSftp();
          sftp.on('REALPATH', (id) => sftp.name(id, [{ filename: '/', longname: '/', attrs: { mode: 0o40755, uid: 0, gid: 0, size: 0, atime: 0, mtime: 0 } }]));
          sftp.on('STAT', () => undefined); // never answered
        });
      });
      client.on('tcpip', () => undefined); // never confirmed
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as { port: number }).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of clients) c.end();
        server.close(() => resolve());
      }),
  };
}

const login = (port: number, timeouts: TimeoutsConfig) =>
  connect({ host: '127.0.0.1', port, username: 'u', timeouts }).pipe(verifyHostKey(() => true), authenticate(password('p')));

const sftpStat = (c: Connection): Observable<unknown> => c.withSftp((s) => s.stat('/'));

describe('deadlines for SFTP and forwarding', () => {
  it.each([
    ['an SFTP session whose channel is never confirmed', 'sftp', 'session', sftpStat],
    ['an SFTP subsystem request never answered', 'sftp', 'subsystem', sftpStat],
    ['a forwardOut open never confirmed', 'forward', 'tcpip', (c: Connection): Observable<unknown> => c.forwardOut('10.9.9.9', 80)],
  ] as const)('%s → TimeoutError (phase %s) at timeouts.channelOpen, nothing leaked', async (_label, phase, what, use) => {
    const server = await silent(what);
    const baseline = resources();
    try {
      const err = await errorOf(login(server.port, { channelOpen: 300 }).pipe(withConnection(use)));
      expect(err).toBeInstanceOf(TimeoutError);
      expect((err as TimeoutError).phase).toBe(phase);
    } finally {
      await server.close();
    }
    await expectNoLeaks(baseline);
  });

  it('an SFTP request never answered → TimeoutError (phase sftp) with timeouts.sftpRequest; the connection stays usable', async () => {
    const server = await silent('stat');
    const baseline = resources();
    try {
      const out = await lastValueFrom(
        login(server.port, { sftpRequest: 300 }).pipe(
          withConnection(async (c) => {
            const stat = await errorOf(c.withSftp((s) => s.stat('/never')));
            const path = await lastValueFrom(c.withSftp((s) => s.realpath('.')));
            return { stat, path };
          }),
        ),
      );
      expect(out.stat).toBeInstanceOf(TimeoutError);
      expect((out.stat as TimeoutError).phase).toBe('sftp');
      expect(out.path).toBe('/');
    } finally {
      await server.close();
    }
    await expectNoLeaks(baseline);
  });
});
