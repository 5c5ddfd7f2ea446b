/**
 * Part of `npm run bench:instructions`: a fan-out's cost per host counted in instructions (what
 * CPU time on this machine cannot resolve: per-host CPU of one client spreads by ±30 % from run
 * to run). The fan-out client (`bench/fanout-client.mjs`, `exec true` on every host, 4 at once)
 * runs as a whole process under valgrind's callgrind with `node --single-threaded`, once for 20
 * hosts and once for 120; the difference over 100 hosts leaves out start-up and module loading.
 * rxssh (the compiled library) beside raw ssh2's Promise pool. Needs valgrind.
 */
import { writeHostsFile } from './fanout.js';
import { buildDist, countInstructions, fmt, log, median, type Ratio, type Row, type SshdInfo } from './lib.js';

const SMALL = 20;
const LARGE = 120;
/** Hosts at once: few, so that valgrind's slowdown keeps every handshake inside its deadline. */
const WIDTH = 4;

function count(kind: string, hosts: number, s: SshdInfo): number {
  const file = writeHostsFile(s, hosts, `hosts-instructions-${hosts}`);
  const { instructions, stdout } = countInstructions([...(kind === 'ssh2' ? ['bench/fanout-ssh2.mjs'] : ['bench/fanout-client.mjs', kind]), file, s.keys['ed25519'] ?? '', s.username, String(WIDTH)]);
  const report = JSON.parse(stdout.trim().split('\n').at(-1) || '{}') as { ok?: number };
  if (report.ok !== hosts) throw new Error(`fan-out ${kind}: ${report.ok ?? 0} of ${hosts} hosts ok: ${stdout.slice(-300)}`);
  return instructions;
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
