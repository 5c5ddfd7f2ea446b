/**
 * `CheckHostIP yes` against a real sshd, beside `ssh` with the same options. ssh checks the
 * address only when it is not loopback and not the name given, so the sshd runs in a mount and
 * network namespace of the spec's own (`unshare -mn`): its loopback also carries ADDRESS, and
 * /etc/hosts is bind-mounted there (only there) to call it `web.test`.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostMatches } from '../../lib/index.js';
import { sshd } from '../helpers/index.js';
import type { CheckHostIpCase, CheckHostIpJob, CheckHostIpResult } from '../helpers/check-host-ip-driver.js';
import { resolverNamespaceUnavailable } from '../helpers/resolver-ns.js';

const ROOT = new URL('../../', import.meta.url).pathname;
const ADDRESS = '10.211.0.2'; // inside the namespace only
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'rxssh-checkhostip-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const check = ['-o', 'CheckHostIP=yes', '-o', 'HashKnownHosts=no'];
const CASES: Array<CheckHostIpCase & { status: number; after: string | 'hashed' }> = [
  { name: 'known host, address not recorded (yes): the address is added', knownHosts: '[web.test]:{port} {key}\n', options: [...check, '-o', 'StrictHostKeyChecking=yes'], host: 'web.test', status: 0, after: '[web.test]:{port} {key}\n[{address}]:{port} {key}\n' },
  { name: 'another key recorded for the address (yes): refused', knownHosts: '[web.test]:{port} {key}\n[{address}]:{port} {other}\n', options: [...check, '-o', 'StrictHostKeyChecking=yes'], host: 'web.test', status: 255, after: '[web.test]:{port} {key}\n[{address}]:{port} {other}\n' },
  { name: 'another key recorded for the address (accept-new): refused', knownHosts: '[web.test]:{port} {key}\n[{address}]:{port} {other}\n', options: [...check, '-o', 'StrictHostKeyChecking=accept-new'], host: 'web.test', status: 255, after: '[web.test]:{port} {key}\n[{address}]:{port} {other}\n' },
  { name: 'a new host (accept-new): learned with its address on one line', knownHosts: '', options: [...check, '-o', 'StrictHostKeyChecking=accept-new'], host: 'web.test', status: 0, after: '[web.test]:{port},[{address}]:{port} {key}\n' },
  { name: 'a new host (accept-new, HashKnownHosts yes): one hashed line each', knownHosts: '', options: ['-o', 'CheckHostIP=yes', '-o', 'HashKnownHosts=yes', '-o', 'StrictHostKeyChecking=accept-new'], host: 'web.test', status: 0, after: 'hashed' },
  { name: 'CheckHostIP no: the address is neither checked nor added', knownHosts: '[web.test]:{port} {key}\n[{address}]:{port} {other}\n', options: ['-o', 'CheckHostIP=no', '-o', 'StrictHostKeyChecking=yes'], host: 'web.test', status: 0, after: '[web.test]:{port} {key}\n[{address}]:{port} {other}\n' },
  { name: 'connected to by its address: nothing more to check', knownHosts: '[{address}]:{port} {key}\n', options: [...check, '-o', 'StrictHostKeyChecking=yes'], host: '{address}', status: 0, after: '[{address}]:{port} {key}\n' },
];

describe('CheckHostIP against a real sshd at an address that is not loopback', () => {
  it('every case ends as it ends with ssh: the same exit code and the same known_hosts', () => {
    const why = resolverNamespaceUnavailable(); // the same tools: root, unshare, mount, ip
    if (why) throw new Error(why);
    const server = sshd();
    writeFileSync(join(dir, 'hosts'), `127.0.0.1 localhost\n::1 localhost\n${ADDRESS} web.test\n`);
    const job: CheckHostIpJob = { account: { username: server.username, password: server.password, home: server.home }, address: ADDRESS, cases: CASES, result: join(dir, 'result.json') };
    writeFileSync(join(dir, 'job.json'), JSON.stringify(job));
    const script = `ip link set lo up && ip addr add ${ADDRESS}/32 dev lo || exit 90\nmount --bind "${join(dir, 'hosts')}" /etc/hosts || exit 91\nexec "$@"`;
    const run = spawnSync('unshare', ['-mn', 'sh', '-c', script, 'sh', process.execPath, '--import', 'tsx', 'spec/helpers/check-host-ip-driver.ts', join(dir, 'job.json')], { cwd: ROOT, encoding: 'utf8', timeout: 240_000 });
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
    const result = JSON.parse(readFileSync(job.result, 'utf8')) as CheckHostIpResult;
    const fill = (text: string): string => text.replaceAll('{port}', String(result.port)).replaceAll('{address}', ADDRESS).replaceAll('{key}', result.key).replaceAll('{other}', result.other);
    /** A hashed file as the names its lines match (salts differ from run to run). */
    const matched = (text: string): string[][] =>
      text.trim().split('\n').map((l) => [l.startsWith('|1|') ? 'hashed' : 'plain', ...[`[web.test]:${result.port}`, `[${ADDRESS}]:${result.port}`].filter((n) => hostMatches(l.split(' ')[0] ?? '', n)), l.split(' ').slice(1).join(' ')]);
    const seen = CASES.map((c, i) => {
      const o = result.outcomes[i];
      const file = (text: string | undefined): unknown => (c.after === 'hashed' ? matched(text ?? '') : text);
      return { case: c.name, rxssh: { status: o?.rxssh.status, knownHosts: file(o?.rxssh.knownHosts) }, ssh: { status: o?.ssh.status, knownHosts: file(o?.ssh.knownHosts) } };
    });
    const expected = CASES.map((c) => {
      const after = c.after === 'hashed' ? [['hashed', `[web.test]:${result.port}`, result.key], ['hashed', `[${ADDRESS}]:${result.port}`, result.key]] : fill(c.after);
      return { case: c.name, rxssh: { status: c.status, knownHosts: after }, ssh: { status: c.status, knownHosts: after } };
    });
    expect(seen, JSON.stringify(result.outcomes.map((o) => [o.rxssh.stderr, o.ssh.stderr]), null, 1)).toEqual(expected);
    // A refusal says why, in both.
    for (const i of [1, 2]) {
      expect(result.outcomes[i]?.rxssh.stderr).toContain(`differs from the key for its IP address [${ADDRESS}]:${result.port}`);
      expect(result.outcomes[i]?.ssh.stderr).toContain(`differs from the key for the IP address '[${ADDRESS}]:${result.port}'`);
    }
  });
});
