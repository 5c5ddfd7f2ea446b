/**
 * Pins the shape of ssh2 internals that lib/internal/ssh2-reach.ts relies on. If ssh2 changes
 * them, this breaks before users notice that cancel stopped killing remote processes.
 */
import { readFileSync } from 'node:fs';
import { lastValueFrom, from } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ClientChannel } from 'ssh2';
import { Client } from '../../lib/internal/ssh2.js';
import { outgoingPacketSize, policeChannels, sendSignal, serverEnded } from '../../lib/internal/ssh2-reach.js';
import type { TestServerInfo } from '../../lib/testing/index.js';
import { serve } from '../helpers/index.js';

let server: { info: TestServerInfo; stop: () => void };
beforeAll(async () => {
  server = await serve();
});
afterAll(() => server.stop());

function rawChannel(): Promise<{ client: InstanceType<typeof Client>; chan: ClientChannel }> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    client.on('error', reject);
    client.on('ready', () => {
      client.exec('sleep 30', (err, chan) => (err ? reject(err) : resolve({ client, chan })));
    });
    client.connect({ host: server.info.host, port: server.info.port, username: server.info.username, password: server.info.password, hostVerifier: () => true });
  });
}

describe('ssh2 reach-ins', () => {
  it('a channel has outgoing.{id,state,packetSize} and _client._protocol.signal()', async () => {
    const { client, chan } = await rawChannel();
    const raw = chan as unknown as { outgoing: { id: unknown; state: unknown; packetSize: unknown }; _client: { _protocol: { signal: unknown } } };
    expect(typeof raw.outgoing.id).toBe('number');
    expect(raw.outgoing.state).toBe('open');
    expect(outgoingPacketSize(chan)).toBeGreaterThan(0);
    expect(typeof raw._client._protocol.signal).toBe('function');
    client.end();
  });

  it('public signal() is a no-op after EOF; sendSignal() still sends the request', async () => {
    const { client, chan } = await rawChannel();
    const raw = chan as unknown as { outgoing: { id: number; state: string }; _client: { _protocol: { signal: (id: number, s: string) => void } } };
    const spy = vi.spyOn(raw._client._protocol, 'signal');
    chan.end(); // EOF
    await lastValueFrom(from(new Promise((r) => setImmediate(r))));
    expect(raw.outgoing.state).toBe('eof');
    chan.signal('TERM');
    expect(spy).not.toHaveBeenCalled(); // the ssh2 behaviour we work around
    expect(sendSignal(chan, 'TERM')).toBe(true);
    expect(spy).toHaveBeenCalledWith(raw.outgoing.id, 'TERM');
    client.end();
  });

  it('policeChannels() finds ssh2\'s CHANNEL_DATA handlers and channel manager', async () => {
    const { client } = await rawChannel();
    expect(policeChannels(client, () => undefined)).toBe(true);
    client.end();
  });

  it('serverEnded() follows incoming.state (open → eof)', async () => {
    const { client, chan } = await rawChannel();
    expect(serverEnded(chan)).toBe(false);
    client.end();
  });

  it('sendSignal() refuses once the channel is closing', async () => {
    const { client, chan } = await rawChannel();
    chan.close();
    expect(sendSignal(chan, 'TERM')).toBe(false);
    client.end();
  });
});

describe('the ssh2 the reach-ins were checked against', () => {
  it('package.json pins exactly the ssh2 version the reach-ins name, and the installed one passes the start-up check', async () => {
    const { CHECKED_SSH2_VERSION, ssh2Incompatibility } = await import('../../lib/internal/ssh2-reach.js');
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { dependencies: Record<string, string> };
    expect(pkg.dependencies['ssh2']).toBe(CHECKED_SSH2_VERSION);
    expect(ssh2Incompatibility()).toBeUndefined();
  });
});
