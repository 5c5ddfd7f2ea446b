/**
 * Part 3 — many channels: 1,000 `exec true` over one connection, queued by rxssh's channel
 * limiter (sshd MaxSessions 10), against raw ssh2 with a hand-written pool of the same width
 * and raw ssh2 opening everything at once.
 */
import { readFileSync } from 'node:fs';
import { lastValueFrom, mergeMap, range, toArray } from 'rxjs';
import { authenticate, connect, pinned, privateKey, verifyHostKey, withConnection } from '../lib/index.js';
import { Client } from '../lib/ssh2/index.js';
import { fmt, log, median, time, type Ratio, type Row, type SshdInfo } from './lib.js';

function viaRxssh(s: SshdInfo, key: Buffer, n: number): Promise<unknown> {
  return lastValueFrom(
    connect({ host: s.host, port: s.port, username: s.username }).pipe(
      verifyHostKey(pinned(...Object.values(s.hostFingerprints))),
      authenticate(privateKey(key)),
      withConnection((c) => range(0, n).pipe(mergeMap(() => c.run('true', { check: true })), toArray())),
    ),
  );
}

/** Raw ssh2 with `width` commands in flight; returns how many failed. */
function viaSsh2(s: SshdInfo, key: Buffer, n: number, width: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    client.on('error', reject);
    client.on('ready', () => {
      let started = 0;
      let done = 0;
      let failed = 0;
      const next = (): void => {
        if (started >= n) return;
        started++;
        client.exec('true', (err, stream) => {
          if (err) {
            failed++;
            finish();
            return;
          }
          stream.resume();
          stream.stderr.resume();
          stream.on('close', finish);
          stream.end();
        });
      };
      const finish = (): void => {
        if (++done === n) {
          client.end();
          resolve(failed);
        } else next();
      };
      for (let i = 0; i < Math.min(width, n); i++) next();
    });
    client.connect({ host: s.host, port: s.port, username: s.username, privateKey: key, hostVerifier: () => true });
  });
}

export async function manyChannels(s: SshdInfo, n: number, reps: number): Promise<{ rows: Row[]; ratios: Ratio[] }> {
  const key = readFileSync(s.keys['ed25519'] ?? '');
  const rows: Row[] = [];
  const label = `${n} × exec true on one connection`;
  const rxRuns = await time(reps, () => viaRxssh(s, key, n), 1);
  const rx = median(rxRuns);
  rows.push({ part: 'channels', case: label, client: 'rxssh (limiter, 8 open)', median: rx, unit: 'ms', runs: rxRuns, note: 'all succeeded' });
  let failedPool = 0;
  const poolRuns = await time(reps, async () => (failedPool = await viaSsh2(s, key, n, 8)), 1);
  const pool = median(poolRuns);
  rows.push({ part: 'channels', case: label, client: 'ssh2, pool of 8', median: pool, unit: 'ms', runs: poolRuns, note: `${failedPool} failed (last run)` });
  let failedAll = 0;
  const all = median(await time(1, async () => (failedAll = await viaSsh2(s, key, n, n)), 0));
  rows.push({ part: 'channels', case: label, client: 'ssh2, all at once', median: all, unit: 'ms', runs: [all], note: `${failedAll} of ${n} failed with "Channel open failure"` });
  log(`channels rxssh ${fmt(rx, 0)} ms, ssh2 pool ${fmt(pool, 0)} ms (${failedPool} failed), ssh2 all-at-once ${failedAll} failed`);
  return { rows, ratios: [{ part: 'channels', what: 'rxssh / ssh2 pool of 8', value: rx / pool, goal: '(all succeed)', met: true }] };
}
