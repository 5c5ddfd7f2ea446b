/**
 * The CLI as ssh and pssh users use it every day, against the suite's real sshd, with OpenSSH's
 * `ssh` beside it where it has a rule: a closed output pipe, ssh's own letters for `rxssh exec`,
 * pssh's `-x` ssh flags, copying into a directory and `~`, an output directory that cannot be
 * made.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authenticate, connect, knownHosts, knownHostsName, openConnection, privateKey, verifyHostKey } from '../../lib/index.js';
import { eventually, sshd } from '../helpers/index.js';
import { onTerminal } from '../helpers/pty.js';
import { hostKeyLine, type SshdInfo } from './sshd.js';

let s: SshdInfo;
let work: string;
let kh: string;
beforeAll(() => {
  s = sshd();
  work = mkdtempSync(join(tmpdir(), 'rxssh-everyday-'));
  chmodSync(work, 0o755);
  kh = join(work, 'known_hosts');
  writeFileSync(kh, `${knownHostsName('127.0.0.1', s.port)} ${hostKeyLine(s.dir)}\n`);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const RXSSH = `${process.execPath} --import tsx lib/cli/bin.ts`;
const sshFlags = () => `-p ${s.port} -i ${s.keys['ed25519']} -o UserKnownHostsFile=${kh} -o BatchMode=yes -o GlobalKnownHostsFile=/dev/null`;
/** Runs a bash line; its stdout, stderr and status. */
function bash(line: string): { stdout: string; stderr: string; status: number } {
  const r = spawnSync('bash', ['-c', line], { encoding: 'utf8', env: { ...process.env, SSH_AUTH_SOCK: '' }, timeout: 60_000 });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status ?? -1 };
}
const seqRunning = (n: number): boolean => execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').some((l) => l.trim() === `seq 1 ${n}`);

describe('a closed output pipe (| head) ends the run quietly, like ssh (issue 22 #2)', () => {
  it('rxssh exec host "seq …" | head -2: two lines, status 141 as ssh\'s, no stack trace, the remote command stopped', async () => {
    const n = 5_000_001;
    const theirs = bash(`ssh ${sshFlags()} ${s.username}@127.0.0.1 'seq 1 ${n}' | head -2; echo "status \${PIPESTATUS[0]}"`);
    const ours = bash(`${RXSSH} exec ${sshFlags()} ${s.username}@127.0.0.1 'seq 1 ${n}' | head -2; echo "status \${PIPESTATUS[0]}"`);
    expect(theirs.stdout).toBe('1\n2\nstatus 141\n');
    expect(ours.stdout).toBe(theirs.stdout);
    expect(ours.stderr).not.toMatch(/EPIPE|at .*\(|Error/);
    expect(await eventually(() => !seqRunning(n), 10_000)).toBe(true);
  });

  it('rxssh run --json … | head -1: one line, status 141, no stack trace', () => {
    const r = bash(`${RXSSH} run --json -H 127.0.0.1:${s.port} -H 127.0.0.1:${s.port} -l ${s.username} --identity ${s.keys['ed25519']} --known-hosts ${kh} -P -- 'seq 1 200000' | head -1; echo "status \${PIPESTATUS[0]}"`);
    const [first, status] = r.stdout.trim().split('\n');
    expect(JSON.parse(first ?? '{}')).toMatchObject({ type: 'line' });
    expect(status).toBe('status 141');
    expect(r.stderr).not.toMatch(/EPIPE|at .*\(|Error/);
  });
});

describe('a slow reader of rxssh exec\'s output holds the server back, as with ssh', () => {
  /** Runs rxssh with `cliArgs` to a reader that stalls for `stallMs` (2 s): its peak RSS (from /proc), the bytes and the `x`s that arrived, its status. */
  async function stalledReader(cliArgs: string[], stallMs = 2000): Promise<{ peakKiB: number; received: number; xs: number; status: number | null; stderr: string }> {
    const [cmd = '', ...args] = RXSSH.split(' ');
    const child = spawn(cmd, [...args, ...cliArgs], { env: { ...process.env, SSH_AUTH_SOCK: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let peakKiB = 0;
    const probe = setInterval(() => {
      try {
        peakKiB = Math.max(peakKiB, Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0));
      } catch {
        // exited between two samples
      }
    }, 20);
    let received = 0;
    let xs = 0;
    let stderr = '';
    const closed = new Promise<number | null>((resolve) => child.once('close', resolve));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // Listened to (so Node does not drain it when the child exits), then paused: the reader
    // stalls and the pipe fills.
    child.stdout
      .on('data', (d: Buffer) => {
        received += d.length;
        for (let i = d.indexOf(0x78); i !== -1; i = d.indexOf(0x78, i + 1)) xs++;
      })
      .pause();
    await new Promise((r) => setTimeout(r, stallMs));
    child.stdout.resume();
    const status = await closed;
    clearInterval(probe);
    return { peakKiB, received, xs, status, stderr };
  }
  type Outcome = Awaited<ReturnType<typeof stalledReader>>;
  /** Both runs ended 0 with all their output (bytes, or `x`s); the second held at most `slackKiB` more memory than the first. */
  function expectBounded(reference: [Outcome, number], stalled: [Outcome, number], measure: 'received' | 'xs', slackKiB = 64 * 1024): void {
    for (const [r, expected] of [reference, stalled]) {
      expect(r.status, r.stderr).toBe(0);
      expect(r[measure]).toBe(expected);
    }
    expect(stalled[0].peakKiB - reference[0].peakKiB).toBeLessThan(slackKiB);
  }
  const exec = (command: string): string[] => ['exec', ...sshFlags().split(' '), `${s.username}@127.0.0.1`, command];
  const run = (command: string, ...flags: string[]): string[] => ['run', '-P', ...flags, '-H', `127.0.0.1:${s.port}`, '-l', s.username, '--identity', s.keys['ed25519'] ?? '', '--known-hosts', kh, '--', command];

  it('rxssh exec, 512 MiB to a reader that stalls for 2 s: every byte arrives, and rxssh holds no more than for 1 KiB, give or take a few MiB', async () => {
    const small = await stalledReader(exec('head -c 1024 /dev/zero'));
    const total = 512 * 1024 * 1024;
    const big = await stalledReader(exec(`head -c ${total} /dev/zero`));
    // Without backpressure the output piled up in rxssh while the reader stalled (~570 MiB more).
    expectBounded([small, 1024], [big, total], 'received');
  });

  it('rxssh run -P, 200 MiB of lines to a reader that stalls for 2 s: every line arrives, rxssh holds no more than for one line', async () => {
    const lines = (bytes: number): string => `head -c ${bytes} /dev/zero | tr '\\0' x | fold -w 1000`;
    const small = await stalledReader(run(lines(1000)));
    const total = 200 * 1024 * 1024;
    const big = await stalledReader(run(lines(total)));
    // Without backpressure the lines piled up while the reader stalled (~690 MiB more).
    expectBounded([small, 1000], [big, total], 'xs');
  });

  it('rxssh run -P --workers 2, 200 MiB of lines: a reader that stalls for 2 s costs rxssh no more memory than one that reads at once', async () => {
    // Worker threads hold a few hundred MiB of garbage at this rate whatever the reader does, so
    // the stalled run is compared with the same run read at once.
    const total = 200 * 1024 * 1024;
    const command = `head -c ${total} /dev/zero | tr '\\0' x | fold -w 1000`;
    const prompt = await stalledReader(run(command, '--workers', '2'), 0);
    const stalled = await stalledReader(run(command, '--workers', '2'));
    // Without the workers' flow control both runs held GiBs (400 MiB: 2.4 and 3.5 GiB).
    expectBounded([prompt, total], [stalled, total], 'xs', 128 * 1024);
    expect(prompt.peakKiB).toBeLessThan(1024 * 1024); // 0.47 GiB with it, 1.27 GiB without
  });
});

describe('rxssh exec speaks ssh\'s letters (issue 22 #5)', () => {
  it('-p -i -o -l -q -C, and -tt for a terminal: the same output as ssh', () => {
    const line = (tool: string) => `${tool} -p ${s.port} -i ${s.keys['ed25519']} -o UserKnownHostsFile=${kh} -o GlobalKnownHostsFile=/dev/null -o LogLevel=ERROR -l ${s.username} -q -C -tt 127.0.0.1 'test -t 0 && echo tty; echo $USER'`;
    const theirs = bash(line('ssh -o BatchMode=yes'));
    const ours = bash(line(RXSSH + ' exec'));
    expect(theirs.stdout.replace(/\r/g, '')).toBe(`tty\n${s.username}\n`);
    expect(ours.stdout.replace(/\r/g, '')).toBe(theirs.stdout.replace(/\r/g, ''));
    expect(ours.status).toBe(0);
  });

  it('-tt without a terminal: the remote terminal gets $TERM and a size of 0 (rows, columns, pixels), as from ssh', () => {
    const winsize = `python3 -c "import fcntl, termios, struct; print(struct.unpack('4H', fcntl.ioctl(0, termios.TIOCGWINSZ, bytes(8))))"`;
    // Single-quoted: the remote shell expands $TERM, not this one.
    const line = (env: string, tool: string, remote: string) => `${env} ${tool} ${sshFlags()} -q -tt ${s.username}@127.0.0.1 '${remote.replaceAll("'", "'\\''")}' < /dev/null`;
    const remote = `echo "[$TERM]"; ${winsize}`;
    const theirs = bash(line('TERM=xterm-256color', 'ssh', remote));
    const ours = bash(line('TERM=xterm-256color', `${RXSSH} exec`, remote));
    expect(theirs.stdout.replace(/\r/g, '')).toBe('[xterm-256color]\n(0, 0, 0, 0)\n');
    expect(ours.stdout).toBe(theirs.stdout);
    expect(ours.status).toBe(theirs.status);
    // Without $TERM ssh sends an empty one; ssh2 cannot (it sends vt100). The size is ssh's still.
    expect(bash(line('env -u TERM', `${RXSSH} exec`, winsize)).stdout).toBe(bash(line('env -u TERM', 'ssh', winsize)).stdout);
  });

  it('a private key file others may read is not used, as ssh does not use it (it says so); at 0600 both log in', () => {
    const key = join(work, `open-key-${randomBytes(4).toString('hex')}`);
    writeFileSync(key, readFileSync(s.keys['ed25519'] as string));
    const line = (tool: string) => `${tool} -p ${s.port} -i ${key} -o IdentitiesOnly=yes -o UserKnownHostsFile=${kh} -o GlobalKnownHostsFile=/dev/null -o BatchMode=yes ${s.username}@127.0.0.1 'echo in'`;
    chmodSync(key, 0o644);
    const theirs = bash(line('ssh'));
    const ours = bash(line(`${RXSSH} exec`));
    expect(theirs.stderr).toContain(`Permissions 0644 for '${key}' are too open.`);
    expect(ours.stderr).toContain(`Permissions 0644 for '${key}' are too open`);
    expect([ours.status, ours.stdout]).toEqual([theirs.status, '']);
    expect(ours.status).toBe(255);
    chmodSync(key, 0o600);
    expect(bash(line('ssh')).stdout).toBe('in\n');
    expect(bash(line(`${RXSSH} exec`)).stdout).toBe('in\n');
  });

  it('UserKnownHostsFile none is no file, as for ssh: nothing learned (not into ./none, not into a global file); keys still read from the global one', () => {
    const cwd = mkdtempSync(join(work, 'none-'));
    const global = join(cwd, 'global_known_hosts');
    writeFileSync(global, '');
    const line = (tool: string, more: string) => `cd ${cwd} && ${tool} -p ${s.port} -i ${s.keys['ed25519']} -o BatchMode=yes -o UserKnownHostsFile=none -o GlobalKnownHostsFile=${global} ${more} ${s.username}@127.0.0.1 'echo in'`;
    // rxssh from another directory: the CLI and tsx's loader by absolute path.
    const RXSSH_ANYWHERE = `${process.execPath} --import ${join(process.cwd(), 'node_modules/tsx/dist/loader.mjs')} ${join(process.cwd(), 'lib/cli/bin.ts')}`;
    for (const tool of ['ssh', `${RXSSH_ANYWHERE} exec`]) {
      const learn = bash(line(tool, '-o StrictHostKeyChecking=accept-new'));
      expect([tool, learn.status, learn.stdout]).toEqual([tool, 255, '']);
      expect(readdirSync(cwd)).toEqual(['global_known_hosts']); // rxssh wrote ./none before
      expect(readFileSync(global, 'utf8')).toBe('');
    }
    writeFileSync(global, `[127.0.0.1]:${s.port} ${hostKeyLine(s.dir)}\n`);
    expect(bash(line('ssh', '-o StrictHostKeyChecking=yes')).stdout).toBe('in\n');
    expect(bash(line(`${RXSSH_ANYWHERE} exec`, '-o StrictHostKeyChecking=yes')).stdout).toBe('in\n');
    // "none" beside a file is refused by both.
    const both = (tool: string) => bash(`${tool} -p ${s.port} -o BatchMode=yes -o 'UserKnownHostsFile=none ${kh}' ${s.username}@127.0.0.1 true`);
    expect(both('ssh').stderr).toMatch(/"none" argument must appear alone/);
    expect(both(`${RXSSH} exec`)).toMatchObject({ status: 255, stderr: expect.stringMatching(/"none" must appear alone/) });
  });

  it('-t without a terminal says so and runs without one, as ssh; --timeout is the long option', () => {
    const ours = bash(`${RXSSH} exec -t ${sshFlags()} ${s.username}@127.0.0.1 'test -t 0 && echo tty || echo no tty' < /dev/null`);
    expect(ours.stdout).toBe('no tty\n');
    expect(ours.stderr).toContain('Pseudo-terminal will not be allocated because stdin is not a terminal.');
    const slow = bash(`${RXSSH} exec --timeout 1 ${sshFlags()} ${s.username}@127.0.0.1 'sleep 30'`);
    expect(slow.status).toBe(255);
    expect(slow.stderr).toMatch(/Timed out/);
  });

  it('-o with a keyword rxssh cannot honour is a usage error naming it (run: a LocalForward, which only exec sets up)', () => {
    const r = bash(`${RXSSH} exec ${sshFlags()} -o 'ForwardX11=yes' ${s.username}@127.0.0.1 true`);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/ForwardX11=yes: rxssh does not forward X11/);
    const viaRun = bash(`${RXSSH} run -H 127.0.0.1:${s.port} -l ${s.username} --identity ${s.keys['ed25519']} --known-hosts ${kh} -O 'LocalForward=8080 db:80' -- true`);
    expect(viaRun.status).toBe(2);
    expect(viaRun.stderr).toMatch(/LocalForward=8080 db:80: rxssh does not set up forwards from ssh_config for a connection alone/);
  });
});

describe('rxssh exec -W, -s, -b, -4, -6, -c, -m: ssh\'s letters, beside ssh', () => {
  const both = (args: string, input = ''): { ssh: ReturnType<typeof bash>; rxssh: ReturnType<typeof bash> } => ({
    ssh: bash(`${input}ssh ${sshFlags()} ${args}`),
    rxssh: bash(`${input}${RXSSH} exec ${sshFlags()} ${args}`),
  });
  const at = () => `${s.username}@127.0.0.1`;

  it('-W HOST:PORT is stdin and stdout through the server: a ProxyCommand for ssh and for rxssh', () => {
    const proxy = `${RXSSH} exec ${sshFlags()} -W %h:%p ${at()}`;
    const r = both(`-o 'ProxyCommand=${proxy}' ${at()} 'echo via-$((6*7))'`);
    expect(r.ssh.stdout).toBe('via-42\n');
    expect(r.rxssh.stdout).toBe('via-42\n');
    expect([r.ssh.status, r.rxssh.status]).toEqual([0, 0]);
    // Stdin's end goes as EOF: the server's own banner comes back, then its answer to "hello".
    const raw = both(`-W 127.0.0.1:${s.port} ${at()}`, "printf 'hello\\r\\n' | ");
    expect(raw.rxssh.stdout).toMatch(/^SSH-2\.0-OpenSSH_\S+.*\r\n/);
    expect(raw.rxssh.stdout).toBe(raw.ssh.stdout);
    expect(raw.rxssh.status).toBe(0);
  });

  it('-W to a closed port fails as ssh (255, naming it); a command or -L beside -W is refused, not dropped', () => {
    const closed = both(`-W 127.0.0.1:1 ${at()} < /dev/null`);
    expect([closed.ssh.status, closed.rxssh.status]).toEqual([255, 255]);
    expect(closed.rxssh.stderr).toMatch(/127\.0\.0\.1:1: .*(refused|failure)/i);
    const withCommand = bash(`${RXSSH} exec ${sshFlags()} -W 127.0.0.1:${s.port} ${at()} true`);
    expect(withCommand.status).toBe(2);
    expect(withCommand.stderr).toContain('-W forwards stdin and stdout: it runs no command');
    expect(bash(`${RXSSH} exec ${sshFlags()} -W 127.0.0.1:${s.port} -L 8080:x:80 ${at()}`).stderr).toContain('-W cannot go with -L, -R or -D');
    expect(bash(`${RXSSH} exec ${sshFlags()} -W nope:1:2:3:4 ${at()}`).stderr).toContain("Bad stdio forwarding specification 'nope:1:2:3:4'");
    // --timeout holds for -W too (the forward stays open while stdin does: here 8 s).
    const timed = bash(`${RXSSH} exec ${sshFlags()} --timeout 1 -W 127.0.0.1:${s.port} ${at()} < <(exec 2>/dev/null; sleep 8) > /dev/null`);
    expect(timed.status).toBe(255);
    expect(timed.stderr).toMatch(/Timed out/);
  });

  it('-s sftp starts the subsystem: the SFTP server answers an INIT with the same bytes', () => {
    // stdin stays open a while: sftp-server exits at EOF without answering what came with it (ssh meets it too).
    const init = "(printf '\\0\\0\\0\\5\\1\\0\\0\\0\\3'; sleep 2) | ";
    const r = both(`-s ${at()} sftp | od -An -tx1`, init);
    expect(r.ssh.stdout).toMatch(/^ 00 00 0. .. 02 00 00 00 03/); // SSH_FXP_VERSION 3
    expect(r.rxssh.stdout).toBe(r.ssh.stdout);
    expect(bash(`${RXSSH} exec ${sshFlags()} -s ${at()}`).status).toBe(2); // no subsystem named
  });

  it('-b ADDRESS is where the server sees the connection come from; -4 and -6 limit the family (an address of the other is refused, as ssh)', () => {
    const from = both(`-b 127.0.0.2 ${at()} 'echo $SSH_CLIENT'`);
    expect(from.ssh.stdout.split(' ')[0]).toBe('127.0.0.2');
    expect(from.rxssh.stdout.split(' ')[0]).toBe('127.0.0.2');
    const four = both(`-4 ${at()} 'echo four'`);
    expect([four.ssh.stdout, four.rxssh.stdout]).toEqual(['four\n', 'four\n']);
    const six = both(`-6 ${at()} 'echo connected'`);
    expect([six.ssh.status, six.rxssh.status]).toEqual([255, 255]); // rxssh connected over IPv4 before
    expect(six.rxssh.stdout).toBe('');
    expect(six.rxssh.stderr).toMatch(/127\.0\.0\.1 is not an IPv6 address \(AddressFamily\)/);
  });

  it('-c and -m choose the cipher and MAC lists; a cipher ssh does not know is refused by both', () => {
    const r = both(`-c aes128-ctr -m hmac-sha2-256 ${at()} 'echo cm'`);
    expect([r.ssh.stdout, r.rxssh.stdout]).toEqual(['cm\n', 'cm\n']);
    const bad = both(`-c bogus ${at()} true`);
    expect(bad.ssh.status).toBe(255);
    expect(bad.rxssh.status).not.toBe(0);
    expect(bad.rxssh.stderr).toMatch(/bogus/);
  });
});

describe('rxssh run takes the ssh flags pssh users pass (issue 22 #6)', () => {
  it('-x -q, -x -C, -x -tt and -O LogLevel=ERROR are taken; -x -tt gives each command a terminal', () => {
    const r = bash(`TERM=xterm-256color ${RXSSH} run -H 127.0.0.1:${s.port} -l ${s.username} --identity ${s.keys['ed25519']} --known-hosts ${kh} -O LogLevel=ERROR -x -q -x -C -x -tt -i -- 'test -t 0 && echo tty; echo "[$TERM]"; stty size'`);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\[SUCCESS\][^\n]*\ntty/);
    // What pssh's ssh -tt gives each host: $TERM and a size of 0 (rxssh sent vt100, 24x80).
    const theirs = bash(`TERM=xterm-256color ssh ${sshFlags()} -q -tt ${s.username}@127.0.0.1 'echo "[$TERM]"; stty size' < /dev/null`);
    expect(r.stdout.replace(/\r/g, '')).toContain(theirs.stdout.replace(/\r/g, ''));
  });
});

describe('copying like scp and pscp (issue 22 #7, #8)', () => {
  const hostFlags = () => ['-H', `127.0.0.1:${s.port}`, '-l', s.username, '--identity', s.keys['ed25519'] ?? '', '--known-hosts', kh];
  const cli = (args: string[], env: Record<string, string> = {}) => spawnSync(process.execPath, ['--import', 'tsx', 'lib/cli/bin.ts', ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });

  it('put FILE EXISTING_DIR (with or without /) copies into it; ~/ is the remote home; putFile the same', async () => {
    const name = `into-${randomBytes(3).toString('hex')}`;
    const dir = join(s.home, name);
    mkdirSync(dir);
    execFileSync('chown', [s.username, dir]);
    const src = join(work, `file-${name}`);
    writeFileSync(src, 'into the directory\n');
    for (const to of [dir, `${dir}/`, `~/${name}`]) {
      rmSync(join(dir, `file-${name}`), { force: true });
      const r = cli(['put', ...hostFlags(), src, to]);
      expect(r.status, `${to}: ${r.stdout}${r.stderr}`).toBe(0);
      expect(readFileSync(join(dir, `file-${name}`), 'utf8'), to).toBe('into the directory\n');
    }
    rmSync(join(dir, `file-${name}`), { force: true });
    await using ssh = await openConnection(
      connect({ host: '127.0.0.1', port: s.port, username: s.username }).pipe(verifyHostKey(knownHosts({ files: [kh] })), authenticate(privateKey(readFileSync(s.keys['ed25519'] ?? '')))),
    );
    await ssh.putFile(src, `~/${name}/`);
    expect(readFileSync(join(dir, `file-${name}`), 'utf8')).toBe('into the directory\n');
  });

  it('put -r and get -r copy the regular files of a tree and say which entries they pass over (symbolic links, FIFOs), as sftp -R says it', () => {
    const name = `links-${randomBytes(3).toString('hex')}`;
    const tree = join(work, name);
    mkdirSync(join(tree, 'd'), { recursive: true });
    writeFileSync(join(tree, 'd', 'a'), 'a\n');
    execFileSync('ln', ['-s', 'd/a', join(tree, 'to-file')]);
    execFileSync('ln', ['-s', '/etc', join(tree, 'to-etc')]);
    execFileSync('mkfifo', [join(tree, 'fifo')]);
    const remote = join(s.home, name);
    const up = cli(['put', ...hostFlags(), '-r', tree, remote]);
    expect(up.status, up.stdout + up.stderr).toBe(0);
    expect(execFileSync('find', [remote, '-printf', '%y %P\\n'], { encoding: 'utf8' }).split('\n').filter(Boolean).sort()).toEqual(['d ', 'd d', 'f d/a']);
    for (const [entry, kind] of [['to-file', 'symbolic link'], ['to-etc', 'symbolic link'], ['fifo', 'special file']]) {
      expect(up.stderr).toContain(`rxssh: 127.0.0.1:${s.port}: ${join(tree, entry as string)}: not a regular file (${kind}), not copied`);
    }
    // OpenSSH's sftp passes over the same entries, and says so too.
    const sftp = spawnSync('sftp', ['-b', '-', '-P', String(s.port), '-i', s.keys['ed25519'] ?? '', '-o', `UserKnownHostsFile=${kh}`, '-o', 'BatchMode=yes', `${s.username}@127.0.0.1`], { input: `put -R ${tree} ${remote}-sftp\n`, encoding: 'utf8' });
    expect(sftp.stderr.match(/not a regular file/g)).toHaveLength(3);
    // The remote tree as it is there: its links are passed over the same way on the way back.
    execFileSync('ln', ['-s', 'd/a', join(remote, 'remote-link')]);
    const into = mkdtempSync(join(work, 'get-links-'));
    const down = cli(['get', ...hostFlags(), '-r', remote, into]);
    expect(down.status, down.stdout + down.stderr).toBe(0);
    expect(down.stderr).toContain(`${join(remote, 'remote-link')}: not a regular file (symbolic link), not copied`);
  });

  it('get reads a file to its end-of-file as sftp does (/proc/version: its size says 0); a device is refused both ways as sftp refuses it', () => {
    const into = mkdtempSync(join(work, 'get-proc-'));
    const r = cli(['get', ...hostFlags(), '/proc/version', into]);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    const got = readdirSync(into).map((d) => readFileSync(join(into, d, 'version'), 'utf8'));
    const viaSftp = join(into, 'sftp-version');
    const sftpArgs = ['-b', '-', '-P', String(s.port), '-i', s.keys['ed25519'] ?? '', '-o', `UserKnownHostsFile=${kh}`, '-o', 'BatchMode=yes', `${s.username}@127.0.0.1`];
    expect(spawnSync('sftp', sftpArgs, { input: `get /proc/version ${viaSftp}\n`, encoding: 'utf8' }).status).toBe(0);
    expect(readFileSync(viaSftp, 'utf8')).toBe(readFileSync('/proc/version', 'utf8'));
    expect(got).toEqual([readFileSync(viaSftp, 'utf8')]); // it was '' (0 bytes, [SUCCESS])
    const zero = cli(['get', ...hostFlags(), '-t', '20', '/dev/zero', into]);
    expect(zero.status).toBe(5);
    expect(zero.stdout + zero.stderr).toMatch(/\/dev\/zero.*not a regular file/);
    const sftpZero = spawnSync('sftp', sftpArgs, { input: `get /dev/zero ${join(into, 'zero')}\n`, encoding: 'utf8', timeout: 20_000 });
    expect([sftpZero.status, sftpZero.stderr]).toEqual([1, expect.stringContaining('not a regular file')]);
    // And the other way: sftp put says 'local "/dev/zero" is not a regular file'; rxssh put fails the host the same way.
    const up = cli(['put', ...hostFlags(), '/dev/zero', join(s.home, 'zero-up')]);
    expect(up.status).toBe(5);
    expect(up.stdout + up.stderr).toMatch(/\/dev\/zero is not a regular file/);
    expect(existsSync(join(s.home, 'zero-up'))).toBe(false);
  });

  it('get DIR without -r says it is a directory; ~/ works for get; two hosts named alike get distinct directories', () => {
    const name = `getdir-${randomBytes(3).toString('hex')}`;
    mkdirSync(join(s.home, name));
    writeFileSync(join(s.home, name, 'f'), 'x');
    execFileSync('chown', ['-R', s.username, join(s.home, name)]);
    const into = mkdtempSync(join(work, 'get-'));
    const r = cli(['get', ...hostFlags(), `~/${name}`, into]);
    expect(r.status).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/is a directory \(use -r\)/);
    // Two labels whose directory names coincide (the user is the local user's, so it is left out).
    const two = cli(['get', '-H', `${s.username}@127.0.0.1:${s.port}`, '-H', `127.0.0.1:${s.port}`, '-l', s.username, '--identity', s.keys['ed25519'] ?? '', '--known-hosts', kh, `~/${name}/f`, into], { USER: s.username });
    expect(two.status, two.stdout + two.stderr).toBe(0);
    expect(readdirSync(into).sort()).toEqual([`127.0.0.1:${s.port}`, `127.0.0.1:${s.port}.1`]);
    for (const d of readdirSync(into)) expect(readFileSync(join(into, d, 'f'), 'utf8')).toBe('x');
  });

  it('-o DIR that cannot be made fails at once with a clear error (it spun at 100 % CPU)', () => {
    const started = Date.now();
    const r = cli(['run', ...hostFlags(), '-o', '/proc/nope/out', '--', 'true']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/-o \/proc\/nope\/out: cannot make the directory/);
    expect(Date.now() - started).toBeLessThan(20_000); // a bound on a hang, not a speed claim
    expect(existsSync('/proc/nope')).toBe(false);
  });
});

describe('rxssh exec as an interactive ssh: a shell without a command, -L -R -D -N (issue 22 #5)', () => {
  const target = () => [`-p`, String(s.port), '-i', s.keys['ed25519'] ?? '', '-o', `UserKnownHostsFile=${kh}`, `${s.username}@127.0.0.1`];
  /** `rxssh exec ARGS` on a pty, typing `input`: the terminal's bytes and the exit code. */
  const execOnTerminal = (args: string[], input: string): { shown: string; code: number | undefined } => {
    const { raw, code } = onTerminal(`${RXSSH} exec ${args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ')}`, input, { SSH_AUTH_SOCK: '' });
    return { shown: raw, code };
  };
  const free = async (): Promise<number> => (await import('./sshd.js')).freePort();
  /** Starts the CLI in the background; stops it with SIGINT. */
  const background = async (args: string[]) => {
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, ['--import', 'tsx', 'lib/cli/bin.ts', 'exec', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    return { stop: async () => (child.kill('SIGINT'), await exited), err: () => err };
  };
  const banner = async (port: number): Promise<string> => {
    const { connect } = await import('node:net');
    return new Promise((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.on('error', () => resolve(''));
      socket.once('data', (d: Buffer) => {
        socket.destroy();
        resolve(d.toString().split('\r\n')[0] ?? '');
      });
    });
  };

  it('no command on a terminal: a shell on a pseudo-terminal, its exit code is rxssh\'s', () => {
    const { shown, code } = execOnTerminal(target(), 'test -t 0 && echo "inside $((6*7)) on a tty"\nexit 3\n');
    expect(shown).toContain('inside 42 on a tty');
    expect(code).toBe(3);
  });

  it('a password asked on the terminal as ssh asks it: its prompt, "Permission denied, please try again." after a wrong one, NumberOfPasswordPrompts, none under BatchMode', () => {
    const noKeys = ['-p', String(s.port), '-o', `UserKnownHostsFile=${kh}`, '-o', 'GlobalKnownHostsFile=/dev/null', '-o', 'IdentitiesOnly=yes', '-o', 'IdentityFile=/nonexistent/id'];
    const prompt = `${s.username}@127.0.0.1's password: `;
    /** Each client on a terminal, answering each password prompt as it comes (ssh discards answers typed ahead). */
    const both = (extra: string[], answers: string[]) =>
      (['rxssh', 'ssh'] as const).map((client) => {
        const command = client === 'rxssh' ? [process.execPath, '--import', 'tsx', 'lib/cli/bin.ts', 'exec'] : ['ssh', '-F', '/dev/null'];
        const steps = answers.map((a) => [prompt, `${a}\n`]);
        const r = spawnSync('python3', ['spec/helpers/pty-dialog.py', JSON.stringify(steps), '30', '--', ...command, ...noKeys, ...extra, `${s.username}@127.0.0.1`, 'echo in-$((6*7))'], { encoding: 'utf8', env: { ...process.env, SSH_AUTH_SOCK: '' }, timeout: 60_000 });
        const { raw, code, timedOut } = JSON.parse(r.stdout || '{}') as { raw: string; code: number; timedOut: boolean };
        const count = (text: string): number => raw.split(text).length - 1;
        return { client, prompts: count(prompt), again: count('Permission denied, please try again.'), ran: raw.includes('in-42'), code, timedOut };
      });
    const [mine, theirs] = both([], ['wrong', s.password]);
    expect(mine).toEqual({ client: 'rxssh', prompts: 2, again: 1, ran: true, code: 0, timedOut: false });
    expect({ ...theirs, client: 'rxssh' }).toEqual(mine);
    const [once, sshOnce] = both(['-o', 'NumberOfPasswordPrompts=1'], ['wrong']);
    expect(once).toEqual({ client: 'rxssh', prompts: 1, again: 0, ran: false, code: 255, timedOut: false });
    expect({ ...sshOnce, client: 'rxssh' }).toEqual(once);
    const [batch, sshBatch] = both(['-o', 'BatchMode=yes'], [s.password]);
    expect(batch).toEqual({ client: 'rxssh', prompts: 0, again: 0, ran: false, code: 255, timedOut: false });
    expect({ ...sshBatch, client: 'rxssh' }).toEqual(batch);
  });

  it('BatchMode yes on a terminal asks nothing: not about an unknown host key, not for a passphrase — as ssh', () => {
    /** On a terminal; a question left unanswered ends it after `seconds`. */
    const dialog = (client: 'rxssh' | 'ssh', args: string[], seconds = 30) => {
      const command = client === 'rxssh' ? [process.execPath, '--import', 'tsx', 'lib/cli/bin.ts', 'exec'] : ['ssh', '-F', '/dev/null'];
      const r = spawnSync('python3', ['spec/helpers/pty-dialog.py', '[]', String(seconds), '--', ...command, '-p', String(s.port), '-o', 'GlobalKnownHostsFile=/dev/null', ...args, `${s.username}@127.0.0.1`, 'true'], { encoding: 'utf8', env: { ...process.env, SSH_AUTH_SOCK: '' }, timeout: 60_000 });
      const { raw, code, timedOut } = JSON.parse(r.stdout || '{}') as { raw: string; code: number; timedOut: boolean };
      return { asked: /Are you sure you want to continue connecting|Enter passphrase/.test(raw), code, timedOut };
    };
    const unknown = ['-o', `UserKnownHostsFile=${join(s.dir, 'nothing-known')}`, '-o', 'StrictHostKeyChecking=ask', '-i', s.keys['ed25519'] ?? ''];
    const encrypted = ['-o', `UserKnownHostsFile=${kh}`, '-o', 'IdentitiesOnly=yes', '-i', s.keys['encrypted'] ?? ''];
    for (const args of [unknown, encrypted]) {
      for (const client of ['rxssh', 'ssh'] as const) {
        expect(dialog(client, ['-o', 'BatchMode=yes', ...args]), `${client} ${args.join(' ')}`).toEqual({ asked: false, code: 255, timedOut: false });
        // Without BatchMode the same command line asks (so the check above can fail).
        expect(dialog(client, args, 4).asked, `${client} ${args.join(' ')}`).toBe(true);
      }
    }
    // rxssh run asks about unknown hosts on a terminal too (a list, as ssh asks for one): not under BatchMode.
    const viaRun = (extra: string[], seconds: number): { asked: boolean; code: number } => {
      const argv = [process.execPath, '--import', 'tsx', 'lib/cli/bin.ts', 'run', '-H', `${s.username}@127.0.0.1:${s.port}`, '--identity', s.keys['ed25519'] ?? '', '-O', `UserKnownHostsFile=${join(s.dir, 'nothing-known')}`, '-O', 'GlobalKnownHostsFile=/dev/null', '-O', 'StrictHostKeyChecking=ask', ...extra, '--', 'true'];
      const r = spawnSync('python3', ['spec/helpers/pty-dialog.py', '[]', String(seconds), '--', ...argv], { encoding: 'utf8', env: { ...process.env, SSH_AUTH_SOCK: '' }, timeout: 60_000 });
      const { raw, code } = JSON.parse(r.stdout || '{}') as { raw: string; code: number };
      return { asked: /Are you sure you want to continue connecting/.test(raw), code };
    };
    expect(viaRun(['-O', 'BatchMode=yes'], 30)).toEqual({ asked: false, code: 4 }); // pssh's 4: a host failed to connect
    expect(viaRun([], 4).asked).toBe(true);
  }, 120_000);

  it('keyboard-interactive (sshd with PAM, no password method): the prompts asked as ssh asks them; a --password-env password answers them', async () => {
    const { startSshd } = await import('./sshd.js');
    const pam = await startSshd({ account: { username: s.username, password: s.password, home: s.home }, extra: ['UsePAM yes', 'KbdInteractiveAuthentication yes', 'PasswordAuthentication no'] });
    try {
      const known = join(pam.info.dir, 'known_hosts.kbd');
      writeFileSync(known, `${knownHostsName('127.0.0.1', pam.info.port)} ${hostKeyLine(pam.info.dir)}\n`);
      const target = ['-p', String(pam.info.port), '-o', `UserKnownHostsFile=${known}`, '-o', 'GlobalKnownHostsFile=/dev/null', '-o', 'IdentitiesOnly=yes', '-o', 'IdentityFile=/nonexistent/id', `${s.username}@127.0.0.1`, 'echo in-$((6*7))'];
      const prompt = `(${s.username}@127.0.0.1) Password: `;
      const seen = (['rxssh', 'ssh'] as const).map((client) => {
        const command = client === 'rxssh' ? [process.execPath, '--import', 'tsx', 'lib/cli/bin.ts', 'exec'] : ['ssh', '-F', '/dev/null'];
        const steps = [[prompt, 'wrong\n'], [prompt, `${s.password}\n`]];
        const r = spawnSync('python3', ['spec/helpers/pty-dialog.py', JSON.stringify(steps), '30', '--', ...command, ...target], { encoding: 'utf8', env: { ...process.env, SSH_AUTH_SOCK: '' }, timeout: 60_000 });
        const { raw, code, timedOut } = JSON.parse(r.stdout || '{}') as { raw: string; code: number; timedOut: boolean };
        return { prompts: raw.split(prompt).length - 1, again: raw.split('Permission denied, please try again.').length - 1, ran: raw.includes('in-42'), code, timedOut };
      });
      expect(seen[0]).toEqual({ prompts: 2, again: 0, ran: true, code: 0, timedOut: false });
      expect(seen[1]).toEqual(seen[0]);
      const viaEnv = spawnSync(process.execPath, ['--import', 'tsx', 'lib/cli/bin.ts', 'exec', '--password-env', 'RXSSH_TEST_PW', ...target], { encoding: 'utf8', env: { ...process.env, SSH_AUTH_SOCK: '', RXSSH_TEST_PW: s.password }, timeout: 60_000 });
      expect(viaEnv.stdout, viaEnv.stderr).toBe('in-42\n');
    } finally {
      await pam.stop();
    }
  });

  it('no command and no terminal: the shell reads stdin, as ssh does (and says so)', () => {
    const r = bash(`printf 'echo piped $((2+3))\\n' | ${RXSSH} exec ${sshFlags()} ${s.username}@127.0.0.1`);
    expect(r.stdout).toBe('piped 5\n');
    expect(r.stderr).toContain('Pseudo-terminal will not be allocated because stdin is not a terminal.');
    expect(r.status).toBe(0);
  });

  it('-N -L: a local port reaches HOST:HOSTPORT as the server sees it (here sshd itself)', async () => {
    const port = await free();
    const fwd = await background(['-N', '-L', `${port}:127.0.0.1:${s.port}`, ...target()]);
    try {
      expect(await eventually(async () => /^SSH-2\.0-OpenSSH/.test(await banner(port)), 15_000), fwd.err()).toBe(true);
    } finally {
      await fwd.stop();
    }
  });

  it('-N -D: a SOCKS5 proxy through the server', async () => {
    const { socksConnect } = await import('../helpers/socks.js');
    const port = await free();
    const fwd = await background(['-N', '-D', String(port), ...target()]);
    try {
      let text = '';
      expect(
        await eventually(async () => {
          try {
            const { reply, socket } = await socksConnect(port, '127.0.0.1', s.port);
            if (reply !== 0) return false;
            // The first bytes through the proxy: sshd's banner.
            text = await new Promise<string>((resolve) => {
              socket.once('data', (d: Buffer) => resolve(d.toString()));
              socket.once('close', () => resolve(''));
              socket.resume(); // socksConnect leaves it paused after the reply
            });
            socket.destroy();
            return true;
          } catch {
            return false;
          }
        }, 15_000),
        fwd.err(),
      ).toBe(true);
      expect(text).toMatch(/^SSH-2\.0-OpenSSH/);
    } finally {
      await fwd.stop();
    }
  });

  it('-N -R: a port on the server reaches HOST:HOSTPORT from here', async () => {
    const { createServer } = await import('node:net');
    const local = createServer((socket) => socket.end('hello from the client side\n'));
    await new Promise<void>((r) => local.listen(0, '127.0.0.1', r));
    const localPort = (local.address() as { port: number }).port;
    const remotePort = await free();
    const fwd = await background(['-N', '-R', `${remotePort}:127.0.0.1:${localPort}`, ...target()]);
    try {
      const got = async (): Promise<string> => {
        const { connect } = await import('node:net');
        return new Promise((resolve) => {
          const socket = connect(remotePort, '127.0.0.1');
          let text = '';
          socket.on('data', (d: Buffer) => (text += d.toString()));
          socket.on('error', () => resolve(''));
          socket.on('close', () => resolve(text));
        });
      };
      expect(await eventually(async () => (await got()) === 'hello from the client side\n', 15_000), fwd.err()).toBe(true);
    } finally {
      await fwd.stop();
      local.close();
    }
  });
});
