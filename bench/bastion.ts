/**
 * `npm run bench -- --only=bastion`: N targets behind a bastion (a second sshd with stock
 * `MaxStartups 10:30:100`), 50 at once, each a whole process on the compiled library, runs
 * alternating: connectAlias with the shared hop pool (one bastion login) and with `hopPool: null`
 * (a new ProxyJump chain per target, as before); pssh through the same ssh_config when Debian's
 * pssh is there. Wall and CPU of the process (GNU time), bastion logins and MaxStartups drops
 * counted in the bastion's log.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { knownHostsName } from '../lib/index.js';
import { hostKeyLine, startSshd } from '../spec/integration/sshd.js';
import { measure, type ClientReport, type Measured } from './fanout.js';
import { buildDist, fmt, log, median, type Ratio, type Row, type SshdInfo } from './lib.js';

const WIDTH = 50;

export async function bastionBench(s: SshdInfo, n: number, reps: number): Promise<{ rows: Row[]; ratios: Ratio[] }> {
  buildDist();
  const bastion = await startSshd({ account: s, extra: ['MaxStartups 10:30:100'] });
  try {
    const kh = join(bastion.info.dir, 'known_hosts');
    writeFileSync(kh, `${knownHostsName('127.0.0.1', s.port)} ${hostKeyLine(s.dir)}\n${knownHostsName('127.0.0.1', bastion.info.port)} ${hostKeyLine(bastion.info.dir)}\n`);
    const conf = join(bastion.info.dir, 'ssh_config');
    const names = Array.from({ length: n }, (_, i) => `t${String(i + 1).padStart(4, '0')}`);
    writeFileSync(
      conf,
      [`Host ${names.join(' ')}`, '  HostName 127.0.0.1', `  Port ${s.port}`, '  ProxyJump bastion', 'Host bastion', '  HostName 127.0.0.1', `  Port ${bastion.info.port}`, 'Host *', `  User ${s.username}`,
        `  IdentityFile ${s.keys['ed25519']}`, `  IdentityFile ${bastion.info.keys['ed25519']}`, '  IdentitiesOnly yes', '  BatchMode yes', '  StrictHostKeyChecking yes', `  UserKnownHostsFile ${kh}`, '  GlobalKnownHostsFile /dev/null', ''].join('\n'),
    );
    const hostsFile = join(bastion.info.dir, 'hosts');
    writeFileSync(hostsFile, `${names.join('\n')}\n`);
    const json = (stdout: string) => JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as ClientReport & { attempts?: number };
    const clients: Array<[string, string[], (o: string) => ClientReport]> = [
      ['rxssh, shared hop', [process.execPath, 'bench/bastion-client.mjs', 'shared', conf, String(WIDTH)], json],
      ['rxssh, chain per target', [process.execPath, 'bench/bastion-client.mjs', 'per-target', conf, String(WIDTH)], json],
    ];
    if (existsSync('/usr/bin/parallel-ssh')) {
      clients.push(['pssh (ssh -J per target)', ['/usr/bin/parallel-ssh', '-h', hostsFile, '-p', String(WIDTH), '-t', '0', '-x', `-q -F ${conf}`, 'true'], (o) => {
        const ok = (o.match(/\[SUCCESS\]/g) ?? []).length;
        return { ok, failed: n - ok };
      }]);
    }
    /** CPU of an sshd and its reaped per-connection processes (utime + stime + cutime + cstime), in ms. */
    const sshdCpu = (pid: number): number => {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      return [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i] ?? 0), 0) * 10; // clock ticks of 10 ms
    };
    const runs: Record<string, Array<Measured & { logins: number; drops: number; targetCpu: number; bastionCpu: number }>> = {};
    for (let r = 0; r < reps; r++) {
      for (const [name, cmd, parse] of [...clients.slice(r % clients.length), ...clients.slice(0, r % clients.length)]) {
        const from = readFileSync(bastion.info.logFile, 'utf8').length;
        const cpu0 = [sshdCpu(s.pid), sshdCpu(bastion.info.pid)];
        const m = await measure(cmd, parse);
        await new Promise((done) => setTimeout(done, 500)); // let the bastion's connections wind down
        const lines = readFileSync(bastion.info.logFile, 'utf8').slice(from).split('\n');
        const logins = lines.filter((l) => l.includes('Accepted publickey for')).length;
        const drops = lines.filter((l) => /drop connection/.test(l)).length;
        (runs[name] ??= []).push({ ...m, logins, drops, targetCpu: sshdCpu(s.pid) - (cpu0[0] ?? 0), bastionCpu: sshdCpu(bastion.info.pid) - (cpu0[1] ?? 0) });
      }
    }
    const rows: Row[] = [];
    const byClient: Record<string, { wall: number; cpu: number; inWall: number | undefined }> = {};
    for (const [name] of clients) {
      const all = runs[name] ?? [];
      const wall = median(all.map((x) => x.wallMs));
      const cpu = median(all.map((x) => x.cpuMs));
      const inWalls = all.map((x) => x.report.wallMs).filter((w): w is number => w !== undefined);
      const inWall = inWalls.length === all.length ? median(inWalls) : undefined;
      byClient[name] = { wall, cpu, inWall };
      const ok = Math.min(...all.map((x) => x.report.ok));
      const attempts = all.map((x) => (x.report as { attempts?: number }).attempts).filter((a) => a !== undefined);
      rows.push({
        part: 'bastion',
        case: `exec true on ${n} targets behind one bastion (MaxStartups 10:30:100), ${WIDTH} at once`,
        client: name,
        median: wall,
        unit: 'ms wall (process)',
        runs: all.map((x) => x.wallMs),
        note: `CPU ${fmt(cpu, 0)} ms (process)${inWall !== undefined ? `, in-process wall ${fmt(inWall, 0)} ms` : ''}; sshd CPU (median): target ${fmt(median(all.map((x) => x.targetCpu)), 0)} ms, bastion ${fmt(median(all.map((x) => x.bastionCpu)), 0)} ms; bastion logins ${all.map((x) => x.logins).join('/')}, MaxStartups drops ${all.map((x) => x.drops).join('/')}; ${ok} of ${n} ok (worst run)${attempts.length ? `; attempts ${attempts.join('/')}` : ''}`,
      });
      log(`bastion ${name}: ${fmt(wall, 0)} ms wall, ${fmt(cpu, 0)} ms CPU, logins ${all.map((x) => x.logins).join('/')}, drops ${all.map((x) => x.drops).join('/')}, ${ok} ok`);
    }
    const ratios: Ratio[] = [];
    const shared = byClient['rxssh, shared hop'];
    const chain = byClient['rxssh, chain per target'];
    if (shared && chain) {
      ratios.push({ part: 'bastion', what: `${n} targets: shared hop / chain per target, wall (whole process)`, value: shared.wall / chain.wall, goal: '≤ 0.50', met: shared.wall / chain.wall <= 0.5 });
      if (shared.inWall !== undefined && chain.inWall !== undefined) {
        ratios.push({ part: 'bastion', what: `${n} targets: shared hop / chain per target, wall (in-process, start-up excluded)`, value: shared.inWall / chain.inWall, goal: '≤ 0.50', met: shared.inWall / chain.inWall <= 0.5 });
      }
      ratios.push({ part: 'bastion', what: `${n} targets: shared hop / chain per target, CPU (whole process)`, value: shared.cpu / chain.cpu, goal: '< 1.00', met: shared.cpu / chain.cpu < 1 });
    }
    return { rows, ratios };
  } finally {
    await bastion.stop();
  }
}
