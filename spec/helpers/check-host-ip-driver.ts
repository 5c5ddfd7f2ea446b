/**
 * Runs inside a mount and network namespace of spec/integration/check-host-ip.spec.ts's own
 * (`unshare -mn`: its loopback also carries ADDRESS, and /etc/hosts is bind-mounted there to
 * name it `web.test`), so that a real sshd is reached at an address that is not loopback, by a
 * name that is not the address: what `CheckHostIP` needs. For each case it writes a fresh
 * known_hosts, runs `rxssh exec` and `ssh` with the same options, and records the exit code,
 * stderr and the known_hosts each left. `node --import tsx spec/helpers/check-host-ip-driver.ts JOB.json`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostKeyLine, startSshd, type TestAccount } from '../integration/sshd.js';
import { keyPair } from './keys.js';

/** One case: what known_hosts holds before ({host} {address} {key} {other} filled in), the options, the host to connect to. */
export interface CheckHostIpCase {
  readonly name: string;
  readonly knownHosts: string;
  readonly options: readonly string[];
  readonly host: string;
}

export interface CheckHostIpJob {
  readonly account: TestAccount;
  readonly address: string;
  readonly cases: readonly CheckHostIpCase[];
  readonly result: string;
}

/** What one client did in one case. */
export interface ClientOutcome {
  readonly status: number | null;
  readonly stderr: string;
  readonly knownHosts: string;
}

export interface CheckHostIpResult {
  readonly port: number;
  /** The server's ed25519 key line (`ssh-ed25519 BASE64`) and the other key the cases plant. */
  readonly key: string;
  readonly other: string;
  readonly outcomes: ReadonlyArray<{ readonly rxssh: ClientOutcome; readonly ssh: ClientOutcome }>;
}

const job = JSON.parse(readFileSync(process.argv[2] as string, 'utf8')) as CheckHostIpJob;
const { info, stop } = await startSshd({ account: job.account, host: job.address });
const work = mkdtempSync(join(info.dir, 'check-host-ip-'));
const key = hostKeyLine(info.dir);
const other = keyPair('ed25519').public.split(' ').slice(0, 2).join(' ');
const fill = (text: string): string => text.replaceAll('{port}', String(info.port)).replaceAll('{address}', job.address).replaceAll('{key}', key).replaceAll('{other}', other);
const outcomes: Array<{ rxssh: ClientOutcome; ssh: ClientOutcome }> = [];
try {
  for (const [n, c] of job.cases.entries()) {
    const run = (client: 'rxssh' | 'ssh'): ClientOutcome => {
      const kh = join(work, `${n}-${client}`);
      writeFileSync(kh, fill(c.knownHosts));
      const options = ['-F', '/dev/null', '-o', `UserKnownHostsFile=${kh}`, '-o', 'GlobalKnownHostsFile=/dev/null', '-o', 'HostKeyAlgorithms=ssh-ed25519', ...c.options.map(fill), '-i', info.keys['ed25519'] ?? '', '-p', String(info.port), '-l', info.username, fill(c.host), 'true'];
      const argv = client === 'rxssh' ? [process.execPath, '--import', 'tsx', 'lib/cli/bin.ts', 'exec', ...options] : ['ssh', '-o', 'BatchMode=yes', ...options];
      const r = spawnSync(argv[0] as string, argv.slice(1), { encoding: 'utf8', env: { ...process.env, SSH_AUTH_SOCK: '' }, timeout: 60_000 });
      return { status: r.status, stderr: r.stderr, knownHosts: readFileSync(kh, 'utf8') };
    };
    outcomes.push({ rxssh: run('rxssh'), ssh: run('ssh') });
  }
} finally {
  await stop();
}
const result: CheckHostIpResult = { port: info.port, key, other, outcomes };
writeFileSync(job.result, JSON.stringify(result));
