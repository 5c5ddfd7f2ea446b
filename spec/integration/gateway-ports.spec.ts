/**
 * Where `rxssh exec -L` and `-D` listen, as ssh decides it: on 127.0.0.1 when no address is
 * given, on every interface with `GatewayPorts yes`, with an empty address or with `*`. Listening
 * on every interface is only tried in a network namespace of the spec's own (`unshare -n`, whose
 * loopback also carries OTHER), with a real sshd started there; OpenSSH's `ssh -N -L` is asked
 * the same and must agree.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sshd } from '../helpers/index.js';
import type { ForwardJob, ForwardResult } from '../helpers/forward-driver.js';
import { resolverNamespaceUnavailable } from '../helpers/resolver-ns.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const OTHER = '10.211.0.1'; // inside the namespace only
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rxssh-gateway-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('GatewayPorts and the bind address of local forwards', () => {
  it('no address: loopback only; GatewayPorts yes, an empty address or *: every interface (-L and -D), as ssh', () => {
    const why = resolverNamespaceUnavailable(); // the same tools: root, unshare, ip
    if (why) throw new Error(why);
    const server = sshd();
    const rxssh = (port: number, ...forward: string[]): ForwardJob['forwarders'][number] => ({
      argv: [process.execPath, '--import', 'tsx', 'lib/cli/bin.ts', 'exec', '-F', '/dev/null', '-N', '-o', 'UserKnownHostsFile={known}', '-i', '{key}', '-p', '{port}', '-l', server.username, ...forward, '127.0.0.1'],
      localPort: port,
    });
    const ssh = (port: number, ...forward: string[]): ForwardJob['forwarders'][number] => ({
      argv: ['ssh', '-F', '/dev/null', '-N', '-o', 'BatchMode=yes', '-o', 'UserKnownHostsFile={known}', '-i', '{key}', '-p', '{port}', '-l', server.username, ...forward, '127.0.0.1'],
      localPort: port,
    });
    const to = (port: number): string => `${port}:127.0.0.1:{port}`;
    const cases: Array<[string, ForwardJob['forwarders'][number], boolean]> = [
      ['rxssh -L PORT:…', rxssh(20001, '-L', to(20001)), false],
      ['ssh -L PORT:…', ssh(20002, '-L', to(20002)), false],
      ['rxssh -o GatewayPorts=yes -L PORT:…', rxssh(20003, '-o', 'GatewayPorts=yes', '-L', to(20003)), true],
      ['ssh -o GatewayPorts=yes -L PORT:…', ssh(20004, '-o', 'GatewayPorts=yes', '-L', to(20004)), true],
      ['rxssh -L *:PORT:…', rxssh(20005, '-L', `*:${to(20005)}`), true],
      ['rxssh -L :PORT:…', rxssh(20006, '-L', `:${to(20006)}`), true],
      ['ssh -L :PORT:…', ssh(20007, '-L', `:${to(20007)}`), true],
      ['rxssh -L localhost:PORT:… with GatewayPorts=yes', rxssh(20008, '-o', 'GatewayPorts=yes', '-L', `127.0.0.1:${to(20008)}`), false],
      ['rxssh -D PORT', rxssh(20009, '-D', '20009'), false],
      ['rxssh -o GatewayPorts=yes -D PORT', rxssh(20010, '-o', 'GatewayPorts=yes', '-D', '20010'), true],
      ['ssh -o GatewayPorts=yes -D PORT', ssh(20011, '-o', 'GatewayPorts=yes', '-D', '20011'), true],
    ];
    const job: ForwardJob = { account: { username: server.username, password: server.password, home: server.home }, other: OTHER, forwarders: cases.map(([, f]) => f), result: join(dir, 'result.json') };
    writeFileSync(join(dir, 'job.json'), JSON.stringify(job));
    const script = `ip link set lo up && ip addr add ${OTHER}/32 dev lo || exit 90\nexec "$@"`;
    const run = spawnSync('unshare', ['-n', 'sh', '-c', script, 'sh', process.execPath, '--import', 'tsx', 'spec/helpers/forward-driver.ts', join(dir, 'job.json')], { cwd: ROOT, encoding: 'utf8', timeout: 240_000 });
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
    const results = JSON.parse(readFileSync(job.result, 'utf8')) as ForwardResult[];
    const seen = cases.map(([name], i) => ({ name, loopback: results[i]?.loopback, everywhere: results[i]?.other, stderr: results[i]?.stderr.trim() ?? '' }));
    const expected = cases.map(([name, , everywhere], i) => ({ name, loopback: true, everywhere, stderr: seen[i]?.stderr ?? '' }));
    expect(seen).toEqual(expected);
  });
});
