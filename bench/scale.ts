/**
 * `npm run bench:scale`: the same `rxssh run -- true` on the same hosts three ways, side by side
 * in one run: in one process, with `--workers 2` (worker threads), and through the queue
 * (`--queue`, a throwaway redis-server, two `rxssh worker` processes started beforehand, 16 hosts
 * each at once). All on the compiled CLI (`dist/cli/bin.js`), 32 hosts in flight everywhere.
 * CPU is counted for every process that does the work: the run (GNU time: user + sys), and in
 * queue mode also the two workers and redis-server (from /proc/PID/stat, before and after).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startRedis } from '../spec/helpers/redis.js';
import { FANOUT_ADDRESSES, measure, writeHostsFile, type ClientReport, type Measured } from './fanout.js';
import { buildDist, fmt, log, median, type Ratio, type Row, type SshdInfo } from './lib.js';
import { hostKeyLine } from '../spec/integration/sshd.js';

const WIDTH = 32;
const TICKS = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** user + sys CPU of one process so far, in ms. */
function cpuOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS; // utime, stime (fields 14 and 15)
}

function pssh(stdout: string, n: number): ClientReport {
  const ok = (stdout.match(/\[SUCCESS\]/g) ?? []).length;
  return { ok, failed: n - ok };
}

export async function scaleBench(s: SshdInfo, sizes: readonly number[], reps = 3): Promise<{ rows: Row[]; ratios: Ratio[] }> {
  buildDist();
  const rows: Row[] = [];
  const ratios: Ratio[] = [];
  const key = s.keys['ed25519'] ?? '';
  const hostKey = hostKeyLine(s.dir);
  const knownHosts = join(s.dir, 'known_hosts.scale');
  writeFileSync(knownHosts, FANOUT_ADDRESSES.map((a) => `[${a}]:${s.port} ${hostKey}\n`).join(''));
  const creds = ['-l', s.username, '--identity', key, '--known-hosts', knownHosts, '-F', '/dev/null'];
  const bin = ['dist/cli/bin.js'];
  const redis = await startRedis();
  const queue = ['--queue', redis.url, '--queue-name', 'bench'];
  const workers: ChildProcess[] = [];
  try {
    for (const name of ['w1', 'w2']) {
      const child = spawn(process.execPath, [...bin, 'worker', ...queue, '--name', name, '--concurrency', String(WIDTH / 2), ...creds], { stdio: ['ignore', 'ignore', 'pipe'] });
      let said = '';
      await new Promise<void>((resolve, reject) => {
        child.stderr?.on('data', (d: Buffer) => {
          said += d.toString();
          if (said.includes('taking jobs')) resolve();
        });
        child.once('exit', () => reject(new Error(`worker ${name} exited: ${said}`)));
      });
      workers.push(child);
    }
    for (const n of sizes) {
      const hostsFile = writeHostsFile(s, n, `scale-hosts-${n}`);
      const common = ['-h', hostsFile, ...creds];
      const clients: Array<[string, string[], string[]]> = [
        ['in one process', [process.execPath, ...bin, 'run', ...common, '-p', String(WIDTH), '--', 'true'], creds],
        ['--workers 2', [process.execPath, ...bin, 'run', '--workers', '2', ...common, '-p', String(WIDTH), '--', 'true'], creds],
        ['--queue, 2 rxssh worker processes', [process.execPath, ...bin, 'run', ...queue, '-h', hostsFile, '--', 'true'], []],
      ];
      const runs: Record<string, Array<Measured & { workersMs: number; redisMs: number }>> = {};
      for (let r = 0; r < reps; r++) {
        for (const [name, cmd] of [...clients.slice(r % clients.length), ...clients.slice(0, r % clients.length)]) {
          const queued = name.startsWith('--queue');
          const w0 = queued ? workers.reduce((t, w) => t + cpuOf(w.pid ?? 0), 0) : 0;
          const r0 = queued ? cpuOf(redis.process.pid ?? 0) : 0;
          const m = await measure(cmd, (o) => pssh(o, n));
          const workersMs = queued ? workers.reduce((t, w) => t + cpuOf(w.pid ?? 0), 0) - w0 : 0;
          const redisMs = queued ? cpuOf(redis.process.pid ?? 0) - r0 : 0;
          (runs[name] ??= []).push({ ...m, workersMs, redisMs });
        }
      }
      const summary: Record<string, { wallMs: number; cpuPerHost: number; redisPerHost: number; ok: number }> = {};
      for (const [name] of clients) {
        const all = runs[name] ?? [];
        const wallMs = median(all.map((x) => x.wallMs));
        const cpuPerHost = median(all.map((x) => (x.cpuMs + x.workersMs) / n));
        const redisPerHost = median(all.map((x) => x.redisMs / n));
        const ok = Math.min(...all.map((x) => x.report.ok));
        summary[name] = { wallMs, cpuPerHost, redisPerHost, ok };
        const queued = name.startsWith('--queue');
        rows.push({
          part: 'scale',
          case: `rxssh run -- true on ${n} hosts, ${WIDTH} at once`,
          client: name,
          median: wallMs,
          unit: 'ms wall (run process)',
          runs: all.map((x) => x.wallMs),
          note: `client CPU ${fmt(cpuPerHost, 2)} ms/host${queued ? ` (run process ${fmt(median(all.map((x) => x.cpuMs / n)), 2)} + workers ${fmt(median(all.map((x) => x.workersMs / n)), 2)}); redis-server ${fmt(redisPerHost, 2)} ms/host` : ''}; ${ok} ok`,
        });
        log(`scale ${n} ${name}: ${fmt(wallMs, 0)} ms wall, ${fmt(cpuPerHost, 2)} ms CPU/host${queued ? `, redis ${fmt(redisPerHost, 2)} ms/host` : ''}, ${ok} ok`);
      }
      const one = summary['in one process'];
      const threads = summary['--workers 2'];
      const queued = summary['--queue, 2 rxssh worker processes'];
      if (one && threads && queued) {
        ratios.push({ part: 'scale', what: `${n} hosts: client CPU per host, --workers 2 / one process`, value: threads.cpuPerHost / one.cpuPerHost, goal: '≤ 1.15 (threads cost little extra)', met: threads.cpuPerHost / one.cpuPerHost <= 1.15 });
        ratios.push({ part: 'scale', what: `${n} hosts: client CPU per host, --queue / one process`, value: queued.cpuPerHost / one.cpuPerHost, goal: '≤ 1.30 (the queue costs little per host)', met: queued.cpuPerHost / one.cpuPerHost <= 1.3 });
        ratios.push({ part: 'scale', what: `${n} hosts: queue overhead per host (run + workers + redis-server − one process), ms CPU`, value: queued.cpuPerHost + queued.redisPerHost - one.cpuPerHost, goal: 'reported', met: true });
        // On paper: a runner's client CPU bounds it (servers elsewhere, the network not the limit);
        // one Redis (one thread) bounds all the runners together.
        ratios.push({ part: 'scale', what: `${n} hosts: projection, one 16-core runner (queue mode), hosts/s = 16 × 1000 / client ms per host`, value: (16 * 1000) / queued.cpuPerHost, goal: 'paper', met: true });
        ratios.push({ part: 'scale', what: `${n} hosts: projection, one Redis for N runners, hosts/s ≤ 1000 / redis-server ms per host`, value: 1000 / Math.max(queued.redisPerHost, 0.001), goal: 'paper', met: true });
        ratios.push({ part: 'scale', what: `${n} hosts: all ok in all three modes`, value: Math.min(one.ok, threads.ok, queued.ok), goal: `= ${n}`, met: Math.min(one.ok, threads.ok, queued.ok) === n });
      }
    }
  } finally {
    for (const w of workers) w.kill('SIGTERM');
    await redis.stop();
  }
  return { rows, ratios };
}
