/**
 * Never silently wrong: an option the API does not take (a typo, ssh2's name for it, a field of
 * another config) is a TypeError naming it at call time, never dropped.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EMPTY, lastValueFrom, map, of, type Subscription } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkOptions, optionNames } from '../../lib/util/check.js';
import {
  acceptNew,
  authenticate,
  connect,
  connectAlias,
  credentialsFor,
  exec,
  fromSshConfig,
  HopPool,
  knownHosts,
  password,
  privateKey,
  run,
  splitLines,
  sshConfigAliases,
  verifyHostKey,
  withConnection,
  type Connection,
} from '../../lib/index.js';
import { fanOut, fanOutInWorkers, sshConfigTargets } from '../../lib/fleet/index.js';
import { fanOutOnQueue, queueWorker } from '../../lib/queue/index.js';
import { testServer } from '../../lib/testing/index.js';
import { openConnection } from '../../lib/promise/handle.js';
import { connectTo, serve } from '../helpers/index.js';
import { memorySftp } from '../helpers/sftp-server.js';

describe('checkOptions', () => {
  const names = optionNames<{ readonly chunkSize?: number; readonly concurrency?: number; readonly preserve?: boolean }>()(['chunkSize', 'concurrency', 'preserve']);

  it('refuses a name the type does not have, says which it was likely meant to be, and lists what it takes', () => {
    expect(() => checkOptions('upload()', { concurency: 4 }, names)).toThrow(
      new TypeError('upload(): unknown option "concurency" (did you mean "concurrency"?); it takes chunkSize, concurrency, preserve'),
    );
    expect(() => checkOptions('upload()', { ChunkSize: 1 }, names)).toThrow(/unknown option "ChunkSize" \(did you mean "chunkSize"\?\)/);
    expect(() => checkOptions('upload()', { mode: 0o600 }, names)).toThrow(new TypeError('upload(): unknown option "mode"; it takes chunkSize, concurrency, preserve'));
  });

  it('a foreign name gets its hint (exact or nearly); a known name, an undefined value and no config pass', () => {
    const hints = { readyTimeout: 'use timeouts: { handshake }' };
    expect(() => checkOptions('connect()', { readyTimeout: 5 }, names, hints)).toThrow(/unknown option "readyTimeout" \(use timeouts: \{ handshake \}\)/);
    expect(() => checkOptions('connect()', { readyTimout: 5 }, names, hints)).toThrow(/unknown option "readyTimout" \(readyTimeout\? use timeouts/);
    expect(() => checkOptions('x', { chunkSize: 1, concurrency: 2, preserve: true }, names)).not.toThrow();
    expect(() => checkOptions('x', { typo: undefined }, names)).not.toThrow();
    expect(() => checkOptions('x', undefined, names)).not.toThrow();
  });

  it('the name list is held to the type at compile time (tsc checks these lines)', () => {
    type Both = { readonly a?: number; readonly b?: number };
    // @ts-expect-error: 'b' is left out
    optionNames<Both>()(['a']);
    // @ts-expect-error: 'c' is not a key of the type
    optionNames<Both>()(['a', 'b', 'c']);
    expect([...optionNames<Both>()(['a', 'b'])]).toEqual(['a', 'b']);
  });
});

describe('the public API refuses an option it does not take, at call time', () => {
  let dir: string;
  let config: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'rxssh-options-'));
    config = join(dir, 'config');
    writeFileSync(config, 'Host web\n  HostName 127.0.0.1\n  User ops\nHost inner\n  HostName 10.0.0.7\n  User ops\n  ProxyJump web\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const host = { host: 'h', username: 'u' };
  const queue = { url: 'redis://127.0.0.1:1' };

  const cases: Array<[string, () => unknown, RegExp]> = [
    ['connect: a typo', () => connect({ ...host, keepAlive: { interval: 1 } } as never), /^connect\(\): unknown option "keepAlive" \(did you mean "keepalive"\?\)/],
    ['connect: ssh2\'s privateKey', () => connect({ ...host, privateKey: 'PEM' } as never), /connect\(\): unknown option "privateKey" \(credentials go to authenticate\(\)/],
    ['connect: ssh2\'s hostVerifier', () => connect({ ...host, hostVerifier: () => true } as never), /"hostVerifier" \(the host key is checked by the verifyHostKey\(\) stage/],
    ['connect: timeouts', () => connect({ ...host, timeouts: { handshak: 1 } } as never), /^connect\(\): timeouts: unknown option "handshak" \(did you mean "handshake"\?\)/],
    ['connect: keepalive', () => connect({ ...host, keepalive: { count: 1 } } as never), /^connect\(\): keepalive: unknown option "count"/],
    ['connect: rekeyLimit', () => connect({ ...host, rekeyLimit: { byte: 1 << 20 } } as never), /^connect\(\): rekeyLimit: unknown option "byte" \(did you mean "bytes"\?\)/],
    ['connect: algorithms', () => connect({ ...host, algorithms: { ciphers: ['aes128-gcm@openssh.com'] } } as never), /^connect\(\): algorithms: unknown option "ciphers" \(did you mean "cipher"\?\)/],
    ['connect: an algorithm list edit', () => connect({ ...host, algorithms: { cipher: { apend: ['x'] } } } as never), /^connect\(\): algorithms.cipher: unknown option "apend" \(did you mean "append"\?\)/],
    ['knownHosts', () => knownHosts({ file: ['x'] } as never), /^knownHosts\(\): unknown option "file" \(did you mean "files"\?\)/],
    ['acceptNew', () => acceptNew({ files: ['x'], learn: 'x' } as never), /^acceptNew\(\): unknown option "learn"/],
    ['knownHosts: learnTo is acceptNew\'s', () => knownHosts({ files: ['x'], learnTo: 'x' } as never), /^knownHosts\(\): unknown option "learnTo"/],
    ['acceptNew: updateHostKeys', () => acceptNew({ files: ['x'], updateHostKeys: { file: 'x', hashed: true } } as never), /^acceptNew\(\): updateHostKeys: unknown option "hashed" \(did you mean "hash"\?\)/],
    ['knownHosts: checkHostIp', () => knownHosts({ files: ['x'], checkHostIp: { files: 'x' } } as never), /^knownHosts\(\): checkHostIp: unknown option "files" \(did you mean "file"\?\)/],
    ['HopPool', () => new HopPool({ maxChannel: 8 } as never), /^new HopPool\(\): unknown option "maxChannel" \(did you mean "maxChannels"\?\)/],
    ['fromSshConfig', () => fromSshConfig('web', { file: config, users: 'x' } as never), /^fromSshConfig\(\): unknown option "users" \(did you mean "user"\?\)/],
    ['fromSshConfig: connectAlias\'s credentials', () => fromSshConfig('web', { file: config, credentials: [] } as never), /^fromSshConfig\(\): unknown option "credentials"/],
    ['connectAlias', () => connectAlias('web', { file: config, hopPol: null } as never), /^connectAlias\(\): unknown option "hopPol" \(did you mean "hopPool"\?\)/],
    ['sshConfigAliases', () => sshConfigAliases({ file: config, matches: 'w*' } as never), /^sshConfigAliases\(\): unknown option "matches" \(did you mean "match"\?\)/],
    ['sshConfigTargets', () => sshConfigTargets({ file: config, mach: 'w*' } as never), /^sshConfigTargets\(\): unknown option "mach" \(did you mean "match"\?\)/],
    ['credentialsFor', () => credentialsFor(fromSshConfig('web', { file: config }), { identity: ['k'] } as never), /^credentialsFor\(\): unknown option "identity"/],
    ['privateKey', () => privateKey(() => 'PEM', { passPhrase: 'x' } as never), /^privateKey\(\): unknown option "passPhrase" \(did you mean "passphrase"\?\)/],
    ['privateKey: addToAgent', () => privateKey(() => 'PEM', { addToAgent: { socket: 's', lifeTime: 5 } } as never), /^privateKey\(\): addToAgent: unknown option "lifeTime" \(did you mean "lifetime"\?\)/],
    ['exec', () => exec('true', { timeout: 5 } as never), /^exec\(\): unknown option "timeout"/],
    ['exec: become', () => exec('true', { become: { usr: 'root' } } as never), /^become: unknown option "usr" \(did you mean "user"\?\)/],
    ['run', () => run('true', { maxbuffer: 5 } as never), /^run\(\): unknown option "maxbuffer" \(did you mean "maxBuffer"\?\)/],
    ['splitLines', () => splitLines({ maxLen: 5 } as never), /^splitLines\(\): unknown option "maxLen"/],
    ['fanOut', () => fanOut([], () => EMPTY, { concurency: 4 } as never), /^fanOut\(\): unknown option "concurency" \(did you mean "concurrency"\?\)/],
    ['fanOutInWorkers', () => fanOutInWorkers([], { module: '/nowhere.mjs' }, { thread: 2 } as never), /^fanOutInWorkers\(\): unknown option "thread" \(did you mean "threads"\?\)/],
    ['fanOutOnQueue', () => fanOutOnQueue([], { command: 'true' }, { queue, runid: 'x' } as never), /^fanOutOnQueue\(\): unknown option "runid" \(did you mean "runId"\?\)/],
    ['fanOutOnQueue: the job', () => fanOutOnQueue([], { command: 'true', std: 'x' } as never, { queue }), /^fanOutOnQueue\(\): job: unknown option "std"/],
    ['fanOutOnQueue: the queue', () => fanOutOnQueue([], { command: 'true' }, { queue: { ...queue, passwd: 'x' } } as never), /^fanOutOnQueue\(\): queue: unknown option "passwd"/],
    ['queueWorker', () => queueWorker(() => EMPTY, { queue, concurency: 2 } as never), /^queueWorker\(\): unknown option "concurency"/],
    ['testServer', () => testServer({ user: 'x' } as never), /^testServer\(\): unknown option "user"/],
    ['openConnection: { host }', () => openConnection({ host: 'h', identityFile: 'k' } as never), /^openConnection\(\): unknown option "identityFile"/],
  ];
  it.each(cases)('%s', (_name, call, message) => {
    expect(call).toThrow(TypeError);
    expect(call).toThrow(message);
  });

  it('connect() takes a host fromSshConfig resolved as it is, but refuses one behind a ProxyJump it would not follow', () => {
    expect(() => connect(fromSshConfig('web', { file: config }))).not.toThrow();
    expect(() => connect(fromSshConfig('inner', { file: config }))).toThrow(
      new TypeError('connect(): 10.0.0.7 is behind ProxyJump web (from ssh_config), which connect() does not follow: use connectAlias(), or give via'),
    );
  });

  it('openConnection() refuses options it would not use (they apply to an alias or a spec only)', () => {
    expect(() => openConnection({ host: 'h' }, { hopPool: null })).toThrow(/^openConnection\(\): options \(hopPool\) apply to a host alias/);
    expect(() => openConnection(EMPTY, { port: 2222 })).toThrow(/an Observable brings its own connection/);
  });
});

describe('on a connection: channels, SFTP and forwards', () => {
  let stop: () => void;
  let held: Subscription;
  let connection: Connection;
  beforeAll(async () => {
    const served = await serve();
    stop = served.stop;
    connection = await new Promise<Connection>((resolve, reject) => {
      held = connectTo(served.info).subscribe({ next: resolve, error: reject });
    });
  });
  afterAll(() => {
    held.unsubscribe();
    stop();
  });

  it('Connection.exec/shell/subsystem, their pty', () => {
    expect(() => connection.exec('true', { enviroment: {} } as never)).toThrow(/^Connection\.exec\(\): unknown option "enviroment"/);
    expect(() => connection.shell({ pty: { rows: 24, columns: 80 } } as never)).toThrow(/^Connection\.shell\(\): pty: unknown option "columns"/);
    expect(() => connection.subsystem('sftp', { idletimeout: 5 } as never)).toThrow(/^Connection\.subsystem\(\): unknown option "idletimeout" \(did you mean "idleTimeout"\?\)/);
    expect(() => connection.run('true', { cwd: '/', dir: '/' } as never)).toThrow(/^run\(\): unknown option "dir"/);
  });

  it('a pty size is whole characters, 0 (unknown, as ssh sends without a terminal) to the protocol\'s uint32; TERM a string', () => {
    expect(() => connection.shell({ pty: { rows: -1 } })).toThrow(new RangeError('Connection.shell(): pty.rows must be a whole number of characters, 0-4294967295, got -1'));
    expect(() => connection.exec('true', { pty: { cols: 80.5 } })).toThrow(RangeError);
    expect(() => connection.exec('true', { pty: { rows: '24' as never } })).toThrow(TypeError);
    expect(() => connection.exec('true', { pty: { term: 42 as never } })).toThrow(/pty\.term must be a non-empty string/);
    expect(() => connection.exec('true', { pty: { term: '' } })).toThrow(/pty\.term must be a non-empty string \(ssh2 sends vt100 for an empty one\)/);
    expect(() => connection.exec('true', { pty: { rows: 0, cols: 0, term: 'dumb' } })).not.toThrow();
    const channel = connection.shell({ pty: true });
    expect(() => channel.resize({ rows: 40, cols: -80 })).toThrow(new RangeError('resize(): cols must be a whole number of characters, 0-4294967295, got -80'));
    expect(() => channel.resize({ rows: 40, cols: 120 })).not.toThrow();
  });

  it('sftp() and every SftpSession method that takes a config', async () => {
    expect(() => connection.sftp({ server: '/usr/lib/sftp-server' } as never)).toThrow(/^sftp\(\): unknown option "server"/);
    expect(() => connection.sftp({ become: { user: 'root', pass: 'x' } } as never)).toThrow(/^become: unknown option "pass"/);
    const server = await memorySftp();
    try {
      const sftp$ = connect({ host: '127.0.0.1', port: server.port, username: 'u' }).pipe(
        verifyHostKey(() => true),
        authenticate(password('p')),
        withConnection((c) => c.withSftp((sftp) => of(sftp))),
      );
      // Each call is made while the session is open; what it returns is not subscribed.
      const calls = await lastValueFrom(
        sftp$.pipe(
          map((sftp) => {
            const refused: Array<[() => unknown, RegExp]> = [
              [() => sftp.upload('a', 'b', { preserveTimes: true } as never), /^SftpSession\.upload\(\): unknown option "preserveTimes"/],
              [() => sftp.download('a', 'b', { chunksize: 1 } as never), /^SftpSession\.download\(\): unknown option "chunksize" \(did you mean "chunkSize"\?\)/],
              [() => sftp.uploadDir('a', 'b', { parallel: 2 } as never), /^SftpSession\.uploadDir\(\): unknown option "parallel"/],
              [() => sftp.downloadDir('a', 'b', { filters: () => true } as never), /^SftpSession\.downloadDir\(\): unknown option "filters" \(did you mean "filter"\?\)/],
              [() => sftp.readChunks('a', { offset: 5 } as never), /^SftpSession\.readChunks\(\): unknown option "offset"/],
              [() => sftp.writeChunks('a', [], { mod: 0o600 } as never), /^SftpSession\.writeChunks\(\): unknown option "mod" \(did you mean "mode"\?\)/],
              [() => sftp.writeFile('a', 'x', { perm: 0o600 } as never), /^SftpSession\.writeFile\(\): unknown option "perm"/],
              [() => sftp.mkdir('a', { parents: true } as never), /^SftpSession\.mkdir\(\): unknown option "parents"/],
              [() => sftp.rm('a', { force: true } as never), /^SftpSession\.rm\(\): unknown option "force"/],
            ];
            for (const [call, message] of refused) expect(call).toThrow(message);
            // The tree transfers' own options are theirs; each file's transfer takes the rest.
            expect(() => sftp.uploadDir('a', 'b', { parallelFiles: 2, chunkSize: 32 * 1024, filter: () => true })).not.toThrow();
            return refused.length;
          }),
        ),
      );
      expect(calls).toBe(9);
    } finally {
      await server.close();
    }
  });

  it('forwardLocal/Remote/Dynamic and their bind address', () => {
    expect(() => connection.forwardLocal({ remoteHost: 'h', remotePort: 1, localPort: 8080 } as never)).toThrow(/^forwardLocal\(\): unknown option "localPort"/);
    expect(() => connection.forwardLocal({ remoteHost: 'h', remotePort: 1, bind: { prot: 8080 } } as never)).toThrow(/^forwardLocal\(\): bind: unknown option "prot" \(did you mean "port"\?\)/);
    expect(() => connection.forwardRemote({ bindAddress: '0.0.0.0' } as never)).toThrow(/^forwardRemote\(\): unknown option "bindAddress"/);
    expect(() => connection.forwardDynamic({ allowed: () => true } as never)).toThrow(/^forwardDynamic\(\): unknown option "allowed" \(did you mean "allow"\?\)/);
  });
});
