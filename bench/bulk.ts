/**
 * Part 1 — bulk exec: 256 MiB through `cat` (round trip), upload only (`cat > /dev/null`) and
 * download only (`head -c N /dev/zero`): rxssh vs raw ssh2 vs OpenSSH's `ssh`, with the cipher
 * pinned to aes128-gcm@openssh.com and with each client's default.
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { lastValueFrom, tap } from 'rxjs';
import type { Algorithms } from 'ssh2';
import { authenticate, connect, pinned, privateKey, verifyHostKey, withConnection } from '../lib/index.js';
import { Client } from '../lib/ssh2/index.js';
import { fmt, log, median, time, type Ratio, type Row, type SshdInfo } from './lib.js';

const SIZE = 256 * 1024 * 1024;
const BLOCK = Buffer.alloc(256 * 1024, 0x61);
const GCM = 'aes128-gcm@openssh.com';

type Mode = 'roundtrip' | 'upload' | 'download';
const COMMAND: Record<Mode, string> = { roundtrip: 'cat', upload: 'cat > /dev/null', download: `head -c ${SIZE} /dev/zero` };

function blocks(): Buffer[] {
  return Array.from({ length: SIZE / BLOCK.length }, () => BLOCK);
}

/**
 * rxssh: stdin from an async generator (pulled with backpressure); output read either by a
 * plain subscription (push, the Observable API) or by `for await` (real demand).
 */
async function viaRxssh(s: SshdInfo, mode: Mode, cipher: boolean, read: 'subscribe' | 'for-await'): Promise<void> {
  let received = 0;
  await lastValueFrom(
    connect({ host: s.host, port: s.port, username: s.username, ...(cipher ? { algorithms: { cipher: [GCM] } as Algorithms } : {}) }).pipe(
      verifyHostKey(pinned(...Object.values(s.hostFingerprints))),
      authenticate(privateKey(readFileSync(s.keys['ed25519'] ?? ''))),
      withConnection<unknown>((c) => {
        const ch = c.exec(COMMAND[mode], { stdin: mode === 'download' ? [] : (async function* () { yield* blocks(); })() });
        if (read === 'subscribe') return ch.pipe(tap((chunk) => (received += chunk.data.length)));
        return (async () => {
          for await (const chunk of ch) received += chunk.data.length;
        })();
      }),
    ),
    { defaultValue: undefined },
  );
  if (mode !== 'upload' && received !== SIZE) throw new Error(`rxssh received ${received}`);
}

function viaSsh2(s: SshdInfo, mode: Mode, cipher: boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    let received = 0;
    client.on('error', reject);
    client.on('ready', () => {
      client.exec(COMMAND[mode], (err, stream) => {
        if (err) return reject(err);
        stream.on('data', (d: Buffer) => (received += d.length));
        stream.stderr.resume();
        stream.on('close', () => {
          client.end();
          if (mode !== 'upload' && received !== SIZE) reject(new Error(`ssh2 received ${received}`));
          else resolve();
        });
        if (mode === 'download') return void stream.end();
        const all = blocks();
        let i = 0;
        const pump = (): void => {
          while (i < all.length) {
            if (!stream.write(all[i++])) return void stream.once('drain', pump);
          }
          stream.end();
        };
        pump();
      });
    });
    client.connect({
      host: s.host,
      port: s.port,
      username: s.username,
      privateKey: readFileSync(s.keys['ed25519'] ?? ''),
      hostVerifier: () => true,
      ...(cipher ? { algorithms: { cipher: [GCM] } as Algorithms } : {}),
    });
  });
}

/** `ssh` gets its stdin from the file and its stdout counted by `wc -c`, no Node in between. */
function viaSsh(s: SshdInfo, mode: Mode, cipher: boolean, inputFile: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const args = [
      'ssh', '-q', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null',
      '-i', s.keys['ed25519'] ?? '', '-p', String(s.port), ...(cipher ? ['-c', GCM] : []),
      `${s.username}@${s.host}`, `'${COMMAND[mode]}'`,
    ];
    const input = mode === 'download' ? '/dev/null' : inputFile;
    execFile('sh', ['-c', `${args.join(' ')} < ${input} | wc -c`], (err, stdout) => {
      const received = Number(stdout.trim());
      if (err) reject(err);
      else if (mode !== 'upload' && received !== SIZE) reject(new Error(`ssh received ${received}`));
      else resolve();
    });
  });
}

export async function bulk(s: SshdInfo, reps: number): Promise<{ rows: Row[]; ratios: Ratio[] }> {
  const inputFile = join(s.dir, 'bulk.bin');
  writeFileSync(inputFile, Buffer.concat(blocks()));
  const rows: Row[] = [];
  const ratios: Ratio[] = [];
  for (const mode of ['roundtrip', 'upload', 'download'] as const) {
    for (const cipher of [true, false]) {
      const label = `${mode}, ${cipher ? 'aes128-gcm pinned' : 'each default'}`;
      const clients: Array<[string, () => Promise<void>]> = [
        ['rxssh', () => viaRxssh(s, mode, cipher, 'subscribe')],
        ['rxssh (for await)', () => viaRxssh(s, mode, cipher, 'for-await')],
        ['ssh2', () => viaSsh2(s, mode, cipher)],
        ['ssh', () => viaSsh(s, mode, cipher, inputFile)],
      ];
      const medians: Record<string, number> = {};
      // Interleave the clients rep by rep so that drift on the machine hits all alike.
      const runs: Record<string, number[]> = Object.fromEntries(clients.map(([name]) => [name, []]));
      for (const [, run] of clients) await run(); // warm-up
      for (let r = 0; r < reps; r++) {
        for (const [name, run] of clients) (runs[name] ?? []).push(...(await time(1, run, 0)));
      }
      for (const [name] of clients) {
        const m = median(runs[name] ?? []);
        medians[name] = m;
        rows.push({ part: 'bulk', case: label, client: name, median: m, unit: 'ms', runs: runs[name] ?? [], note: `${fmt(SIZE / 2 ** 20 / (m / 1000), 0)} MiB/s` });
        log(`bulk ${label} ${name}: ${fmt(m, 0)} ms`);
      }
      if (cipher) {
        const vsSsh2 = (medians['rxssh'] ?? NaN) / (medians['ssh2'] ?? NaN);
        const vsSsh = (medians['rxssh'] ?? NaN) / (medians['ssh'] ?? NaN);
        ratios.push({ part: 'bulk', what: `${mode}: rxssh / raw ssh2 (same cipher)`, value: vsSsh2, goal: '≤ 1.00', met: vsSsh2 <= 1.0 });
        ratios.push({ part: 'bulk', what: `${mode}: rxssh / ssh (same cipher)`, value: vsSsh, goal: '≤ 0.87', met: vsSsh <= 0.87 });
      }
    }
  }
  return { rows, ratios };
}
