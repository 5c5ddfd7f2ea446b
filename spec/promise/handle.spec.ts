/** The async/await handle: open until closed or disposed, one-liners for the everyday jobs. */
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { ExitStatusError, HostKeyRejectedError, authenticate, connect, openConnection, password, pinned, verifyHostKey } from '../../lib/index.js';
import type { TestServerInfo } from '../../lib/testing/index.js';
import { connectTo, expectNoLeaks, resources, serve } from '../helpers/index.js';

let server: { info: TestServerInfo; stop: () => void };
beforeAll(async () => {
  server = await serve({ commands: 'local' });
});
afterAll(() => server.stop());

describe('openConnection', () => {
  it('stays open across calls (firstValueFrom of a pipeline would have closed it) and closes on close()', async () => {
    const baseline = resources();
    const ssh = await openConnection(connectTo(server.info));
    const a = await ssh.run('echo one');
    const b = await ssh.run('printf "%s" "$PWD"', { cwd: '/tmp' });
    const c = await ssh.run('cat; exit 3', { stdin: 'from stdin' });
    expect([a.stdout, a.exitCode]).toEqual(['one\n', 0]);
    expect(b.stdout).toBe('/tmp');
    expect([c.stdout, c.exitCode]).toEqual(['from stdin', 3]);
    await expect(ssh.run('exit 4', { check: true })).rejects.toBeInstanceOf(ExitStatusError);
    const bytes = await ssh.run('cat', { stdin: new Uint8Array([0xff, 0, 0x80]), encoding: 'buffer' });
    expectTypeOf(bytes.stdout).toEqualTypeOf<Buffer>();
    expect([...bytes.stdout]).toEqual([0xff, 0, 0x80]);
    await ssh.close();
    await ssh.closed;
    await expectNoLeaks(baseline);
  });

  it('await using closes it at the end of the block', async () => {
    const baseline = resources();
    let kept: Awaited<ReturnType<typeof openConnection>> | undefined;
    {
      await using ssh = await openConnection(connectTo(server.info));
      kept = ssh;
      expect((await ssh.run('echo in block')).stdout).toBe('in block\n');
    }
    await kept?.closed;
    await expect(kept?.run('true')).rejects.toThrow();
    await expectNoLeaks(baseline);
  });

  it('rejects with the typed error the connection failed with', async () => {
    const wrong = connect({ host: server.info.host, port: server.info.port, username: server.info.username }).pipe(
      verifyHostKey(pinned('SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')),
      authenticate(password(server.info.password)),
    );
    await expect(openConnection(wrong)).rejects.toBeInstanceOf(HostKeyRejectedError);
  });
});
