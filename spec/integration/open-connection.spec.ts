/**
 * The library's front door against sshd (issue 22 #9): `openConnection` takes `user@host:port`,
 * `ssh://user@host:port` and a plain object as node-ssh users write it, the host key still
 * checked; `handle.run` takes a timeout and an AbortSignal, and both stop the remote command.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostKeyUnknownError, TimeoutError, knownHostsName, openConnection } from '../../lib/index.js';
import { eventually, sshd } from '../helpers/index.js';
import { hostKeyLine, type SshdInfo } from './sshd.js';

let s: SshdInfo;
let dir: string;
let kh: string;
let config: string;
beforeAll(() => {
  s = sshd();
  dir = mkdtempSync(join(tmpdir(), 'rxssh-open-'));
  kh = join(dir, 'known_hosts');
  writeFileSync(kh, `${knownHostsName('127.0.0.1', s.port)} ${hostKeyLine(s.dir)}\n`);
  config = join(dir, 'config');
  writeFileSync(config, ['Host 127.0.0.1', `  IdentityFile ${s.keys['ed25519']}`, '  IdentitiesOnly yes', '  IdentityAgent none', `  UserKnownHostsFile ${kh}`, '  GlobalKnownHostsFile /dev/null', ''].join('\n'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const running = (pattern: string): boolean => execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' }).split('\n').some((l) => l.trim() === pattern);

describe('openConnection forms', () => {
  it('user@host:port and ssh://user@host:port go through ssh_config like ssh', async () => {
    for (const spec of [`${s.username}@127.0.0.1:${s.port}`, `ssh://${s.username}@127.0.0.1:${s.port}`]) {
      await using ssh = await openConnection(spec, { file: config, home: dir });
      expect((await ssh.run('echo $USER')).stdout, spec).toBe(`${s.username}\n`);
    }
  });

  it('a plain object with a key (node-ssh shape), the host key checked against known_hosts', async () => {
    await using ssh = await openConnection({ host: '127.0.0.1', port: s.port, username: s.username, privateKey: readFileSync(s.keys['ed25519'] ?? ''), knownHosts: [kh] });
    expect((await ssh.run('echo object')).stdout).toBe('object\n');
    await using pw = await openConnection({ host: '127.0.0.1', port: s.port, username: s.username, password: s.password, knownHosts: [kh] });
    expect((await pw.run('echo password')).exitCode).toBe(0);
    await expect(openConnection({ host: '127.0.0.1', port: s.port, username: s.username, password: s.password, knownHosts: ['/dev/null'] })).rejects.toBeInstanceOf(HostKeyUnknownError);
  });
});

describe('handle.run timeout and signal stop the remote command', () => {
  it('timeout: TimeoutError, the command is gone; signal: rejects with its reason, the command is gone', async () => {
    await using ssh = await openConnection({ host: '127.0.0.1', port: s.port, username: s.username, privateKey: readFileSync(s.keys['ed25519'] ?? ''), knownHosts: [kh] });
    await expect(ssh.run('sleep 611', { timeout: 300 })).rejects.toBeInstanceOf(TimeoutError);
    expect(await eventually(() => !running('sleep 611'), 10_000)).toBe(true);
    const abort = new AbortController();
    const pending = ssh.run('sleep 612', { signal: abort.signal });
    expect(await eventually(() => running('sleep 612'), 10_000)).toBe(true);
    abort.abort(new Error('no longer needed'));
    await expect(pending).rejects.toThrow('no longer needed');
    expect(await eventually(() => !running('sleep 612'), 10_000)).toBe(true);
    expect((await ssh.run('echo still usable')).stdout).toBe('still usable\n');
  });
});
