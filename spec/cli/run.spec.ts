/** The rxssh CLI driven in-process against in-process servers (see integration/fan-out for sshd). */
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../lib/cli/main.js';
import type { Io } from '../../lib/cli/io.js';
import { exitCodeOf } from '../../lib/cli/run.js';
import { knownHostsName } from '../../lib/index.js';
import { generateEd25519, type TestServerInfo } from '../../lib/testing/index.js';
import { freeClosedPort, serve } from '../helpers/index.js';

const dir = mkdtempSync(join(tmpdir(), 'rxssh-cli-'));
const clientKey = generateEd25519();
const keyFile = join(dir, 'id');
writeFileSync(keyFile, clientKey.private, { mode: 0o600 });
let servers: Array<{ info: TestServerInfo; stop: () => void }>;
let knownHostsFile: string;

beforeAll(async () => {
  servers = await Promise.all(Array.from({ length: 3 }, () => serve({ clientKey, username: 'ops' })));
  knownHostsFile = join(dir, 'known_hosts');
  writeFileSync(knownHostsFile, servers.map((s) => `${knownHostsName(s.info.host, s.info.port)} ${s.info.hostKey.openssh}\n`).join(''));
});
afterAll(() => servers.forEach((s) => s.stop()));

function fakeIo(stdin = ''): Io & { out: () => string; err: () => string } {
  const out = new PassThrough();
  const err = new PassThrough();
  let o = '';
  let e = '';
  out.on('data', (d: Buffer) => (o += d.toString()));
  err.on('data', (d: Buffer) => (e += d.toString()));
  return {
    stdout: out,
    stderr: err,
    stderrIsTTY: false,
    env: { USER: 'ops', RXSSH_PW: 'x' },
    readStdin: async () => Buffer.from(stdin),
    out: () => o,
    err: () => e,
  };
}

const hostArgs = () => servers.flatMap((s) => ['-H', `ops@${s.info.host}:${s.info.port}`]);
const auth = () => ['--identity', keyFile, '--known-hosts', knownHostsFile];

describe('rxssh run', () => {
  it('exit 0 and pssh-style status lines when every host succeeds', async () => {
    const io = fakeIo();
    expect(await main(['run', ...hostArgs(), ...auth(), '--', 'echo', 'hi'], io)).toBe(0);
    const lines = io.out().trim().split('\n');
    expect(lines).toHaveLength(3);
    for (const l of lines) expect(l).toMatch(/^\[\d\] \d\d:\d\d:\d\d \[SUCCESS\] ops@127\.0\.0\.1:\d+$/);
  });

  it('exit 5 when a remote command fails; -i prints output inline', async () => {
    const io = fakeIo();
    expect(await main(['run', ...hostArgs(), ...auth(), '-i', '--', 'fail 3 disk full'], io)).toBe(5);
    expect(io.out()).toMatch(/\[FAILURE\] .* Exited with error code 3/);
    expect(io.out()).toContain('Stderr: disk full');
  });

  it('exit 4 when a host is unreachable or its key unknown', async () => {
    const closed = await freeClosedPort();
    const io = fakeIo();
    expect(await main(['run', ...hostArgs(), '-H', `ops@127.0.0.1:${closed}`, ...auth(), '--', 'true'], io)).toBe(4);
    const unknown = fakeIo();
    const empty = join(dir, 'empty_known_hosts');
    writeFileSync(empty, '');
    expect(await main(['run', ...hostArgs(), '--identity', keyFile, '--known-hosts', empty, '--', 'true'], unknown)).toBe(4);
    expect(unknown.out()).toMatch(/Host key SHA256:\S+ for \[127\.0\.0\.1\]:\d+ is not known/);
  });

  it('exit 3 when a host times out (-t)', async () => {
    const io = fakeIo();
    expect(await main(['run', ...hostArgs(), ...auth(), '-t', '0.3', '--', 'sleep 30'], io)).toBe(3);
    expect(io.out()).toMatch(/Timed out/);
  });

  it('exit 2 on usage errors', async () => {
    for (const argv of [['run', '--', 'true'], ['run', '-H', 'h'], ['run', '-H', 'h', '-p', '0', '--', 'x'], ['bogus'], ['run', '--nope']]) {
      const io = fakeIo();
      expect(await main(argv, io)).toBe(2);
      expect(io.err()).toMatch(/usage|rxssh:/);
    }
  });

  it('--json: one result per host, then a summary', async () => {
    const io = fakeIo();
    const code = await main(['run', ...hostArgs(), ...auth(), '--json', '--', 'echo', 'json'], io);
    const objs = io.out().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(objs).toHaveLength(4);
    expect(objs.slice(0, 3).every((o) => o['type'] === 'result' && o['status'] === 'ok' && o['stdout'] === 'json\n')).toBe(true);
    expect(objs[3]).toMatchObject({ type: 'summary', total: 3, ok: 3, exitCode: code });
  });

  it('-P prints live lines prefixed by host; -o/-e write files per host; -I sends stdin', async () => {
    const out = join(dir, 'out');
    const err = join(dir, 'err');
    const io = fakeIo('from stdin\n');
    expect(await main(['run', ...hostArgs(), ...auth(), '-P', '-I', '-o', out, '-e', err, '--', 'cat'], io)).toBe(0);
    for (const s of servers) expect(io.out()).toContain(`ops@127.0.0.1:${s.info.port}: from stdin`);
    expect(readdirSync(out)).toHaveLength(3);
    for (const f of readdirSync(out)) expect(readFileSync(join(out, f), 'utf8')).toBe('from stdin\n');
    expect(readdirSync(err)).toHaveLength(3);
  });

  it('--accept-new learns unknown hosts into the known_hosts file', async () => {
    const learn = join(dir, 'learned_known_hosts');
    const io = fakeIo();
    expect(await main(['run', ...hostArgs(), '--identity', keyFile, '--known-hosts', learn, '--accept-new', '--', 'true'], io)).toBe(0);
    expect(readFileSync(learn, 'utf8').trim().split('\n')).toHaveLength(3);
  });

  it('hosts files (-h) and --password-env', async () => {
    const hostsFile = join(dir, 'hosts');
    writeFileSync(hostsFile, `# fleet\n${servers.map((s) => `127.0.0.1:${s.info.port} ops`).join('\n')}\n`);
    const io = fakeIo();
    // The password (from RXSSH_PW) is offered after the key, which the servers accept.
    expect(await main(['run', '-h', hostsFile, ...auth(), '--password-env', 'RXSSH_PW', '--', 'true'], io)).toBe(0);
  });

  it('exit codes follow pssh precedence', () => {
    expect(exitCodeOf(['ok', 'failed', 'unreachable', 'timeout'])).toBe(3);
    expect(exitCodeOf(['ok', 'failed', 'auth-failed'])).toBe(4);
    expect(exitCodeOf(['ok', 'failed'])).toBe(5);
    expect(exitCodeOf(['ok'])).toBe(0);
  });
});

describe('rxssh exec', () => {
  it('streams output and exits with the remote exit code', async () => {
    const s = servers[0]!.info;
    const io = fakeIo();
    expect(await main(['exec', `ops@127.0.0.1:${s.port}`, ...auth(), '--', 'echo', 'one'], io)).toBe(0);
    expect(io.out()).toBe('one\n');
    expect(await main(['exec', `ops@127.0.0.1:${s.port}`, ...auth(), '--', 'exit 7'], fakeIo())).toBe(7);
    expect(await main(['exec', `ops@127.0.0.1:${s.port}`, ...auth(), '--', 'signal KILL'], fakeIo())).toBe(128 + 9);
    const closed = await freeClosedPort();
    expect(await main(['exec', `ops@127.0.0.1:${closed}`, ...auth(), '--', 'true'], fakeIo())).toBe(255);
  });
});

describe('rxssh demo', () => {
  it('runs a fleet of embedded servers and prints a summary', async () => {
    const io = fakeIo();
    expect(await main(['demo', '--hosts', '5'], io)).toBe(0);
    expect(io.out().match(/\[SUCCESS\]/g)).toHaveLength(5);
    expect(io.out()).toMatch(/ok\s+5/);
    const json = fakeIo();
    expect(await main(['demo', '--hosts', '3', '--json', '--', 'echo $((2+3))'], json)).toBe(0);
    const objs = json.out().trim().split('\n').map((l) => JSON.parse(l) as { stdout?: string; type: string });
    expect(objs.filter((o) => o.type === 'result').every((o) => o.stdout === '5\n')).toBe(true);
  });
});
