/**
 * `npm run bench -- --only=fleetops`: fleet operations beside Ansible (ad-hoc and a playbook)
 * and ClusterShell, on the same 100 hosts (names h001…h100 in one ssh_config, over the bench
 * sshd's loopback addresses), 32 at once everywhere, each a whole process, runs alternating:
 *
 * - fold: the same output from every host, printed once (`rxssh run --fold`, `clush -b`,
 *   `ansible -m command` with `-o`);
 * - become: `id -un` as root with a sudo password (`rxssh run --sudo --become-password-env`,
 *   `ansible -b --become-password-file`; clush has no become);
 * - rollout: waves of 25 % and a failure budget of 10 % (`rxssh run --batch 25% --max-fail 10%`,
 *   a playbook with `serial: 25%` and `max_fail_percentage: 10`).
 *
 * The bench account gets a sudoers rule of its own for the run (removed afterwards).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FANOUT_ADDRESSES, measure, type ClientReport, type Measured } from './fanout.js';
import { buildDist, fmt, log, median, type Ratio, type Row, type SshdInfo } from './lib.js';
import { hostKeyLine } from '../spec/integration/sshd.js';

const N = 100;
const WIDTH = 32;

export async function fleetOpsBench(s: SshdInfo, reps: number): Promise<{ rows: Row[]; ratios: Ratio[] }> {
  buildDist();
  for (const tool of ['/usr/bin/ansible', '/usr/bin/ansible-playbook', '/usr/bin/clush']) {
    if (!existsSync(tool)) throw new Error(`${tool} is missing: apt-get install -y ansible-core clustershell`);
  }
  const dir = s.dir;
  const names = Array.from({ length: N }, (_, i) => `h${String(i + 1).padStart(3, '0')}`);
  const address = (i: number): string => FANOUT_ADDRESSES[i % FANOUT_ADDRESSES.length] ?? '127.0.0.2';
  const kh = join(dir, 'known_hosts.fleetops');
  writeFileSync(kh, FANOUT_ADDRESSES.map((a) => `[${a}]:${s.port} ${hostKeyLine(s.dir)}\n`).join(''));
  const conf = join(dir, 'ssh_config.fleetops');
  writeFileSync(
    conf,
    [
      ...names.flatMap((n, i) => [`Host ${n}`, `  HostName ${address(i)}`]),
      'Host *',
      `  Port ${s.port}`,
      `  User ${s.username}`,
      `  IdentityFile ${s.keys['ed25519']}`,
      '  IdentitiesOnly yes',
      '  BatchMode yes',
      '  StrictHostKeyChecking yes',
      `  UserKnownHostsFile ${kh}`,
      '  GlobalKnownHostsFile /dev/null',
      '',
    ].join('\n'),
  );
  const inventory = join(dir, 'inventory.fleetops');
  writeFileSync(inventory, `[fleet]\n${names.map((n, i) => `${n} ansible_host=${address(i)}`).join('\n')}\n\n[fleet:vars]\nansible_port=${s.port}\nansible_user=${s.username}\nansible_ssh_private_key_file=${s.keys['ed25519']}\nansible_ssh_common_args=-o UserKnownHostsFile=${kh} -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes\nansible_python_interpreter=/usr/bin/python3\n`);
  const passwordFile = join(dir, 'become.fleetops');
  writeFileSync(passwordFile, `${s.password}\n`, { mode: 0o600 });
  // The hosts on 127.0.0.2 (7 of 100, at most 2 in any wave of 25) fail the rollout's command:
  // within both budgets (rxssh's 10 % of the run, Ansible's 10 % of each batch), so both run all.
  const playbook = join(dir, 'rollout.fleetops.yml');
  writeFileSync(playbook, `- hosts: fleet\n  gather_facts: false\n  serial: "25%"\n  max_fail_percentage: 10\n  tasks:\n    - command: sh -c 'case {{ ansible_host }} in 127.0.0.2) exit 1;; esac; echo rolled'\n`);
  const sudoers = `/etc/sudoers.d/${s.username}`;
  writeFileSync(sudoers, `${s.username} ALL=(ALL:ALL) ALL\n`, { mode: 0o440 });
  const env = { ...process.env, ANSIBLE_FORKS: String(WIDTH), ANSIBLE_HOST_KEY_CHECKING: 'True', ANSIBLE_NOCOLOR: '1', ANSIBLE_STDOUT_CALLBACK: 'default', PW: s.password, SSH_AUTH_SOCK: '' };
  const rx = (args: string[]): string[] => [process.execPath, 'dist/cli/bin.js', 'run', '-F', conf, '-H', `h[001-${N}]`, '-p', String(WIDTH), ...args];
  const count = (re: RegExp) => (o: string): ClientReport => {
    const ok = (o.match(re) ?? []).length;
    return { ok, failed: N - ok };
  };
  const jsonOk = (o: string): ClientReport => {
    const summary = JSON.parse(o.trim().split('\n').at(-1) ?? '{}') as { ok?: number };
    return { ok: summary.ok ?? 0, failed: N - (summary.ok ?? 0) };
  };
  const folded = (o: string): ClientReport => ({ ok: /\((\d+)\)/.exec(o)?.[1] === String(N) ? N : 0, failed: 0 });
  type Client = [string, string[], (o: string) => ClientReport];
  const cases: Array<{ name: string; clients: Client[] }> = [
    {
      name: `echo on ${N} hosts, identical outputs folded`,
      clients: [
        ['rxssh run --fold', rx(['--fold', '--', 'echo same']), folded],
        ['clush -b', ['/usr/bin/clush', '-f', String(WIDTH), '-o', `-F ${conf}`, '-w', `h[001-${N}]`, '-b', 'echo same'], folded],
        ['ansible -m command -o', ['/usr/bin/ansible', 'fleet', '-i', inventory, '-m', 'command', '-a', 'echo same', '-o'], count(/\| CHANGED \|/g)],
      ],
    },
    {
      name: `id -un as root (sudo with a password) on ${N} hosts`,
      clients: [
        ['rxssh run --sudo', rx(['--json', '--sudo', '--become-password-env', 'PW', '--', 'id -un']), jsonOk],
        ['ansible -b', ['/usr/bin/ansible', 'fleet', '-i', inventory, '-m', 'command', '-a', 'id -un', '-o', '-b', '--become-password-file', passwordFile], count(/\| CHANGED \| rc=0 \| \(stdout\) root/g)],
      ],
    },
    {
      name: `rollout on ${N} hosts: waves of 25 %, at most 10 % failing (7 fail)`,
      clients: [
        ['rxssh run --batch 25% --max-fail 10%', rx(['--json', '--batch', '25%', '--max-fail', '10%', '--', 'case $(echo $SSH_CONNECTION | cut -d" " -f3) in 127.0.0.2) exit 1;; esac; echo rolled']), jsonOk],
        ['ansible-playbook serial 25% max_fail_percentage 10', ['/usr/bin/ansible-playbook', '-i', inventory, playbook], count(/: ok=1 /g)],
      ],
    },
  ];
  const rows: Row[] = [];
  const ratios: Ratio[] = [];
  try {
    for (const c of cases) {
      const runs: Record<string, Measured[]> = {};
      for (let r = 0; r < reps; r++) {
        for (const [name, cmd, parse] of [...c.clients.slice(r % c.clients.length), ...c.clients.slice(0, r % c.clients.length)]) {
          (runs[name] ??= []).push(await measure(cmd, parse, env));
        }
      }
      const wall: Record<string, number> = {};
      for (const [name] of c.clients) {
        const all = runs[name] ?? [];
        wall[name] = median(all.map((x) => x.wallMs));
        const cpu = median(all.map((x) => x.cpuMs));
        rows.push({
          part: 'fleetops',
          case: c.name,
          client: name,
          median: wall[name],
          unit: 'ms wall (process)',
          runs: all.map((x) => x.wallMs),
          note: `CPU ${fmt(cpu, 0)} ms (process and children), peak tree RSS ${fmt(Math.max(...all.map((x) => x.peakRssMiB)), 0)} MiB; ${Math.min(...all.map((x) => x.report.ok))} ok (worst run)`,
        });
        log(`fleetops ${c.name} ${name}: ${fmt(wall[name], 0)} ms wall, ${fmt(cpu, 0)} ms CPU`);
      }
      const [first, ...others] = c.clients.map(([n]) => n);
      for (const other of others) {
        const value = (wall[first as string] ?? NaN) / (wall[other] ?? NaN);
        ratios.push({ part: 'fleetops', what: `${c.name}: ${first} / ${other}, wall (whole process)`, value, goal: '< 1.00', met: value < 1 });
      }
    }
  } finally {
    rmSync(sudoers, { force: true });
    rmSync(passwordFile, { force: true });
    // Ansible's ControlPersist masters keep sessions of the bench account open for a minute:
    // end them, so that the account can be removed.
    spawnSync('pkill', ['-f', '[.]ansible/cp/']);
    await new Promise((done) => setTimeout(done, 1000));
  }
  return { rows, ratios };
}
