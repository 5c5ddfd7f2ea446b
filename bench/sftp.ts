/**
 * `npm run bench:sftp`: 256 MiB download and upload over SFTP — rxssh (pipelined, by default
 * 16 × 255 KiB in flight against OpenSSH) vs ssh2's `fastGet`/`fastPut` (its defaults: 64 × 32 KiB) vs OpenSSH `sftp` and
 * `scp` — side by side, files hash-checked after each run.
 */
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lastValueFrom } from 'rxjs';
import { authenticate, connect, pinned, privateKey, verifyHostKey, withConnection } from '../lib/index.js';
import { Client } from '../lib/internal/ssh2.js';
import { fmt, log, median, time, type Ratio, type Row, type SshdInfo } from './lib.js';

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
  const sftpCli = (dir: 'up' | 'down') => {
    const batch = join(s.dir, 'batch');
    writeFileSync(batch, dir === 'up' ? `put ${local} ${remote}\n` : `get ${remote} ${back}\n`);
    execFileSync('sftp', [...sshOpts, '-P', String(s.port), '-b', batch, `${s.username}@${s.host}`], { stdio: 'ignore' });
  };
  const scp = (dir: 'up' | 'down') => {
    const remoteSpec = `${s.username}@${s.host}:${remote}`;
    execFileSync('scp', [...sshOpts, '-P', String(s.port), ...(dir === 'up' ? [local, remoteSpec] : [remoteSpec, back])], { stdio: 'ignore' });
  };
  const clients: Array<[string, (dir: 'up' | 'down') => Promise<unknown> | void]> = [
    ['rxssh', rx],
    ['ssh2 fastGet/fastPut', raw],
    ['OpenSSH sftp', sftpCli],
    ['OpenSSH scp', scp],
  ];
  const rows: Row[] = [];
  const ratios: Ratio[] = [];
  for (const dir of ['up', 'down'] as const) {
    const runs: Record<string, number[]> = Object.fromEntries(clients.map(([n]) => [n, []]));
    for (let r = 0; r < reps; r++) {
      // Each repetition starts with a different client, so no one always runs on a warm or cold cache.
      for (const [name, fn] of [...clients.slice(r % clients.length), ...clients.slice(0, r % clients.length)]) {
        if (dir === 'down') await rx('up'); // the remote file to fetch
        const [ms = NaN] = await time(1, async () => fn(dir), 0);
        (runs[name] ?? []).push(ms);
        if (dir === 'down') check(back);
        else execFileSync('cmp', ['-s', local, remote]);
      }
    }
    const medians: Record<string, number> = {};
    for (const [name] of clients) {
      const m = median(runs[name] ?? []);
      medians[name] = m;
      rows.push({ part: 'sftp', case: `${dir === 'up' ? 'upload' : 'download'} 256 MiB`, client: name, median: m, unit: 'ms', runs: runs[name] ?? [], note: `${fmt(SIZE / 2 ** 20 / (m / 1000), 0)} MiB/s` });
      log(`sftp ${dir} ${name}: ${fmt(m, 0)} ms`);
    }
    const v = (medians['rxssh'] ?? NaN) / (medians['OpenSSH sftp'] ?? NaN);
    ratios.push({ part: 'sftp', what: `${dir === 'up' ? 'upload' : 'download'}: rxssh / OpenSSH sftp time`, value: v, goal: '≤ 1.00', met: v <= 1 });
    const w = (medians['rxssh'] ?? NaN) / (medians['ssh2 fastGet/fastPut'] ?? NaN);
    ratios.push({ part: 'sftp', what: `${dir === 'up' ? 'upload' : 'download'}: rxssh / ssh2 fast* time`, value: w, goal: '(for orientation)', met: true });
  }
  rmSync(local, { force: true });
  return { rows, ratios };
}
