/**
 * CLI start-up: whole processes, taking turns rep by rep, wall and CPU time (user + system, from
 * /usr/bin/time). The built bin (`dist/cli/bin.js`, what users run) against bare node, loading
 * ssh2 alone and parallel-ssh; "a real run" is `rxssh run` to a refused loopback port, which
 * loads everything a run needs and exits 4 without network waits.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { buildDist, median, type Ratio, type Row, type SshdInfo } from './lib.js';
import { hostKeyLine } from '../spec/integration/sshd.js';

const TIME = '/usr/bin/time';

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** One run of a command: wall ms (measured here) and CPU ms (from /usr/bin/time, when present). */
function once(cmd: string, args: readonly string[]): { wall: number; cpu: number } {
  const withTime = existsSync(TIME);
  const t0 = performance.now();
  const r = withTime ? spawnSync(TIME, ['-f', '%U %S', cmd, ...args], { encoding: 'utf8' }) : spawnSync(cmd, args, { encoding: 'utf8' });
  const wall = performance.now() - t0;
  const times = withTime ? (r.stderr.trim().split('\n').pop() ?? '').split(' ').map(Number) : [NaN, NaN];
  return { wall, cpu: ((times[0] ?? NaN) + (times[1] ?? NaN)) * 1000 };
}

export async function startupBench(s: SshdInfo, reps: number): Promise<{ rows: Row[]; ratios: Ratio[] }> {
  buildDist();
  const port = await closedPort();
  const bin = new URL('../dist/cli/bin.js', import.meta.url).pathname;
  const dist = new URL('../dist/index.js', import.meta.url).pathname;
  const knownHosts = join(s.dir, 'known_hosts.startup');
  writeFileSync(knownHosts, `[${s.host}]:${s.port} ${hostKeyLine(s.dir)}\n`);
  const key = s.keys['ed25519'] ?? '';
  // The same host, key, known_hosts and command for both; neither reads a config file.
  const sshExec = ['-F', '/dev/null', '-o', 'BatchMode=yes', '-o', `UserKnownHostsFile=${knownHosts}`, '-o', 'GlobalKnownHostsFile=/dev/null', '-i', key, '-p', String(s.port), '-l', s.username, s.host, 'true'];
  const cases: Array<[string, string, string[]]> = [
    ['bare node', process.execPath, ['-e', '']],
    // ESM imports, as a program of the user's loads them (rxjs's ESM build, rxssh's dist/).
    ['node importing rxjs', process.execPath, ['--input-type=module', '-e', "import 'rxjs';"]],
    ['node importing rxjs and rxssh', process.execPath, ['--input-type=module', '-e', `import 'rxjs'; import ${JSON.stringify(dist)};`]],
    ['ssh host true', '/usr/bin/ssh', sshExec],
    ['rxssh exec host true', process.execPath, [bin, 'exec', ...sshExec]],
    ['node loading ssh2', process.execPath, ['-e', "require('ssh2')"]],
    ['node loading ssh2 and rxjs', process.execPath, ['-e', "require('ssh2'); require('rxjs')"]],
    ['rxssh --help', process.execPath, [bin, '--help']],
    ['rxssh --version', process.execPath, [bin, '--version']],
    ['rxssh run (refused port, exit 4)', process.execPath, [bin, 'run', '-F', '/dev/null', '-H', `127.0.0.1:${port}`, '-l', 'nobody', 'true']],
  ];
  let pssh = '';
  try {
    pssh = execFileSync('sh', ['-c', 'command -v parallel-ssh'], { encoding: 'utf8' }).trim();
  } catch {
    /* not installed */
  }
  if (pssh) cases.push(['parallel-ssh --version', pssh, ['--version']]);
  const wall = new Map<string, number[]>();
  const cpu = new Map<string, number[]>();
  for (const [, cmd, args] of cases) once(cmd, args); // warm the page cache
  for (let i = 0; i < reps; i++) {
    // Rotating order: no case always runs right after the same other one.
    for (let k = 0; k < cases.length; k++) {
      const [name, cmd, args] = cases[(i + k) % cases.length] as [string, string, string[]];
      const r = once(cmd, args);
      wall.set(name, [...(wall.get(name) ?? []), r.wall]);
      cpu.set(name, [...(cpu.get(name) ?? []), r.cpu]);
    }
  }
  const rows: Row[] = cases.flatMap(([name]) => [
    { part: 'startup', case: 'wall', client: name, median: median(wall.get(name) ?? []), unit: 'ms', runs: wall.get(name) ?? [] },
    { part: 'startup', case: 'CPU (user+sys)', client: name, median: median(cpu.get(name) ?? []), unit: 'ms', runs: cpu.get(name) ?? [] },
  ]);
  const m = (name: string): number => median(wall.get(name) ?? []);
  const help = m('rxssh --help') / m('bare node');
  const runVsSsh2 = m('rxssh run (refused port, exit 4)') / (m('node loading ssh2') + 50);
  // rxjs is a peer dependency every rxssh program loads anyway: the floor that rxssh adds to.
  const runVsBoth = m('rxssh run (refused port, exit 4)') / (m('node loading ssh2 and rxjs') + 50);
  const c = (name: string): number => median(cpu.get(name) ?? []);
  const importCpu = c('node importing rxjs and rxssh') - c('node importing rxjs');
  // The same in one process, to the microsecond (GNU time counts in 10 ms steps): rxjs first,
  // then rxssh, each import's CPU from process.cpuUsage.
  const probe = `const t = process.cpuUsage(); await import('rxjs'); const a = process.cpuUsage(t); await import(${JSON.stringify(dist)}); const b = process.cpuUsage(t); console.log(JSON.stringify({ rxjs: (a.user + a.system) / 1000, rxssh: (b.user + b.system - a.user - a.system) / 1000 }));`;
  const inProcess = Array.from({ length: reps }, () => JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', probe], { encoding: 'utf8' })) as { rxjs: number; rxssh: number });
  const importInProcess = median(inProcess.map((r) => r.rxssh));
  rows.push({ part: 'startup', case: 'CPU of the import, in-process', client: 'rxjs', median: median(inProcess.map((r) => r.rxjs)), unit: 'ms', runs: inProcess.map((r) => Math.round(r.rxjs * 10) / 10) });
  rows.push({ part: 'startup', case: 'CPU of the import, in-process', client: 'rxssh (after rxjs)', median: importInProcess, unit: 'ms', runs: inProcess.map((r) => Math.round(r.rxssh * 10) / 10) });
  const exec = m('rxssh exec host true') / m('ssh host true');
  return {
    rows,
    ratios: [
      { part: 'startup', what: 'importing rxssh after rxjs: CPU (ms, in-process)', value: importInProcess, goal: '≤ 30', met: importInProcess <= 30 },
      { part: 'startup', what: 'importing rxssh: CPU beyond importing rxjs (ms, whole processes, GNU time: 10 ms steps)', value: importCpu, goal: '≤ 30', met: importCpu <= 30 },
      { part: 'startup', what: 'rxssh exec host true / ssh host true (wall, sshd on loopback)', value: exec, goal: '≤ 1.0', met: exec <= 1 },
      { part: 'startup', what: 'rxssh --help / bare node (wall)', value: help, goal: '≤ 1.3', met: help <= 1.3 },
      { part: 'startup', what: 'rxssh run to a refused port / (node loading ssh2 + 50 ms) (wall)', value: runVsSsh2, goal: '≤ 1.0', met: runVsSsh2 <= 1 },
      { part: 'startup', what: 'rxssh run to a refused port / (node loading ssh2 and its peer rxjs + 50 ms) (wall)', value: runVsBoth, goal: '≤ 1.0', met: runVsBoth <= 1 },
    ],
  };
}
