/**
 * Part of `npm run bench:instructions`: a fan-out's cost per host counted in instructions (what
 * CPU time on this machine cannot resolve: per-host CPU of one client spreads by ±30 % from run
 * to run). The fan-out client (`bench/fanout-client.mjs`, `exec true` on every host, 4 at once)
 * runs as a whole process under valgrind's callgrind with `node --single-threaded`, once for 20
 * hosts and once for 120; the difference over 100 hosts leaves out start-up and module loading.
 * rxssh (the compiled library) beside raw ssh2's Promise pool. Needs valgrind.
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FANOUT_ADDRESSES } from './fanout.js';
import { buildDist, fmt, log, median, type Ratio, type Row, type SshdInfo } from './lib.js';

const SMALL = 20;
const LARGE = 120;
/** Hosts at once: few, so that valgrind's slowdown keeps every handshake inside its deadline. */
const WIDTH = 4;

function count(kind: string, hosts: number, s: SshdInfo): number {
  const file = join(s.dir, `hosts-instructions-${hosts}`);
  writeFileSync(file, Array.from({ length: hosts }, (_, i) => `${FANOUT_ADDRESSES[i % FANOUT_ADDRESSES.length]}:${s.port}\n`).join(''));
  const out = spawnSync(
    'valgrind',
    ['--tool=callgrind', '--callgrind-out-file=/dev/null', '--smc-check=all-non-file', process.execPath, '--single-threaded', 'bench/fanout-client.mjs', kind, file, s.keys['ed25519'] ?? '', s.username, String(WIDTH)],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  const collected = /Collected : (\d+)/.exec(out.stderr)?.[1];
  const report = JSON.parse(out.stdout.trim().split('\n').at(-1) || '{}') as { ok?: number };
  if (out.status !== 0 || collected === undefined || report.ok !== hosts) throw new Error(`valgrind fan-out ${kind} ${hosts} hosts failed: ${out.stderr.slice(-600)} ${out.stdout.slice(-300)}`);
  return Number(collected);
}

export function fanOutInstructionsBench(s: SshdInfo, reps: number): { rows: Row[]; ratios: Ratio[] } {
  buildDist();
  const perHost: Record<string, number[]> = {};
  for (let r = 0; r < reps; r++) {
    for (const kind of r % 2 === 0 ? ['rxssh', 'ssh2'] : ['ssh2', 'rxssh']) {
      const per = (count(kind, LARGE, s) - count(kind, SMALL, s)) / (LARGE - SMALL);
      (perHost[kind] ??= []).push(per);
      log(`instructions fan-out ${kind}: ${fmt(per / 1e6, 2)} M per host`);
    }
  }
  const rows: Row[] = ['rxssh', 'ssh2'].map((kind) => ({
    part: 'instructions',
    case: `fan-out, exec true, instructions per host (${LARGE} hosts minus ${SMALL}, ${WIDTH} at once)`,
    client: kind === 'ssh2' ? 'ssh2 (Promise pool)' : kind,
    median: median(perHost[kind] ?? []) / 1e6,
    unit: 'M instructions/host',
    runs: (perHost[kind] ?? []).map((x) => x / 1e6),
  }));
  const ratio = median(perHost['rxssh'] ?? []) / median(perHost['ssh2'] ?? []);
  return { rows, ratios: [{ part: 'instructions', what: 'fan-out: rxssh / raw ssh2 instructions per host', value: ratio, goal: '≤ 1.00', met: ratio <= 1 }] };
}
