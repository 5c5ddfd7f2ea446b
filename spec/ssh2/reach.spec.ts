/**
 * Pins the shape of ssh2 internals that lib/ssh2/reach.ts relies on. If ssh2 changes
 * them, this breaks before users notice that cancel stopped killing remote processes.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { lastValueFrom, from } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ClientChannel, SFTPWrapper } from 'ssh2';
import { Client, SFTP_WRITE_HEADROOM, abandonSftpRequests, outgoingPacketSize, policeChannels, sendSftpWrite, sendSignal, serverEnded, sftpOnExecChannel } from '../../lib/ssh2/index.js';
import type { TestServerInfo } from '../../lib/testing/index.js';
import { serve } from '../helpers/index.js';
import { memorySftp } from '../helpers/sftp-server.js';

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

describe('sftpOnExecChannel(): ssh2\'s SFTP client on an exec channel', () => {
  it('the channel manager takes the SFTP instance; a server on the channel answers (the in-process test server\'s sftp over exec is refused: its error is passed on)', async () => {
    const { client, chan } = await rawChannel();
    try {
      expect(typeof (client as unknown as { _chanMgr?: { update?: unknown } })._chanMgr?.update).toBe('function');
      expect(typeof (chan as unknown as { incoming?: { id?: unknown } }).incoming?.id).toBe('number');
      // `sleep 30` is no SFTP server: the session never becomes ready, so this shows the hand-over only.
      let called = false;
      sftpOnExecChannel(client, chan, () => {
        called = true;
      });
      const sftp = (client as unknown as { _chanMgr: { get(id: number): unknown } })._chanMgr.get((chan as unknown as { incoming: { id: number } }).incoming.id);
      expect(sftp?.constructor?.name).toBe('SFTP');
      expect(called).toBe(false);
      expect(await new Promise((resolve) => sftpOnExecChannel({}, chan, (err) => resolve(String(err))))).toMatch(/channel manager/);
    } finally {
      client.end();
    }
  });
});

describe('sendSftpWrite(): WRITE requests without ssh2\'s copy', () => {
  const rawSftp = (port: number): Promise<{ client: InstanceType<typeof Client>; sftp: SFTPWrapper }> =>
    new Promise((resolve, reject) => {
      const client = new Client();
      client.on('error', reject);
      client.on('ready', () => client.sftp((err, sftp) => (err ? reject(err) : resolve({ client, sftp }))));
      client.connect({ host: '127.0.0.1', port, username: 'u', password: 'p', hostVerifier: () => true });
    });
  const call = <T>(fn: (done: (err: Error | null | undefined, value: T) => void) => void): Promise<T> =>
    new Promise((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value))));

  it('shares ssh2\'s request ids, window and answers: more than a window in flight, ssh2\'s own requests between, hash-exact', async () => {
    const server = await memorySftp();
    const { client, sftp } = await rawSftp(server.port);
    try {
      const handle = await call<Buffer>((done) => sftp.open('/f', 'w', done));
      const size = (sftp as unknown as { _maxWriteLen: number })._maxWriteLen;
      const pieces = Array.from({ length: 100 }, () => randomBytes(size)); // 100 × ~31 KiB: more than ssh2 server's 2 MiB window
      const sent = pieces.map((piece, i) => {
        const buf = Buffer.alloc(SFTP_WRITE_HEADROOM + piece.length);
        piece.copy(buf, SFTP_WRITE_HEADROOM);
        return new Promise<boolean>((resolve, reject) => {
          const took = sendSftpWrite(sftp, handle, buf.subarray(SFTP_WRITE_HEADROOM), SFTP_WRITE_HEADROOM, i * size, (err) => (err ? reject(err) : resolve(took)));
        });
      });
      const waiting = (sftp as unknown as { _buffer: unknown[] })._buffer.length;
      const stat = call<{ size: number }>((done) => sftp.fstat(handle, done)); // one of ssh2's own, queued behind ours
      expect(await Promise.all(sent)).toEqual(pieces.map(() => true));
      expect((await stat).size).toBe(100 * size);
      expect(waiting).toBeGreaterThan(0); // the window ran out: the rest went out as it reopened
      expect((sftp as unknown as { _buffer: unknown[] })._buffer).toEqual([]);
      await call<void>((done) => sftp.close(handle, done));
      expect(server.files.get('/f')?.equals(Buffer.concat(pieces))).toBe(true);
      // What it does not take, it says so (the caller uses sftp.write()).
      const one = Buffer.alloc(SFTP_WRITE_HEADROOM + size + 1);
      expect(sendSftpWrite(sftp, handle, one.subarray(SFTP_WRITE_HEADROOM), SFTP_WRITE_HEADROOM, 0, () => undefined)).toBe(false); // longer than one WRITE
      expect(sendSftpWrite(sftp, handle, one.subarray(10, 20), 10, 0, () => undefined)).toBe(false); // too little headroom
    } finally {
      client.end();
      await server.close();
    }
  });

  it('a request ended before it went out leaves a copy of its rest waiting, not a view of the caller\'s buffer', () => {
    const sentData: Buffer[] = [];
    const fake = {
      _writeReqid: 41,
      _requests: {} as Record<number, unknown>,
      _buffer: [] as Buffer[],
      _maxReadLen: 1000,
      _maxWriteLen: 1000,
      _protocol: { channelData: (_id: number, data: Buffer) => sentData.push(Buffer.from(data)) },
      outgoing: { id: 0, state: 'open', window: 40, packetSize: 32 },
      _waitWindow: false,
      _chunkcb: undefined as undefined | (() => void),
    };
    const buf = Buffer.alloc(SFTP_WRITE_HEADROOM + 100, 7);
    const errors: unknown[] = [];
    expect(sendSftpWrite(fake, Buffer.from([1, 2, 3, 4]), buf.subarray(SFTP_WRITE_HEADROOM), SFTP_WRITE_HEADROOM, 5, (err) => errors.push(err))).toBe(true);
    expect(sentData.map((d) => d.length)).toEqual([32, 8]); // the window's 40 bytes, in packets of at most 32
    expect(fake._waitWindow).toBe(true);
    const header = 4 + 1 + 4 + 4 + 4 + 8 + 4;
    expect(sentData[0]?.readUInt32BE(5)).toBe(42); // the next of ssh2's request ids
    expect(fake._buffer).toHaveLength(1);
    expect(fake._buffer[0]?.buffer).toBe(buf.buffer); // the rest waits as a view...
    abandonSftpRequests(fake, new Error('gave up'));
    expect(errors).toHaveLength(1);
    expect(fake._buffer[0]?.buffer).not.toBe(buf.buffer); // ...and is a copy once the request ended
    buf.fill(9); // the caller refills its buffer
    fake.outgoing.window = 1000;
    fake._chunkcb?.call(fake); // the window reopens
    expect(Buffer.concat(sentData).subarray(header)).toEqual(Buffer.alloc(100, 7));
    expect(fake._buffer).toEqual([]);
  });
});

describe('the ssh2 the reach-ins were checked against', () => {
  it('package.json pins exactly the ssh2 version the reach-ins name, and the installed one passes the start-up check', async () => {
    const { CHECKED_SSH2_VERSION, ssh2Incompatibility } = await import('../../lib/ssh2/index.js');
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { dependencies: Record<string, string> };
    expect(pkg.dependencies['ssh2']).toBe(CHECKED_SSH2_VERSION);
    expect(ssh2Incompatibility()).toBeUndefined();
  });
});

describe('reach-ins fail loudly, never quietly (issue 21 #18)', () => {
  it('a client whose protocol cannot signal fails connect with Ssh2CompatibilityError (a cancel would no longer stop the remote process)', async () => {
    const { Ssh2CompatibilityError, authenticate, connect, password, pinned, verifyHostKey } = await import('../../lib/index.js');
    const { signalsReachable } = await import('../../lib/ssh2/index.js');
    expect(signalsReachable({ _protocol: { signal: () => undefined } })).toBe(true);
    expect(signalsReachable({ _protocol: {} })).toBe(false);
    const Protocol = (await import('node:module')).createRequire(import.meta.url)('ssh2/lib/protocol/Protocol.js') as { prototype: Record<string, unknown> };
    const signal = Protocol.prototype['signal'];
    Protocol.prototype['signal'] = undefined;
    try {
      const err = await new Promise((resolve) =>
        connect({ host: server.info.host, port: server.info.port, username: server.info.username })
          .pipe(verifyHostKey(pinned(server.info.hostKey.fingerprint)), authenticate(password(server.info.password)))
          .subscribe({ error: resolve, next: () => resolve('connected') }),
      );
      expect(err).toBeInstanceOf(Ssh2CompatibilityError);
    } finally {
      Protocol.prototype['signal'] = signal;
    }
  });

  it('an SFTP session without a request table is refused with Ssh2CompatibilityError (deadlines and a lost channel could not reach its requests)', async () => {
    const { sftpRequestsReachable, watchSftpRequests } = await import('../../lib/ssh2/index.js');
    expect(sftpRequestsReachable({ _requests: {} })).toBe(true);
    expect(sftpRequestsReachable({})).toBe(false);
    expect(() => watchSftpRequests({}, 1000, () => undefined)).toThrow(/request table/);
  });
});
