/**
 * `npm run bench:sftp`: 256 MiB download and upload over SFTP — rxssh (pipelined, by default
 * 16 × 255 KiB in flight against OpenSSH) vs ssh2's `fastGet`/`fastPut` (its defaults: 64 × 32 KiB) vs OpenSSH `sftp` and
 * `scp` — side by side, files hash-checked after each run. The two libraries run in-process
 * (wall and CPU around the transfer, start-up excluded); rxssh also runs as a whole process
 * (`rxssh put`/`get`, the compiled CLI), measured as `sftp` and `scp` are: wall time around the
 * process, CPU (user + sys, with the children it waited for) from GNU time.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lastValueFrom } from 'rxjs';
import { authenticate, connect, pinned, privateKey, verifyHostKey, withConnection } from '../lib/index.js';
import { Client } from '../lib/ssh2/index.js';
import { hostKeyLine } from '../spec/integration/sshd.js';
import { measure } from './fanout.js';
import { buildDist, fmt, log, median, type Ratio, type Row, type SshdInfo } from './lib.js';

const SIZE = 256 * 1024 * 1024;

function sha(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

export async function sftpBench(s: SshdInfo, reps: number): Promise<{ rows: Row[]; ratios: Ratio[] }> {
  const local = join(s.dir, 'sftp-src.bin');
  const back = join(s.dir, 'sftp-back.bin');
  const remote = `${s.home}/bench-sftp.bin`;
  const block = randomBytes(1024 * 1024);
  writeFileSync(local, Buffer.concat(Array.from({ length: SIZE / block.length }, () => block)));
  const want = sha(local);
  const key = readFileSync(s.keys['ed25519'] ?? '');
  const check = (path: string): void => {
    if (sha(path) !== want) throw new Error(`${path}: hash mismatch`);
    rmSync(path, { force: true });
  };
  const rx = (dir: 'up' | 'down') =>
    lastValueFrom(
      connect({ host: s.host, port: s.port, username: s.username }).pipe(
        verifyHostKey(pinned(...Object.values(s.hostFingerprints))),
        authenticate(privateKey(key)),
        withConnection((c) => c.withSftp((sftp) => (dir === 'up' ? sftp.upload(local, remote) : sftp.download(remote, back)))),
      ),
      { defaultValue: undefined },
    );
  const raw = (dir: 'up' | 'down') =>
    new Promise<void>((resolve, reject) => {
      const client = new Client();
      client.on('error', reject);
      client.on('ready', () =>
        client.sftp((err, sftp) => {
          if (err) return reject(err);
          const done = (e?: Error | null): void => {
            client.end();
            if (e) reject(e);
            else resolve();
          };
          if (dir === 'up') sftp.fastPut(local, remote, done);
          else sftp.fastGet(remote, back, done);
        }),
      );
      client.connect({ host: s.host, port: s.port, username: s.username, privateKey: key, hostVerifier: () => true });
    });
  const sshOpts = ['-q', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-i', s.keys['ed25519'] ?? ''];
  const batch = join(s.dir, 'batch');
  const sftpCli = (dir: 'up' | 'down'): string[] => {
    writeFileSync(batch, dir === 'up' ? `put ${local} ${remote}\n` : `get ${remote} ${back}\n`);
    return ['sftp', ...sshOpts, '-P', String(s.port), '-b', batch, `${s.username}@${s.host}`];
  };
  const scp = (dir: 'up' | 'down'): string[] => {
    const remoteSpec = `${s.username}@${s.host}:${remote}`;
    return ['scp', ...sshOpts, '-P', String(s.port), ...(dir === 'up' ? [local, remoteSpec] : [remoteSpec, back])];
  };
  // rxssh as users run it: the compiled CLI, host key checked against a known_hosts file.
  buildDist();
  const knownHosts = join(s.dir, 'known_hosts.sftp');
  writeFileSync(knownHosts, `[${s.host}]:${s.port} ${hostKeyLine(s.dir)}\n`);
  const getDir = join(s.dir, 'sftp-get');
  const rxCli = (dir: 'up' | 'down'): string[] => [
    process.execPath, 'dist/cli/bin.js', dir === 'up' ? 'put' : 'get', '-F', '/dev/null', '-H', `${s.username}@${s.host}:${s.port}`,
    '--identity', s.keys['ed25519'] ?? '', '--known-hosts', knownHosts, '--json',
    ...(dir === 'up' ? [local, remote] : [remote, getDir]),
  ];
  /** `rxssh get` writes LOCALDIR/HOST/NAME (pslurp's layout): moved to where the others write. */
  const fetched = (): void => {
    const [hostDir = ''] = readdirSync(getDir);
    renameSync(join(getDir, hostDir, 'bench-sftp.bin'), back);
    rmSync(getDir, { recursive: true, force: true });
  };
  const cliOk = (stdout: string) => {
    const summary = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as { ok?: number; failed?: number };
    if (summary.ok !== 1) throw new Error(`rxssh: ${stdout.slice(-300)}`);
    return { ok: 1, failed: 0 };
  };
  const processOk = () => ({ ok: 1, failed: 0 });
  type Client = { name: string; inProcess?: (dir: 'up' | 'down') => Promise<unknown>; cmd?: (dir: 'up' | 'down') => string[]; parse?: typeof cliOk };
  const clients: Client[] = [
    { name: 'rxssh', inProcess: rx },
    { name: 'ssh2 fastGet/fastPut', inProcess: raw },
    { name: 'rxssh (whole process)', cmd: rxCli, parse: cliOk },
    { name: 'OpenSSH sftp', cmd: sftpCli },
    { name: 'OpenSSH scp', cmd: scp },
  ];
  const rows: Row[] = [];
  const ratios: Ratio[] = [];
  await rx('up'); // warm-up: the in-process clients' code paths compiled before the first measured run
  for (const dir of ['up', 'down'] as const) {
    const runs: Record<string, Array<{ wall: number; cpu: number }>> = Object.fromEntries(clients.map((c) => [c.name, []]));
    for (let r = 0; r < reps; r++) {
      // Each repetition starts with a different client, so no one always runs on a warm or cold cache.
      for (const client of [...clients.slice(r % clients.length), ...clients.slice(0, r % clients.length)]) {
        if (dir === 'down') await rx('up'); // the remote file to fetch
        let run: { wall: number; cpu: number };
        if (client.inProcess) {
          const c0 = process.cpuUsage();
          const t0 = performance.now();
          await client.inProcess(dir);
          const wall = performance.now() - t0;
          const c = process.cpuUsage(c0);
          run = { wall, cpu: (c.user + c.system) / 1000 };
        } else {
          const m = await measure(client.cmd?.(dir) ?? [], client.parse ?? processOk);
          run = { wall: m.wallMs, cpu: m.cpuMs };
        }
        runs[client.name]?.push(run);
        if (dir === 'down') {
          if (client.name === 'rxssh (whole process)') fetched();
          check(back);
        } else execFileSync('cmp', ['-s', local, remote]);
      }
    }
    const wall: Record<string, number> = {};
    const cpu: Record<string, number> = {};
    const what = dir === 'up' ? 'upload' : 'download';
    for (const { name, inProcess } of clients) {
      const all = runs[name] ?? [];
      wall[name] = median(all.map((x) => x.wall));
      cpu[name] = median(all.map((x) => x.cpu));
      rows.push({
        part: 'sftp',
        case: `${what} 256 MiB${inProcess ? ' (in-process)' : ''}`,
        client: name,
        median: wall[name] ?? NaN,
        unit: 'ms',
        runs: all.map((x) => x.wall),
        note: `${fmt(SIZE / 2 ** 20 / ((wall[name] ?? NaN) / 1000), 0)} MiB/s; CPU ${fmt(cpu[name] ?? NaN, 0)} ms (runs ${all.map((x) => fmt(x.cpu, 0)).join(', ')})`,
      });
      log(`sftp ${dir} ${name}: ${fmt(wall[name] ?? NaN, 0)} ms, CPU ${fmt(cpu[name] ?? NaN, 0)} ms`);
    }
    const ratio = (m: Record<string, number>, a: string, b: string): number => (m[a] ?? NaN) / (m[b] ?? NaN);
    const v = ratio(wall, 'rxssh', 'OpenSSH sftp');
    ratios.push({ part: 'sftp', what: `${what}: rxssh / OpenSSH sftp time (rxssh in-process)`, value: v, goal: '≤ 1.00', met: v <= 1 });
    ratios.push({ part: 'sftp', what: `${what}: rxssh / OpenSSH sftp time (whole process)`, value: ratio(wall, 'rxssh (whole process)', 'OpenSSH sftp'), goal: '(for orientation)', met: true });
    ratios.push({ part: 'sftp', what: `${what}: rxssh / OpenSSH sftp CPU (whole process)`, value: ratio(cpu, 'rxssh (whole process)', 'OpenSSH sftp'), goal: '(for orientation)', met: true });
    ratios.push({ part: 'sftp', what: `${what}: rxssh / ssh2 fast* time (in-process)`, value: ratio(wall, 'rxssh', 'ssh2 fastGet/fastPut'), goal: '(for orientation)', met: true });
    ratios.push({ part: 'sftp', what: `${what}: rxssh / ssh2 fast* CPU (in-process)`, value: ratio(cpu, 'rxssh', 'ssh2 fastGet/fastPut'), goal: '(for orientation)', met: true });
  }
  rmSync(local, { force: true });
  return { rows, ratios };
}
