/**
 * `npm run bench:fanout`: `true` on 100, 500 and 1000 hosts (sshd listening on 16 loopback
 * addresses), side by side: rxssh `fanOut`, rxssh `fanOutInWorkers` (2 threads), raw ssh2 with a Promise pool of the same width,
 * asyncssh (Debian python3-asyncssh) and pssh (Debian pssh, `parallel-ssh`). Each client runs
 * in its own process; wall time, client CPU per host (user + sys of the process and the
 * children it waited for, from GNU time) and peak RSS of the whole process tree (sampled).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { asyncsshAvailable } from './connect.js';
import { buildDist, fmt, log, median, type Ratio, type Row, type SshdInfo } from './lib.js';

export const FANOUT_ADDRESSES = Array.from({ length: 15 }, (_, i) => `127.0.0.${i + 2}`);

/** Writes a hosts file of `n` targets spread over the sshd's loopback addresses; returns its path. */
export function writeHostsFile(s: SshdInfo, n: number, name: string): string {
  const file = join(s.dir, name);
  writeFileSync(file, Array.from({ length: n }, (_, i) => `${FANOUT_ADDRESSES[i % FANOUT_ADDRESSES.length]}:${s.port}\n`).join(''));
  return file;
}
const WIDTH = 32;

const ASYNCSSH = `
import asyncio, json, resource, sys, time, warnings
warnings.filterwarnings('ignore')
import asyncssh
hosts_file, key, user, width = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
targets = []
for line in open(hosts_file):
    line = line.strip()
    if line:
        h, p = line.rsplit(':', 1)
        targets.append((h, int(p)))
async def one(sem, h, p):
    async with sem:
        try:
            async with asyncssh.connect(h, port=p, username=user, client_keys=[key], known_hosts=None) as conn:
                r = await conn.run('true')
                return r.exit_status == 0
        except Exception:
            return False
async def main():
    t0 = time.perf_counter()
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    sem = asyncio.Semaphore(width)
    res = await asyncio.gather(*(one(sem, h, p) for h, p in targets))
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime) * 1000
    print(json.dumps({'ok': sum(res), 'failed': len(res) - sum(res), 'wallMs': (time.perf_counter() - t0) * 1000, 'cpuMs': cpu}))
asyncio.run(main())
`;

export interface ClientReport {
  ok: number;
  failed: number;
  /** In-process figures (libraries only): start-up excluded. */
  wallMs?: number;
  cpuMs?: number;
}

export interface Measured {
  /** Whole process: start-up included. */
  wallMs: number;
  cpuMs: number;
  peakRssMiB: number;
  report: ClientReport;
}

function treeRss(root: number): number {
  const out = execFileSync('ps', ['-eo', 'pid=,ppid=,rss='], { encoding: 'utf8' });
  const children = new Map<number, number[]>();
  const rss = new Map<number, number>();
  for (const line of out.trim().split('\n')) {
    const [pid, ppid, kb] = line.trim().split(/\s+/).map(Number);
    if (pid === undefined || ppid === undefined || kb === undefined) continue;
    rss.set(pid, kb);
    children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  }
  let total = 0;
  const stack = [root];
  while (stack.length) {
    const pid = stack.pop() as number;
    total += rss.get(pid) ?? 0;
    stack.push(...(children.get(pid) ?? []));
  }
  return total / 1024;
}

/** Runs a command under GNU time, sampling the tree's RSS; parses the client's JSON result line. */
export function measure(cmd: string[], parse: (stdout: string) => ClientReport, env?: NodeJS.ProcessEnv): Promise<Measured> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn('/usr/bin/time', ['-f', 'TIME %U %S', ...cmd], { stdio: ['ignore', 'pipe', 'pipe'], ...(env ? { env } : {}) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let peak = 0;
    const sampler = setInterval(() => {
      try {
        peak = Math.max(peak, treeRss(child.pid ?? 0));
      } catch {
        /* the tree is gone */
      }
    }, 100);
    child.on('error', reject);
    // 'close', not 'exit': GNU time's line is the last of stderr, which may still be unread at 'exit'.
    child.on('close', () => {
      clearInterval(sampler);
      const wallMs = performance.now() - t0;
      const m = /TIME ([\d.]+) ([\d.]+)/.exec(stderr);
      if (!m) return reject(new Error(`no timing from ${cmd.join(' ')}: ${stderr.slice(-500)}`));
      try {
        resolve({ wallMs, cpuMs: (Number(m[1]) + Number(m[2])) * 1000, peakRssMiB: peak, report: parse(stdout) });
      } catch (err) {
        reject(new Error(`${cmd[0]}: ${String(err)}: ${stdout.slice(-300)} ${stderr.slice(-300)}`));
      }
    });
  });
}

export async function fanOutBench(s: SshdInfo, sizes: readonly number[], reps = 3): Promise<{ rows: Row[]; ratios: Ratio[] }> {
  // The Node clients run the compiled library, as users do (not tsx-transpiled source).
  buildDist();
  const rows: Row[] = [];
  const ratios: Ratio[] = [];
  const key = s.keys['ed25519'] ?? '';
  const json = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as ClientReport;
  const script = join(s.dir, 'asyncssh_fanout.py');
  writeFileSync(script, ASYNCSSH);
  for (const n of sizes) {
    const hostsFile = writeHostsFile(s, n, `hosts-${n}`);
    const clients: Array<[string, string[], (o: string) => ClientReport]> = [
      ['rxssh', [process.execPath, 'bench/fanout-client.mjs', 'rxssh', hostsFile, key, s.username, String(WIDTH)], json],
      ['rxssh (2 worker threads)', [process.execPath, 'bench/fanout-client.mjs', 'workers', hostsFile, key, s.username, String(WIDTH)], json],
      ['ssh2 (Promise pool)', [process.execPath, 'bench/fanout-ssh2.mjs', hostsFile, key, s.username, String(WIDTH)], json],
    ];
    if (asyncsshAvailable()) clients.push(['asyncssh', ['/usr/bin/python3', script, hostsFile, key, s.username, String(WIDTH)], json]);
    if (existsSync('/usr/bin/parallel-ssh')) {
      clients.push([
        'pssh',
        ['/usr/bin/parallel-ssh', '-h', hostsFile, '-l', s.username, '-p', String(WIDTH), '-t', '0',
          '-x', `-q -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -i ${key}`, 'true'],
        (o) => {
          const ok = (o.match(/\[SUCCESS\]/g) ?? []).length;
          return { ok, failed: n - ok };
        },
      ]);
    }
    const byClient: Record<string, Measured> = {};
    const runs: Record<string, Measured[]> = {};
    // Each repetition starts with a different client, so none always runs first or last.
    for (let r = 0; r < reps; r++) {
      for (const [name, cmd, parse] of [...clients.slice(r % clients.length), ...clients.slice(0, r % clients.length)]) {
        (runs[name] ??= []).push(await measure(cmd, parse));
      }
    }
    for (const [name] of clients) {
      const all = runs[name] ?? [];
      const inProcess = (pick: (x: ClientReport) => number | undefined): number | undefined =>
        all.every((x) => pick(x.report) !== undefined) ? median(all.map((x) => pick(x.report) as number)) : undefined;
      const reportWall = inProcess((x) => x.wallMs);
      const reportCpu = inProcess((x) => x.cpuMs);
      const m: Measured = {
        wallMs: median(all.map((x) => x.wallMs)),
        cpuMs: median(all.map((x) => x.cpuMs)),
        peakRssMiB: Math.max(...all.map((x) => x.peakRssMiB)),
        report: {
          ok: Math.min(...all.map((x) => x.report.ok)),
          failed: Math.max(...all.map((x) => x.report.failed)),
          ...(reportWall !== undefined ? { wallMs: reportWall } : {}),
          ...(reportCpu !== undefined ? { cpuMs: reportCpu } : {}),
        },
      };
      byClient[name] = m;
      const inProc = m.report.wallMs !== undefined && m.report.cpuMs !== undefined
        ? `in-process ${fmt(m.report.wallMs, 0)} ms wall, ${fmt(m.report.cpuMs / n, 2)} ms CPU/host; `
        : '';
      rows.push({
        part: 'fanout',
        case: `exec true on ${n} hosts, ${WIDTH} at once`,
        client: name,
        median: m.wallMs,
        unit: 'ms wall (process)',
        runs: all.map((x) => x.wallMs),
        note: `${inProc}process ${fmt(m.cpuMs / n, 2)} ms CPU/host, peak tree RSS ${fmt(m.peakRssMiB, 0)} MiB; ${m.report.ok} ok / ${m.report.failed} failed`,
      });
      log(`fanout ${n} ${name}: ${fmt(m.wallMs, 0)} ms wall (process), ${inProc}${fmt(m.peakRssMiB, 0)} MiB, ${m.report.ok} ok`);
    }
    const rx = byClient['rxssh'];
    if (rx) {
      const a = byClient['asyncssh'];
      const p = byClient['pssh'];
      const r = byClient['ssh2 (Promise pool)'];
      const wall = (x: Measured) => x.report.wallMs ?? x.wallMs;
      const cpu = (x: Measured) => x.report.cpuMs ?? x.cpuMs;
      const w = byClient['rxssh (2 worker threads)'];
      if (w) ratios.push({ part: 'fanout', what: `${n} hosts: rxssh in 2 worker threads / rxssh in one thread, wall (in-process)`, value: wall(w) / wall(rx), goal: '< 1.00 (more than one core used)', met: wall(w) / wall(rx) < 1 });
      if (a) ratios.push({ part: 'fanout', what: `${n} hosts: rxssh / asyncssh wall (in-process)`, value: wall(rx) / wall(a), goal: '≤ 0.95', met: wall(rx) / wall(a) <= 0.95 });
      if (p) ratios.push({ part: 'fanout', what: `${n} hosts: rxssh / pssh wall (whole process)`, value: rx.wallMs / p.wallMs, goal: '≤ 0.30', met: rx.wallMs / p.wallMs <= 0.3 });
      if (r) ratios.push({ part: 'fanout', what: `${n} hosts: rxssh / raw ssh2 CPU per host (in-process)`, value: cpu(rx) / cpu(r), goal: '≤ 1.10', met: cpu(rx) / cpu(r) <= 1.1 });
      ratios.push({ part: 'fanout', what: `${n} hosts: all ok with rxssh`, value: rx.report.ok, goal: `= ${n}`, met: rx.report.ok === n });
    }
  }
  return { rows, ratios };
}
