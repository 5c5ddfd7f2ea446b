/**
 * `npm run bench:instructions`: the bulk exec path counted in instructions rather than seconds,
 * which on a shared 2-core machine vary by ±30 % from run to run. Each client (rxssh on the
 * compiled library, raw ssh2) runs as a whole process under valgrind's callgrind with
 * `node --single-threaded` (the collector on the main thread, so that it is counted too), once
 * at 8 MiB and once at 64 MiB; the difference between the two leaves out Node's start-up,
 * module loading and the connection's set-up. Kernel work (the socket copies) is not counted,
 * on either side. Needs valgrind (Debian's `valgrind`).
 */
import { spawnSync } from 'node:child_process';
import { buildDist, countInstructions, fmt, log, median, type Ratio, type Row, type SshdInfo } from './lib.js';

const GCM = 'aes128-gcm@openssh.com';
const SMALL = 8;
const LARGE = 64;

function count(kind: string, mode: string, mib: number, s: SshdInfo): number {
  const args = [`bench/bulk-${kind}.mjs`, mode, s.host, String(s.port), s.username, s.keys['ed25519'] ?? '', s.hostFingerprints['ed25519'] ?? '', GCM];
  return countInstructions(args, { ...process.env, BULK_MIB: String(mib) }).instructions;
}

export function bulkInstructionsBench(s: SshdInfo, reps: number): Promise<{ rows: Row[]; ratios: Ratio[] }> {
  const probe = spawnSync('valgrind', ['--version'], { encoding: 'utf8' });
  if (probe.status !== 0) throw new Error('bench:instructions needs valgrind (apt-get install valgrind)');
  buildDist();
  const rows: Row[] = [];
  const ratios: Ratio[] = [];
  for (const mode of ['roundtrip', 'upload', 'download'] as const) {
    const slopes: Record<string, number[]> = {};
    for (let r = 0; r < reps; r++) {
      for (const kind of r % 2 === 0 ? ['rxssh', 'ssh2'] : ['ssh2', 'rxssh']) {
        const per = (count(kind, mode, LARGE, s) - count(kind, mode, SMALL, s)) / (LARGE - SMALL);
        (slopes[kind] ??= []).push(per);
        log(`instructions ${mode} ${kind}: ${fmt(per / 1e6, 2)} M per MiB`);
      }
    }
    for (const kind of ['rxssh', 'ssh2']) {
      const all = slopes[kind] ?? [];
      rows.push({
        part: 'instructions',
        case: `${mode}, instructions per MiB (${LARGE} MiB run minus ${SMALL} MiB run), aes128-gcm`,
        client: kind,
        median: median(all) / 1e3,
        unit: 'k instructions/MiB',
        runs: all.map((x) => x / 1e3),
      });
    }
    const ratio = median(slopes['rxssh'] ?? []) / median(slopes['ssh2'] ?? []);
    ratios.push({ part: 'instructions', what: `${mode}: rxssh / raw ssh2 instructions per MiB`, value: ratio, goal: '≤ 1.00', met: ratio <= 1 });
  }
  return Promise.resolve({ rows, ratios });
}
