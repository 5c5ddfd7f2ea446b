/**
 * Part 2 — connect latency: connect + auth + `exec true` + close, N sequential, for rxssh,
 * raw ssh2 with its defaults, asyncssh (Debian python3-asyncssh) and OpenSSH's `ssh`.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lastValueFrom } from 'rxjs';
import { authenticate, connect, pinned, privateKey, run, verifyHostKey } from '../lib/index.js';
import { Client } from '../lib/ssh2/index.js';
import { fmt, log, median, time, type Ratio, type Row, type SshdInfo } from './lib.js';

const PYTHON = '/usr/bin/python3';

const ASYNCSSH = `
import asyncio, json, sys, time, warnings
warnings.filterwarnings('ignore')
import asyncssh
host, port, user, key, n = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
async def main():
    times = []
    for i in range(n + 1):
        t = time.perf_counter()
        async with asyncssh.connect(host, port=port, username=user, client_keys=[key], known_hosts=None) as conn:
            await conn.run('true', check=True)
        if i:
            times.append((time.perf_counter() - t) * 1000)
    print(json.dumps(times))
asyncio.run(main())
`;

function viaRxssh(s: SshdInfo, key: Buffer): Promise<unknown> {
  return lastValueFrom(
    connect({ host: s.host, port: s.port, username: s.username }).pipe(
      verifyHostKey(pinned(...Object.values(s.hostFingerprints))),
      authenticate(privateKey(key)),
      run('true', { check: true }),
    ),
  );
}

function viaSsh2(s: SshdInfo, key: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    client.on('error', reject);
    client.on('ready', () =>
      client.exec('true', (err, stream) => {
        if (err) return reject(err);
        stream.resume();
        stream.stderr.resume();
        stream.on('close', (code: number) => {
          client.end();
          if (code === 0) resolve();
          else reject(new Error(`exit ${code}`));
        });
        stream.end();
      }),
    );
    client.on('close', () => resolve());
    client.connect({ host: s.host, port: s.port, username: s.username, privateKey: key, hostVerifier: () => true });
  });
}

export function asyncsshAvailable(): boolean {
  return existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import asyncssh'], { stdio: 'ignore' }).status === 0;
}

export async function connectLatency(s: SshdInfo, n: number): Promise<{ rows: Row[]; ratios: Ratio[] }> {
  const key = readFileSync(s.keys['ed25519'] ?? '');
  const rows: Row[] = [];
  const add = (client: string, runs: number[]): number => {
    const m = median(runs);
    rows.push({ part: 'connect', case: `connect + auth + exec true + close, ${n} sequential`, client, median: m, unit: 'ms', runs });
    log(`connect ${client}: median ${fmt(m)} ms`);
    return m;
  };
  const rx = add('rxssh', await time(n, () => viaRxssh(s, key), 3));
  const raw = add('ssh2 (defaults)', await time(n, () => viaSsh2(s, key), 3));
  const sshArgs = ['-q', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-i', s.keys['ed25519'] ?? '', '-p', String(s.port), `${s.username}@${s.host}`, 'true'];
  const ssh = add('ssh', await time(n, async () => void execFileSync('ssh', sshArgs), 2));
  let asy = NaN;
  if (asyncsshAvailable()) {
    const script = join(s.dir, 'asyncssh_bench.py');
    writeFileSync(script, ASYNCSSH);
    const out = execFileSync(PYTHON, [script, s.host, String(s.port), s.username, s.keys['ed25519'] ?? '', String(n)], { encoding: 'utf8' });
    asy = add('asyncssh', JSON.parse(out) as number[]);
  } else {
    log('asyncssh: not installed (apt-get install python3-asyncssh); skipped');
  }
  const ratios: Ratio[] = [
    { part: 'connect', what: 'rxssh / raw ssh2 defaults', value: rx / raw, goal: '≤ 0.50', met: rx / raw <= 0.5 },
    { part: 'connect', what: 'rxssh / asyncssh', value: rx / asy, goal: '≤ 0.55', met: rx / asy <= 0.55 },
    { part: 'connect', what: 'rxssh / ssh', value: rx / ssh, goal: '(for orientation)', met: true },
  ];
  return { rows, ratios };
}
