/**
 * `npm run bench:bulkcpu`: bulk exec as whole processes — 256 MiB through `cat` (round trip),
 * upload only and download only, aes128-gcm pinned — rxssh (the compiled library) beside raw
 * ssh2 and OpenSSH's `ssh`, each client its own process, the runs alternating. Wall time around
 * the process, CPU (user + sys) from GNU time. Every client does the same work: the Node clients
 * send one 256 KiB block 1,024 times and count what comes back; `ssh` reads a page-cached file
 * on stdin and writes to /dev/null (no pipe on either side). Both Node clients also run under
 * HEAP_FLAG, and in a program with 8 MB of state of its own (APP_MB).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { measure, type ClientReport, type Measured } from './fanout.js';
import { buildDist, fmt, log, median, type Ratio, type Row, type SshdInfo } from './lib.js';
import { hostKeyLine } from '../spec/integration/sshd.js';

const SIZE = 256 * 1024 * 1024;
const GCM = 'aes128-gcm@openssh.com';
/** A V8 flag that fixes the first old-generation limit (a program's own choice: the guide names it). */
const HEAP_FLAG = '--initial-old-space-size=64';
/** The state a program holds besides the client (MB of its own objects, BULK_APP_MB in bulk-common.mjs). */
const APP_MB = 8;
const IN_APP = `in a program holding ${APP_MB} MB`;
type Mode = 'roundtrip' | 'upload' | 'download';
const COMMAND: Record<Mode, string> = { roundtrip: 'cat', upload: 'cat > /dev/null', download: `head -c ${SIZE} /dev/zero` };

export async function bulkProcessBench(s: SshdInfo, reps: number): Promise<{ rows: Row[]; ratios: Ratio[] }> {
  buildDist();
  const rows: Row[] = [];
  const ratios: Ratio[] = [];
  const key = s.keys['ed25519'] ?? '';
  const fingerprint = s.hostFingerprints['ed25519'] ?? Object.values(s.hostFingerprints)[0] ?? '';
  const data = join(s.dir, 'bulk-256MiB');
  writeFileSync(data, Buffer.alloc(SIZE, 0x61));
  const hostKey = hostKeyLine(s.dir);
  const knownHosts = join(s.dir, 'known_hosts.bulk');
  writeFileSync(knownHosts, `[${s.host}]:${s.port} ${hostKey}\n`);
  const ok = () => ({ ok: 1, failed: 0 });
  const report = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as ClientReport;
  for (const mode of ['roundtrip', 'upload', 'download'] as const) {
    const node = (kind: string, ...flags: string[]): string[] => [process.execPath, ...flags, `bench/bulk-${kind}.mjs`, mode, s.host, String(s.port), s.username, key, fingerprint, GCM];
    // The rxssh CLI as users run it (its bin's own node flags), stdin and stdout as for `ssh`.
    const cli = [
      '/bin/sh', '-c',
      `exec dist/cli/bin.js exec -F /dev/null -o UserKnownHostsFile=${knownHosts} -o Ciphers=${GCM} -i ${key} -p ${s.port} -l ${s.username} ${s.host} '${COMMAND[mode]}' < ${mode === 'download' ? '/dev/null' : data} > /dev/null`,
    ];
    const ssh = [
      '/bin/sh', '-c',
      // stdin from the file (or nothing), stdout to /dev/null: no pipe.
      `exec ssh -T -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=${knownHosts} -o HostKeyAlgorithms=ssh-ed25519 -c ${GCM} -i ${key} -p ${s.port} ${s.username}@${s.host} '${COMMAND[mode]}' < ${mode === 'download' ? '/dev/null' : data} > /dev/null`,
    ];
    // Raw ssh2 runs twice per round, under two names: how far apart two runs of the same client
    // come out (the noise floor) is printed beside every ratio.
    // Both Node clients run once more with a V8 flag that leaves the first old-generation limit
    // where it starts (HEAP_FLAG), and once more in a program that holds state of its own
    // (APP_MB): a heap that small only a bare benchmark process has.
    const clients: Array<[string, string[]]> = [
      ['rxssh', node('rxssh')], ['ssh2', node('ssh2')], ['ssh', ssh], ['ssh2 (again)', node('ssh2')],
      [`rxssh ${HEAP_FLAG}`, node('rxssh', HEAP_FLAG)], [`ssh2 ${HEAP_FLAG}`, node('ssh2', HEAP_FLAG)], ['rxssh CLI', cli],
      [`rxssh ${IN_APP}`, ['/usr/bin/env', `BULK_APP_MB=${APP_MB}`, ...node('rxssh')]], [`ssh2 ${IN_APP}`, ['/usr/bin/env', `BULK_APP_MB=${APP_MB}`, ...node('ssh2')]],
    ];
    const runs: Record<string, Measured[]> = {};
    for (let r = 0; r < reps; r++) {
      for (const [name, cmd] of [...clients.slice(r % clients.length), ...clients.slice(0, r % clients.length)]) {
        (runs[name] ??= []).push(await measure(cmd, name === 'ssh' || name === 'rxssh CLI' ? ok : report));
      }
    }
    const cpu: Record<string, number> = {};
    const wall: Record<string, number> = {};
    const inCpu: Record<string, number> = {};
    for (const [name] of clients) {
      const all = runs[name] ?? [];
      wall[name] = median(all.map((x) => x.wallMs));
      cpu[name] = median(all.map((x) => x.cpuMs));
      const inProcess = all.every((x) => x.report.cpuMs !== undefined) ? median(all.map((x) => x.report.cpuMs ?? 0)) : undefined;
      if (inProcess !== undefined) inCpu[name] = inProcess;
      rows.push({
        part: 'bulkcpu',
        case: `${mode}, 256 MiB, aes128-gcm, whole process`,
        client: name,
        median: wall[name] ?? NaN,
        unit: 'ms wall',
        runs: all.map((x) => x.wallMs),
        note: `CPU ${fmt(cpu[name] ?? NaN, 0)} ms (runs ${all.map((x) => fmt(x.cpuMs, 0)).join(', ')})${inProcess !== undefined ? `; in-process (start-up excluded) ${fmt(median(all.map((x) => x.report.wallMs ?? 0)), 0)} ms wall, ${fmt(inProcess, 0)} ms CPU` : ''}; peak RSS ${fmt(Math.max(...all.map((x) => x.peakRssMiB)), 0)} MiB`,
      });
      log(`bulkcpu ${mode} ${name}: ${fmt(wall[name] ?? NaN, 0)} ms wall, ${fmt(cpu[name] ?? NaN, 0)} ms CPU${inProcess !== undefined ? `, in-process ${fmt(inProcess, 0)} ms CPU` : ''}`);
    }
    const rx = (m: Record<string, number>, other: string): number => (m['rxssh'] ?? NaN) / (m[other] ?? NaN);
    const floor = (m: Record<string, number>): string => fmt((m['ssh2 (again)'] ?? NaN) / (m['ssh2'] ?? NaN), 2);
    ratios.push({ part: 'bulkcpu', what: `${mode}: noise floor, raw ssh2 (again) / raw ssh2: CPU in-process ${floor(inCpu)}, CPU ${floor(cpu)}, wall ${floor(wall)}`, value: (inCpu['ssh2 (again)'] ?? NaN) / (inCpu['ssh2'] ?? NaN), goal: '(for orientation)', met: true });
    ratios.push({ part: 'bulkcpu', what: `${mode}: rxssh / raw ssh2 CPU (in-process, start-up excluded)`, value: rx(inCpu, 'ssh2'), goal: '≤ 1.15', met: rx(inCpu, 'ssh2') <= 1.15 });
    ratios.push({ part: 'bulkcpu', what: `${mode}: rxssh / raw ssh2 CPU (whole process)`, value: rx(cpu, 'ssh2'), goal: '≤ 1.15', met: rx(cpu, 'ssh2') <= 1.15 });
    ratios.push({ part: 'bulkcpu', what: `${mode}: rxssh / raw ssh2 wall (whole process)`, value: rx(wall, 'ssh2'), goal: '≤ 1.05', met: rx(wall, 'ssh2') <= 1.05 });
    const flagged = (m: Record<string, number>): number => (m[`rxssh ${HEAP_FLAG}`] ?? NaN) / (m[`ssh2 ${HEAP_FLAG}`] ?? NaN);
    ratios.push({ part: 'bulkcpu', what: `${mode}: rxssh / raw ssh2 CPU (whole process), both run with ${HEAP_FLAG}`, value: flagged(cpu), goal: '≤ 1.15', met: flagged(cpu) <= 1.15 });
    ratios.push({ part: 'bulkcpu', what: `${mode}: rxssh / raw ssh2 wall (whole process), both run with ${HEAP_FLAG}`, value: flagged(wall), goal: '≤ 1.05', met: flagged(wall) <= 1.05 });
    const inApp = (m: Record<string, number>): number => (m[`rxssh ${IN_APP}`] ?? NaN) / (m[`ssh2 ${IN_APP}`] ?? NaN);
    ratios.push({ part: 'bulkcpu', what: `${mode}: rxssh / raw ssh2 CPU (whole process), both ${IN_APP} of its own`, value: inApp(cpu), goal: '≤ 1.15', met: inApp(cpu) <= 1.15 });
    ratios.push({ part: 'bulkcpu', what: `${mode}: rxssh / raw ssh2 wall (whole process), both ${IN_APP} of its own`, value: inApp(wall), goal: '≤ 1.05', met: inApp(wall) <= 1.05 });
    ratios.push({ part: 'bulkcpu', what: `${mode}: rxssh CLI (rxssh exec) / ssh CPU (whole process)`, value: (cpu['rxssh CLI'] ?? NaN) / (cpu['ssh'] ?? NaN), goal: '(for orientation)', met: true });
    ratios.push({ part: 'bulkcpu', what: `${mode}: rxssh CLI (rxssh exec) / ssh wall (whole process)`, value: (wall['rxssh CLI'] ?? NaN) / (wall['ssh'] ?? NaN), goal: '(for orientation)', met: true });
    ratios.push({ part: 'bulkcpu', what: `${mode}: rxssh / ssh CPU (whole process)`, value: rx(cpu, 'ssh'), goal: '(for orientation)', met: true });
    ratios.push({ part: 'bulkcpu', what: `${mode}: rxssh / ssh wall (whole process)`, value: rx(wall, 'ssh'), goal: '(for orientation)', met: true });
  }
  return { rows, ratios };
}
