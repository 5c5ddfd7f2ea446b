/**
 * Encrypted keys and skipped credentials as ssh reports them (issue 22 #4): a wrong passphrase
 * is asked again up to three times on a terminal ("Bad passphrase, try again for …"), and a
 * failure names what was skipped — a key whose passphrase stayed wrong, an expired certificate
 * — instead of "no identity files".
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastValueFrom } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthenticationError, authenticate, connect, knownHostsName, pinned, privateKey, run, verifyHostKey } from '../../lib/index.js';
import { errorOf, sshd } from '../helpers/index.js';
import { onTerminal } from '../helpers/pty.js';
import { hostKeyLine, type SshdInfo } from './sshd.js';

let s: SshdInfo;
let dir: string;
let kh: string;
beforeAll(() => {
  s = sshd();
  dir = mkdtempSync(join(tmpdir(), 'rxssh-pass-'));
  kh = join(dir, 'known_hosts');
  writeFileSync(kh, `${knownHostsName('127.0.0.1', s.port)} ${hostKeyLine(s.dir)}\n`);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CLI = `${process.execPath} --import tsx lib/cli/bin.ts`;
const shownFor = (command: string, input: string): string => onTerminal(command, input, { SSH_AUTH_SOCK: '', SSH_ASKPASS: '' }).raw.replace(/\r/g, '');
const login = (...providers: Parameters<typeof authenticate>) =>
  connect({ host: '127.0.0.1', port: s.port, username: s.username }).pipe(verifyHostKey(pinned(s.hostFingerprints['ed25519'] ?? '')), authenticate(...providers));

describe('wrong passphrases', () => {
  it('on a terminal: asked again twice like ssh; the third answer right logs in', () => {
    const key = s.keys['encrypted'] ?? '';
    const shown = shownFor(`${CLI} exec -p ${s.port} -i ${key} -o IdentitiesOnly=yes --known-hosts ${kh} ${s.username}@127.0.0.1 'echo unlocked'`, `wrong\nwrong again\n${s.passphrase}\n`);
    expect(shown).toContain(`Enter passphrase for key '${key}':`);
    expect(shown.match(new RegExp(`Bad passphrase, try again for ${key.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:`, 'g'))).toHaveLength(2);
    expect(shown).toContain('unlocked');
  });

  it('NumberOfPasswordPrompts bounds the passphrase prompts too, as ssh: 1 asks once, 0 never — then the password, as often', () => {
    const key = s.keys['encrypted'] ?? '';
    const enter = `Enter passphrase for key '${key}': `;
    const password = `${s.username}@127.0.0.1's password: `;
    const seen = (client: 'rxssh' | 'ssh', prompts: string): { passphrase: number; password: number; code: number; timedOut: boolean } => {
      const command = client === 'rxssh' ? [process.execPath, '--import', 'tsx', 'lib/cli/bin.ts', 'exec'] : ['ssh', '-F', '/dev/null'];
      const steps = [[enter, 'wrong\n'], [password, 'wrong\n']];
      const args = ['-p', String(s.port), '-o', `UserKnownHostsFile=${kh}`, '-o', 'GlobalKnownHostsFile=/dev/null', '-o', 'IdentitiesOnly=yes', '-i', key, '-o', `NumberOfPasswordPrompts=${prompts}`, `${s.username}@127.0.0.1`, 'true'];
      const r = spawnSync('python3', ['spec/helpers/pty-dialog.py', JSON.stringify(prompts === '0' ? [] : steps), '30', '--', ...command, ...args], { encoding: 'utf8', env: { ...process.env, SSH_AUTH_SOCK: '', SSH_ASKPASS: '' }, timeout: 60_000 });
      const { raw, code, timedOut } = JSON.parse(r.stdout || '{}') as { raw: string; code: number; timedOut: boolean };
      return { passphrase: raw.split(enter).length - 1, password: raw.split(password).length - 1, code, timedOut };
    };
    expect(seen('rxssh', '1')).toEqual({ passphrase: 1, password: 1, code: 255, timedOut: false });
    expect(seen('ssh', '1')).toEqual(seen('rxssh', '1'));
    expect(seen('rxssh', '0')).toEqual({ passphrase: 0, password: 0, code: 255, timedOut: false });
    expect(seen('ssh', '0')).toEqual(seen('rxssh', '0'));
  });

  it('three wrong answers: the key is skipped, a password is asked next (as ssh), and the failure says "bad passphrase for KEY", not "no identity files"', () => {
    const key = s.keys['encrypted'] ?? '';
    const shown = shownFor(`${CLI} exec -p ${s.port} -i ${key} -o IdentitiesOnly=yes --known-hosts ${kh} ${s.username}@127.0.0.1 'echo never'`, 'a\nb\nc\nx\ny\nz\n');
    expect(shown.split(`${s.username}@127.0.0.1's password: `)).toHaveLength(4);
    expect(shown).toContain(`bad passphrase for ${key}`);
    expect(shown).not.toMatch(/no identity files/i);
    expect(shown).not.toContain('never\n');
  });

  it('library: passphraseAttempts asks the function again with the attempt number; a skipped key is named in AuthenticationError', async () => {
    const pem = readFileSync(s.keys['encrypted'] ?? '');
    const asked: number[] = [];
    const r = await lastValueFrom(
      login(privateKey(pem, { name: 'deploy key', passphraseAttempts: 3, passphrase: (n) => (asked.push(n), n < 3 ? 'wrong' : s.passphrase) })).pipe(run('echo ok')),
    );
    expect(r.stdout).toBe('ok\n');
    expect(asked).toEqual([1, 2, 3]);
    const err = await errorOf(login(privateKey(pem, { name: 'deploy key', passphrase: () => 'wrong' })).pipe(run('true')));
    expect(err).toBeInstanceOf(AuthenticationError);
    expect((err as Error).message).toMatch(/skipped: bad passphrase for deploy key/);
  });

  it('an expired user certificate that was skipped is named in the failure', async () => {
    const ca = join(dir, 'user_ca');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', ca]);
    const key = join(dir, 'certified');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
    execFileSync('ssh-keygen', ['-q', '-s', ca, '-I', 'expired-id', '-n', s.username, '-V', '-2d:-1d', `${key}.pub`]);
    const err = await errorOf(login(privateKey(readFileSync(key), { certificate: readFileSync(`${key}-cert.pub`, 'utf8') })).pipe(run('true')));
    expect(err).toBeInstanceOf(AuthenticationError);
    expect((err as Error).message).toMatch(/skipped: privateKey: certificate expired \(key ID "expired-id"\)/);
  });
});
