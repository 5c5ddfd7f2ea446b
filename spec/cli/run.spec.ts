/** The rxssh CLI driven in-process against in-process servers (see integration/fan-out for sshd). */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../lib/cli/main.js';
import type { Io } from '../../lib/cli/io.js';
import { exitCodeOf } from '../../lib/cli/report.js';
import { knownHostsName } from '../../lib/index.js';
import { generateEd25519, type TestServerInfo } from '../../lib/testing/index.js';
import { freeClosedPort, serve } from '../helpers/index.js';
import { keyPair } from '../helpers/keys.js';

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

/** The CLI's world in memory: captured output, a given stdin, a scripted terminal and interrupts. */
function fakeIo(stdin = '', extra: { env?: Record<string, string>; answers?: string[]; tty?: boolean } = {}): Io & { out: () => string; err: () => string; interrupt: () => void; prompts: string[]; exited: number[] } {
  const out = new PassThrough();
  const err = new PassThrough();
  const input = new PassThrough();
  input.end(stdin);
  let o = '';
  let e = '';
  out.on('data', (d: Buffer) => (o += d.toString()));
  err.on('data', (d: Buffer) => (e += d.toString()));
  const listeners = new Set<() => void>();
  const prompts: string[] = [];
  const exited: number[] = [];
  const answers = [...(extra.answers ?? [])];
  return {
    stdout: out,
    stderr: err,
    stderrIsTTY: false,
    stdinIsTTY: extra.tty === true,
    env: { USER: 'ops', RXSSH_PW: 'x', HOME: dir, ...extra.env },
    readStdin: async () => Buffer.from(stdin),
    stdin: input,
    releaseStdin: () => input.destroy(),
    prompt: async (text) => {
      prompts.push(text);
      const answer = answers.shift();
      if (answer === undefined) throw new Error('no terminal answer scripted');
      return answer;
    },
    onInterrupt: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    exit: (code) => exited.push(code),
    out: () => o,
    err: () => e,
    interrupt: () => listeners.forEach((l) => l()),
    prompts,
    exited,
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

  it('queue flags: usage errors (exit 2) before anything connects, each naming what is wrong', async () => {
    const cases: Array<[string[], RegExp, Record<string, string>?]> = [
      [['run', '-H', 'h', '--queue-name', 'q', '--', 'true'], /--queue-name needs --queue/],
      [['run', '-H', 'h', '--queue', 'redis://127.0.0.1:1', '--workers', '2', '--', 'true'], /--queue and --workers/],
      [['run', '-H', 'h', '--queue', 'redis://127.0.0.1:1', '--identity', keyFile, '--', 'true'], /--identity does not apply with --queue/],
      [['run', '-H', 'h', '--queue', 'redis://u:secret@127.0.0.1:1', '--', 'true'], /no password in the URL/],
      [['run', '-H', 'h', '--queue', 'http://127.0.0.1:1', '--', 'true'], /redis:\/\/ or rediss:\/\//],
      [['run', '-H', 'h', '--queue', 'redis://127.0.0.1:1', '--redis-password-env', 'NOPE_NOT_SET', '--', 'true'], /NOPE_NOT_SET: the variable is not set/],
      [['run', '-H', 'h', '--queue', 'redis://127.0.0.1:1', '--run-id', 'a:b', '--', 'true'], /--run-id/],
      [['worker'], /--queue redis:/],
      [['worker', '--queue', 'redis://127.0.0.1:1', '--concurrency', '0'], /--concurrency takes a positive integer/],
      [['worker', '--queue', 'redis://127.0.0.1:1', 'extra'], /takes no arguments/],
    ];
    for (const [argv, message] of cases) {
      const io = fakeIo();
      expect(await main(argv, io), argv.join(' ')).toBe(2);
      expect(io.err()).toMatch(message);
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

  it('-o/-e files and -i output hold a host\'s whole output, not the first 1 MiB (they were cut there, [SUCCESS], without a word)', async () => {
    const big = `${'x'.repeat(1023)}\n`.repeat(3 * 1024); // 3 MiB of lines
    const out = join(dir, 'out-big');
    const io = fakeIo(big);
    expect(await main(['run', ...hostArgs(), ...auth(), '-I', '-o', out, '--', 'cat'], io)).toBe(0);
    expect(readdirSync(out)).toHaveLength(3);
    for (const f of readdirSync(out)) expect(readFileSync(join(out, f), 'utf8') === big).toBe(true);
    expect(io.out()).not.toMatch(/output cut/);
    const inline = fakeIo(big);
    expect(await main(['run', ...hostArgs(), ...auth(), '-I', '-i', '-p', '1', '--', 'cat'], inline)).toBe(0);
    expect(inline.out().split(big).length - 1).toBe(3);
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
    expect(exitCodeOf(['ok', 'failed', 'lost'])).toBe(3); // pssh's "killed": the command may have run
  });
});

describe('rxssh exec', () => {
  it('streams output and exits with the remote exit code; options end at the host, so no -- is needed', async () => {
    const s = servers[0]!.info;
    const io = fakeIo();
    expect(await main(['exec', ...auth(), `ops@127.0.0.1:${s.port}`, 'echo', 'one', '-n'], io)).toBe(0);
    expect(io.out()).toBe('one -n\n'); // -n after the host belongs to the command
    expect(await main(['exec', ...auth(), `ops@127.0.0.1:${s.port}`, '--', 'exit 7'], fakeIo())).toBe(7);
    expect(await main(['exec', ...auth(), `ops@127.0.0.1:${s.port}`, 'signal', 'KILL'], fakeIo())).toBe(128 + 9);
    const closed = await freeClosedPort();
    expect(await main(['exec', ...auth(), `ops@127.0.0.1:${closed}`, 'true'], fakeIo())).toBe(255);
  });

  it('forwards its stdin to the command (echo data | rxssh exec h cat); -n sends none', async () => {
    const s = servers[0]!.info;
    const io = fakeIo('data from stdin\n');
    expect(await main(['exec', ...auth(), `ops@127.0.0.1:${s.port}`, 'cat'], io)).toBe(0);
    expect(io.out()).toBe('data from stdin\n');
    const none = fakeIo('ignored\n');
    expect(await main(['exec', '-n', ...auth(), `ops@127.0.0.1:${s.port}`, 'cat'], none)).toBe(0);
    expect(none.out()).toBe('');
  });

  it('takes run\'s credential flags and --timeout (-t is ssh\'s terminal flag here): the timeout stops the command (255, TimeoutError)', async () => {
    const s = servers[0]!.info;
    const io = fakeIo();
    expect(await main(['exec', '--timeout', '0.3', ...auth(), `ops@127.0.0.1:${s.port}`, 'sleep', '30'], io)).toBe(255);
    expect(io.err()).toMatch(/Timed out after 300 ms|timed out/i);
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

describe('rxssh run under bad input (issue 12)', () => {
  /** A server whose `drop` command writes a little and then drops the connection, and that refuses user `refuse` a session with hostile text. */
  async function rude(): Promise<{ port: number; close: () => void; kh: string }> {
    const { Server } = await import('../../lib/ssh2/index.js');
    const hostKey = generateEd25519();
    const server = new Server({ hostKeys: [hostKey.private] }, (client) => {
      client.on('error', () => undefined);
      let user = '';
      client.on('authentication', (ctx) => {
        user = ctx.username;
        ctx.accept();
      });
      client.on('ready', () =>
        client.on('session', (accept, reject) => {
          if (user === 'refuse') {
            // The refusal's description is the server's own text: escape sequences and a fake status line.
            const proto = (client as unknown as { _protocol: { channelOpenFail: (...a: unknown[]) => void } })._protocol;
            const fail = proto.channelOpenFail.bind(proto);
            proto.channelOpenFail = (remote: unknown, reason: unknown) => fail(remote, reason, '\x1b]0;owned\x07\n[9] 00:00:00 [SUCCESS] fake');
            return reject();
          }
          const session = accept();
          session.on('exec', (acceptExec, _rejectExec, info) => {
            const stream = acceptExec();
            stream.on('error', () => undefined);
            if (info.command === 'drop') {
              stream.write('half');
              setTimeout(() => client.end(), 20);
            } else {
              stream.exit(0);
              stream.end();
            }
          });
        }),
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const key = (await import('../../lib/ssh2/index.js')).utils.parseKey(hostKey.public) as { getPublicSSH(): Buffer };
    const kh = join(dir, `kh-rude-${port}`); // a known_hosts file that trusts it
    writeFileSync(kh, `${knownHostsName('127.0.0.1', port)} ssh-ed25519 ${key.getPublicSSH().toString('base64')}\n`);
    return { port, close: () => server.close(), kh };
  }

  it('a connection lost mid-command is an ssh error (exit 4, like pssh), not a failed command (5)', async () => {
    const server = await rude();
    const kh = server.kh;
    const io = fakeIo();
    try {
      expect(await main(['run', '-H', `ops@127.0.0.1:${server.port}`, '--identity', keyFile, '--known-hosts', kh, '--', 'drop'], io)).toBe(4);
      expect(io.out()).toMatch(/\[FAILURE\]/);
    } finally {
      server.close();
    }
  });

  it('an output file that cannot be written fails that host only: the others are written and reported, the summary printed, exit non-zero', async () => {
    const out = join(dir, 'out-partial');
    const io = fakeIo();
    // One host writes into a directory that is in the way (EISDIR for its file name).
    const target = servers[0]!.info;
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(out, `127.0.0.1:${target.port}`), { recursive: true });
    const code = await main(['run', ...hostArgs(), ...auth(), '-l', 'ops', '-o', out, '--', 'echo', 'hi'], io);
    expect(code).toBe(1);
    const lines = io.out().trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines.filter((l) => l.includes('output not written'))).toHaveLength(1);
    expect(readdirSync(out).sort()).toHaveLength(3);
    for (const s of servers.slice(1)) expect(readFileSync(join(out, `127.0.0.1:${s.info.port}`), 'utf8')).toBe('hi\n');
  });

  it('output files are named as pssh names them (user@ only when not the default user); duplicates get .1, .2; a host named .. stays inside', async () => {
    const out = join(dir, 'out-names');
    const io = fakeIo();
    const s = servers[0]!.info;
    const spec = `ops@127.0.0.1:${s.port}`;
    expect(await main(['run', '-H', spec, '-H', spec, '-H', spec, ...auth(), '-l', 'ops', '-o', out, '--', 'echo', 'x'], io)).toBe(0);
    expect(readdirSync(out).sort()).toEqual([`127.0.0.1:${s.port}`, `127.0.0.1:${s.port}.1`, `127.0.0.1:${s.port}.2`]);
    const { outputName } = await import('../../lib/cli/report.js');
    expect(outputName({ host: '..', label: '..' }, 'me')).toBe('_..');
    expect(outputName({ host: 'h', username: 'root', label: 'root@h' }, 'me')).toBe('root@h');
    expect(outputName({ host: 'a/b', label: 'a/b' }, 'me')).toBe('a_b');
  });

  it('CRLF hosts files are read like LF ones (no host named "#")', async () => {
    const file = join(dir, 'hosts-crlf');
    writeFileSync(file, `# web\r\nops@127.0.0.1:${servers[0]!.info.port}\r\n# db hosts\r\nops@127.0.0.1:${servers[1]!.info.port}\r\n`);
    const io = fakeIo();
    expect(await main(['run', '-h', file, ...auth(), '--json', '--', 'true'], io)).toBe(0);
    const hosts = io.out().trim().split('\n').map((l) => JSON.parse(l) as { type: string; host?: string }).filter((o) => o.type === 'result').map((o) => o.host);
    expect(hosts.sort()).toEqual([`ops@127.0.0.1:${servers[0]!.info.port}`, `ops@127.0.0.1:${servers[1]!.info.port}`].sort());
  });

  it('malformed host specs are usage errors (exit 2): user@, @host, :22', async () => {
    for (const bad of ['user@', '@host', ':22']) {
      const io = fakeIo();
      expect(await main(['run', '-H', bad, ...auth(), '--', 'true'], io), bad).toBe(2);
      expect(io.err()).toMatch(/not a host spec/);
    }
    const io = fakeIo();
    expect(await main(['exec', ...auth(), '@host', '--', 'true'], io)).toBe(2);
  });

  it('server text is made safe for the terminal (OpenSSH does too): no escape sequences, no faked status lines', async () => {
    const { terminalSafe } = await import('../../lib/cli/report.js');
    expect(terminalSafe('bad\x1b]0;owned\x07\n[1] 00:00:00 [SUCCESS] fake')).toBe('bad\\x1b]0;owned\\x07\\x0a[1] 00:00:00 [SUCCESS] fake');
    expect(terminalSafe('tab\tand ü stay')).toBe('tab\tand ü stay');
    // End to end: a refused channel's description (server text) reaches the status line
    // escaped, on one line; a refused channel is an ssh error (exit 4).
    const server = await rude();
    const kh = server.kh;
    const io = fakeIo();
    try {
      expect(await main(['run', '-H', `refuse@127.0.0.1:${server.port}`, '--identity', keyFile, '--known-hosts', kh, '--', 'true'], io)).toBe(4);
    } finally {
      server.close();
    }
    expect(io.out()).toContain('\\x1b]0;owned\\x07\\x0a[9] 00:00:00 [SUCCESS] fake');
    expect(io.out().includes("\u001b")).toBe(false);
    expect(io.out().trim().split('\n')).toHaveLength(1);
  });
});

describe('rxssh as ssh and pssh users expect it (issue 13)', () => {
  /** A fake home with an ssh config naming the first server "myhost". */
  const homeWith = (config: string): string => {
    const home = mkdtempSync(join(tmpdir(), 'rxssh-home-'));
    mkdirSync(join(home, '.ssh'), { mode: 0o700 });
    writeFileSync(join(home, '.ssh', 'config'), config);
    return home;
  };
  const myhost = () =>
    [
      'Host myhost',
      '  HostName 127.0.0.1',
      `  Port ${servers[0]!.info.port}`,
      '  User ops',
      `  IdentityFile ${keyFile}`,
      `  UserKnownHostsFile ${knownHostsFile}`,
      '',
    ].join('\n');

  it('~/.ssh/config is read by default (HostName, Port, User, IdentityFile, UserKnownHostsFile); -F overrides it', async () => {
    const home = homeWith(myhost());
    const io = fakeIo('', { env: { HOME: home } });
    expect(await main(['run', '-H', 'myhost', '-i', 'echo', 'via config'], io)).toBe(0);
    expect(io.out()).toContain('[SUCCESS] myhost');
    expect(io.out()).toContain('via config');
    const ex = fakeIo('', { env: { HOME: home } });
    expect(await main(['exec', 'myhost', 'echo', 'exec too'], ex)).toBe(0);
    expect(ex.out()).toBe('exec too\n');
    // -F: another file, where myhost means nothing (and so fails to resolve).
    const empty = join(home, 'empty_config');
    writeFileSync(empty, '');
    expect(await main(['run', '-F', empty, '-H', 'myhost', '-t', '5', 'true'], fakeIo('', { env: { HOME: home } }))).toBe(4);
  });

  it('host ranges in -H, hosts files and --aliases (issue 25 #6); a malformed range is a usage error', async () => {
    const names = Array.from({ length: 6 }, (_, i) => `node0${i + 1}`);
    const home = homeWith(myhost().replace('Host myhost', `Host myhost ${names.join(' ')}`));
    const hostsOf = async (args: string[]): Promise<string[]> => {
      const io = fakeIo('', { env: { HOME: home } });
      expect(await main(['run', '--json', ...args, 'true'], io), io.err()).toBe(0);
      return io.out().trim().split('\n').map((l) => JSON.parse(l) as { type: string; host?: string }).filter((e) => e.type === 'result').map((e) => e.host ?? '').sort();
    };
    expect(await hostsOf(['-H', 'node[01-03]'])).toEqual(['node01', 'node02', 'node03']);
    expect(await hostsOf(['-H', 'node[01,04],node06'])).toEqual(['node01', 'node04', 'node06']);
    expect(await hostsOf(['--aliases', 'node[01-06],!node[05-06]'])).toEqual(['node01', 'node02', 'node03', 'node04']);
    const file = join(home, 'hosts');
    writeFileSync(file, '# two ranges\nnode[02-03]\nnode[05-06] ops\n');
    expect(await hostsOf(['-h', file])).toEqual(['node02', 'node03', 'node05', 'node06']);
    const bad = fakeIo('', { env: { HOME: home } });
    expect(await main(['run', '-H', 'node[3-1]', 'true'], bad)).toBe(2);
    expect(bad.err()).toMatch(/-H node\[3-1\]: .*runs backwards/);
  });

  it('-O applies ssh_config options per host by the config table: harmless ones taken, ones rxssh cannot honour a usage error naming them', async () => {
    const home = homeWith('');
    const s = servers[1]!.info;
    const io = fakeIo('', { env: { HOME: home } });
    const harmless = ['-O', 'LogLevel=ERROR', '-O', 'Compression=yes', '-O', 'ProxyCommand=none', '-O', 'RequestTTY=no'];
    expect(await main(['run', '-H', 'alias-of-1', '-O', 'HostName=127.0.0.1', '-O', `Port=${s.port}`, '-O', 'User ops', '-O', `UserKnownHostsFile=${knownHostsFile}`, ...harmless, '--identity', keyFile, 'echo', 'ok'], io)).toBe(0);
    for (const [option, said] of [
      ['BindInterface=eth0', /-O BindInterface=eth0: rxssh does not bind its connections to an interface/],
      ['LocalForward=8080 localhost:80', /-O LocalForward=8080 localhost:80: rxssh does not set up forwards/],
      ['PreferredAuthentications=publickey', /-O PreferredAuthentications=publickey: rxssh tries its methods in its own order/],
      ['NoSuchOption=1', /-O NoSuchOption=1: not an ssh_config keyword/],
    ] as const) {
      const bad = fakeIo('', { env: { HOME: home } });
      expect(await main(['run', '-H', 'h', '-O', option, 'true'], bad)).toBe(2);
      expect(bad.err()).toMatch(said);
    }
    // ssh's -o (exec, and -x in run) is named as the -o it was given with.
    const viaExec = fakeIo('', { env: { HOME: home } });
    expect(await main(['exec', '-o', 'NoSuchOption=1', 'h', 'true'], viaExec)).toBe(2);
    expect(viaExec.err()).toMatch(/rxssh: -o NoSuchOption=1: not an ssh_config keyword/);
    const viaX = fakeIo('', { env: { HOME: home } });
    expect(await main(['run', '-H', 'h', '-x', '-o ForwardX11=yes', 'true'], viaX)).toBe(2);
    expect(viaX.err()).toMatch(/-o ForwardX11=yes: rxssh does not forward X11/);
  });

  it('-x/-X take the common ssh flags (-i -p -l -o -J -A -F -q -C -v -t -T) and refuse others clearly', async () => {
    const home = homeWith('');
    const s = servers[2]!.info;
    const io = fakeIo('', { env: { HOME: home } });
    expect(await main(['run', '-H', '127.0.0.1', '-x', `-i ${keyFile} -p ${s.port} -l ops`, '-X', '-o', '-X', `UserKnownHostsFile=${knownHostsFile}`, 'echo', 'x'], io)).toBe(0);
    const bad = fakeIo('', { env: { HOME: home } });
    expect(await main(['run', '-H', '127.0.0.1', '-x', '-Y', 'true'], bad)).toBe(2);
    expect(bad.err()).toMatch(/ssh option "-Y" is not supported/);
  });

  it('-g filters hosts by glob; PSSH_* variables are defaults (PSSH_USER, PSSH_OPTIONS, PSSH_PAR)', async () => {
    const home = homeWith('');
    const s = servers[0]!.info;
    const io = fakeIo('', { env: { HOME: home, PSSH_USER: 'ops', PSSH_OPTIONS: `UserKnownHostsFile=${knownHostsFile}`, PSSH_PAR: '1' } });
    expect(await main(['run', '-H', `127.0.0.1:${s.port}`, '-H', `localhost:${s.port}`, '-g', '127.*', '--identity', keyFile, '--json', 'echo', 'x'], io)).toBe(0);
    const results = io.out().trim().split('\n').map((l) => JSON.parse(l) as { type: string; host?: string }).filter((o) => o.type === 'result');
    expect(results.map((r) => r.host)).toEqual([`127.0.0.1:${s.port}`]);
  });

  it('no default timeout (like pssh): a command longer than the old 60 s default is not cut; -t still is', async () => {
    const { parseRun } = await import('../../lib/cli/run.js');
    expect(parseRun(['-H', 'h', 'true'], fakeIo()).timeoutSec).toBe(0);
    expect(parseRun(['-H', 'h', '-t', '5', 'true'], fakeIo()).timeoutSec).toBe(5);
  });

  it('--json is pure NDJSON whatever else is asked (-P lines as objects, -i ignored); usage errors are JSON too', async () => {
    const io = fakeIo();
    expect(await main(['run', ...hostArgs(), ...auth(), '--json', '-P', '-i', 'lines', '2', 'x'], io)).toBe(0);
    const objs = io.out().trim().split('\n').map((l) => JSON.parse(l) as { type: string });
    expect(new Set(objs.map((o) => o.type))).toEqual(new Set(['line', 'result', 'summary']));
    expect(objs.filter((o) => o.type === 'line')).toHaveLength(6);
    const bad = fakeIo();
    expect(await main(['run', '--json', '-H', '@nope', 'true'], bad)).toBe(2);
    expect(JSON.parse(bad.out())).toMatchObject({ type: 'error', error: { code: 'usage' } });
  });

  it('-A asks for a password once, without echo, for every host', async () => {
    const pw = await Promise.all([0, 1].map(() => serve({ username: 'ops', password: 'sesame' })));
    const kh = join(dir, 'kh-pw');
    writeFileSync(kh, pw.map((s) => `${knownHostsName(s.info.host, s.info.port)} ${s.info.hostKey.openssh}\n`).join(''));
    try {
      const io = fakeIo('', { tty: true, answers: ['sesame'], env: { HOME: homeWith('') } });
      expect(await main(['run', ...pw.flatMap((s) => ['-H', `ops@127.0.0.1:${s.info.port}`]), '-A', '--known-hosts', kh, 'echo', 'in'], io)).toBe(0);
      expect(io.prompts).toEqual(['Password: ']);
    } finally {
      pw.forEach((s) => s.stop());
    }
  });

  it('encrypted keys: --passphrase-env, a terminal prompt (once per key), SSH_ASKPASS without a terminal; never skipped silently', async () => {
    const pair = keyPair('ed25519', { passphrase: 'open sesame', cipher: 'aes256-ctr', rounds: 4 });
    const server = await serve({ clientKey: { private: generateEd25519().private, public: pair.public }, username: 'ops' });
    const kh = join(dir, 'kh-enc');
    writeFileSync(kh, `${knownHostsName(server.info.host, server.info.port)} ${server.info.hostKey.openssh}\n`);
    const encKey = join(dir, 'id_encrypted');
    writeFileSync(encKey, pair.private, { mode: 0o600 });
    const args = ['-H', `ops@127.0.0.1:${server.info.port}`, '-H', `ops@127.0.0.1:${server.info.port}`, '--identity', encKey, '--known-hosts', kh, 'echo', 'in'];
    const home = homeWith('');
    try {
      expect(await main(['run', '--passphrase-env', 'KEYPASS', ...args], fakeIo('', { env: { HOME: home, KEYPASS: 'open sesame' } }))).toBe(0);
      const tty = fakeIo('', { tty: true, answers: ['open sesame'], env: { HOME: home } });
      expect(await main(['run', ...args], tty)).toBe(0);
      expect(tty.prompts).toEqual([`Enter passphrase for key '${encKey}': `]);
      const askpass = join(dir, 'askpass.sh');
      writeFileSync(askpass, '#!/bin/sh\necho "open sesame"\n', { mode: 0o755 });
      expect(await main(['run', ...args], fakeIo('', { env: { HOME: home, SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force' } }))).toBe(0);
      // No source at all: a warning names the key; the hosts fail honestly (exit 4).
      const none = fakeIo('', { env: { HOME: home } });
      expect(await main(['run', ...args], none)).toBe(4);
      expect(none.err()).toContain(`skipping encrypted key ${encKey}: no passphrase source`);
    } finally {
      server.stop();
    }
  });

  it('honest auth errors: with nothing to try, say what was looked for and what the server allows', async () => {
    const io = fakeIo('', { env: { HOME: homeWith('') } });
    const s = servers[0]!.info;
    expect(await main(['run', '-H', `ops@127.0.0.1:${s.port}`, '--known-hosts', knownHostsFile, 'true'], io)).toBe(4);
    expect(io.out()).toMatch(/no credentials: no agent \(SSH_AUTH_SOCK unset\), no identity files in ~\/\.ssh \([^)]*id_ed25519[^)]*\), no password source \(--password-env VAR or -A\); server allows \[publickey, password\]/);
    expect(io.out()).not.toMatch(/tried \[\]/);
  });

  it('Ctrl-C: the first interrupt signals the running commands and prints the summary (exit 3); a second exits at once', async () => {
    const io = fakeIo();
    const running = main(['run', ...hostArgs(), ...auth(), 'sleep', '30'], io);
    await new Promise((r) => setTimeout(r, 300));
    io.interrupt();
    expect(await running).toBe(3);
    expect(io.out()).toMatch(/\[FAILURE\] .* Interrupted/);
    expect(io.out()).toMatch(/cancelled\s+3/);
    const second = fakeIo();
    const again = main(['run', ...hostArgs(), ...auth(), 'sleep', '30'], second);
    await new Promise((r) => setTimeout(r, 300));
    second.interrupt();
    second.interrupt();
    expect(second.exited).toEqual([130]);
    await again;
  });
});


describe('--help for every command', () => {
  it.each([['run'], ['exec'], ['put'], ['get'], ['demo']])('rxssh %s --help prints its usage and exits 0', async (command) => {
    const io = fakeIo();
    expect(await main([command, '--help'], io)).toBe(0);
    expect(io.out()).toMatch(new RegExp(`^usage: rxssh ${command}`));
  });

  it('rxssh --help and --version', async () => {
    const help = fakeIo();
    expect(await main(['--help'], help)).toBe(0);
    expect(help.out()).toMatch(/^usage:/);
    const version = fakeIo();
    expect(await main(['--version'], version)).toBe(0);
    expect(version.out()).toMatch(/^rxssh \d+\.\d+\.\d+\n$/);
  });
});
