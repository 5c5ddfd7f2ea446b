/**
 * `rxssh exec` on a terminal as `ssh` on one, both driven on a pseudo-terminal against the
 * suite's real sshd, keys typed as each prompt appears: raw mode for every session with a
 * pseudo-terminal (a command's too, stdout redirected or not: no local echo, Ctrl-C to the
 * remote side, output bytes as sent), and ssh's escapes (`~.`, `~^Z`, `~?`, `~~`, `-e`,
 * `EscapeChar`), then the "Connection to HOST closed." line and what quiets it (`-q`, `LogLevel`).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { knownHostsName } from '../../lib/index.js';
import { sshd } from '../helpers/index.js';
import { hostKeyLine, type SshdInfo } from './sshd.js';

let s: SshdInfo;
let work: string;
let kh: string;
beforeAll(() => {
  s = sshd();
  work = mkdtempSync(join(tmpdir(), 'rxssh-terminal-'));
  chmodSync(work, 0o755);
  kh = join(work, 'known_hosts');
  writeFileSync(kh, `${knownHostsName('127.0.0.1', s.port)} ${hostKeyLine(s.dir)}\n`);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const CLIENTS = {
  ssh: ['ssh'],
  rxssh: [process.execPath, '--import', 'tsx', 'lib/cli/bin.ts', 'exec'],
} as const;
type Client = keyof typeof CLIENTS;
const flags = (): string[] => ['-p', String(s.port), '-i', s.keys['ed25519'] ?? '', '-o', `UserKnownHostsFile=${kh}`, '-o', 'GlobalKnownHostsFile=/dev/null', '-o', 'BatchMode=yes'];
const target = (): string => `${s.username}@127.0.0.1`;

/** `argv` on a pseudo-terminal; for each [EXPECT, SEND] step, types SEND once EXPECT has appeared. */
function dialog(argv: readonly string[], steps: readonly (readonly [string, string])[], seconds = 30): { raw: string; code: number; timedOut: boolean } {
  const r = spawnSync('python3', ['spec/helpers/pty-dialog.py', JSON.stringify(steps), String(seconds), '--', ...argv], { encoding: 'utf8', env: { ...process.env, SSH_AUTH_SOCK: '', TERM: 'xterm' }, timeout: (seconds + 30) * 1000 });
  return JSON.parse(r.stdout) as { raw: string; code: number; timedOut: boolean };
}
/** The same dialog with each client: `args` after the client's own words. */
function both(args: (c: Client) => readonly string[], steps: readonly (readonly [string, string])[]): Record<Client, { raw: string; code: number; timedOut: boolean }> {
  return { ssh: dialog([...CLIENTS.ssh, ...args('ssh')], steps), rxssh: dialog([...CLIENTS.rxssh, ...args('rxssh')], steps) };
}
/** What the terminal showed from the first `marker` on. */
const from = (raw: string, marker: string): string => raw.slice(raw.indexOf(marker));
const SHELL_READY: readonly [string, string] = ['$ ', 'echo mark-$((6*7))\r'];

describe('a session with a pseudo-terminal: this terminal in raw mode, as ssh sets it', () => {
  it('output reaches the terminal as sent: no \\r put before a \\n (a full-screen program\'s cursor-down stays in its column)', () => {
    const r = both(() => [...flags(), '-q', '-tt', target(), 'stty -opost; printf "x\\ny\\n"; sleep 0.2'], []);
    expect(r.ssh.raw).toBe('x\ny\n');
    expect(r.rxssh.raw).toBe(r.ssh.raw); // it was x\r\ny\r\n
  });

  it('a command with -t: what is typed is not echoed here as well (a password to a remote sudo stays hidden)', () => {
    const r = both(() => [...flags(), '-q', '-t', target(), 'echo ready; stty -echo; read x; stty echo; echo got:$x'], [['ready', 'secret\r']]);
    expect(r.ssh.raw).toBe('ready\r\ngot:secret\r\n');
    expect(r.rxssh.raw).toBe(r.ssh.raw); // "secret" was echoed by this terminal
  });

  it('the same when stdout goes to a pipe or a file: stdin is the terminal that must not echo', () => {
    const line = (c: Client): string => `${[...CLIENTS[c], ...flags(), '-q', '-t', target()].join(' ')} 'echo ready; stty -echo; read x; stty echo; echo got:$x' | cat >&2`;
    const r = { ssh: dialog(['bash', '-c', line('ssh')], [['ready', 'secret\r']]), rxssh: dialog(['bash', '-c', line('rxssh')], [['ready', 'secret\r']]) };
    // (Only up to the answer: cat may write the last line after the client has left raw mode.)
    for (const c of [r.ssh, r.rxssh]) expect(c.raw).toMatch(/^ready\r\ngot:secret\r/); // rxssh: "ready\r\r\nsecret\r\ngot:…", echoed here: raw mode needed stdout to be the terminal too
  });

  it('Ctrl-C goes to the remote command (its trap runs), not to rxssh', () => {
    const r = both(() => [...flags(), '-q', '-t', target(), "trap 'echo trapped' INT; echo ready; sleep 30; echo after-$((1+1))"], [['ready', '\x03']]);
    for (const c of [r.ssh, r.rxssh]) {
      expect(c.raw).toMatch(/trapped\r\nafter-2\r\n$/);
      expect(c.code).toBe(0);
    }
  });
});

describe("ssh's escapes on a session with a pseudo-terminal", () => {
  it('~. at the start of a line ends the session: exit 255 and "Connection to HOST closed.", as ssh', () => {
    const r = both(() => [...flags(), target()], [SHELL_READY, ['mark-42', 'echo a~.b\r'], ['a~.b\r\n', '~.']]);
    for (const c of [r.ssh, r.rxssh]) expect(c.timedOut).toBe(false);
    expect(r.ssh.code).toBe(255);
    expect(r.rxssh.code).toBe(255);
    expect(from(r.rxssh.raw, 'mark-42')).toBe(from(r.ssh.raw, 'mark-42'));
    expect(r.rxssh.raw.endsWith('$ Connection to 127.0.0.1 closed.\r\r\n')).toBe(true);
  });

  it('~~ sends one ~; ~? lists the escapes rxssh has; ~B, which it has not, is refused and nothing is sent', () => {
    const steps: (readonly [string, string])[] = [SHELL_READY, ['mark-42', '~~echo\r'], ['not found', '~?'], ['newline.)', '~B'], ['lists the escapes)', 'exit 4\r']];
    const r = dialog([...CLIENTS.rxssh, ...flags(), target()], steps);
    expect(r.code).toBe(4);
    const shown = from(r.raw, 'mark-42');
    expect(shown).toContain('~echo: not found');
    expect(shown).toContain('$ ~?\r\nSupported escape sequences:\r\n ~.   - terminate connection\r\n ~^Z  - suspend rxssh\r\n');
    expect(shown).toContain('~B\r\nrxssh: ~B is not supported: rxssh cannot send a BREAK');
    expect(shown).toMatch(/\)\r\nexit 4\r\nConnection to 127\.0\.0\.1 closed\.\r\r\n$/); // no B reached the shell
  });

  it('-e % and EscapeChar: % is the escape; with none, ~. reaches the shell', () => {
    const percent = both(() => [...flags(), '-e', '%', target()], [SHELL_READY, ['mark-42', '~~echo\r'], ['not found', '%.']]);
    expect(percent.ssh.code).toBe(255);
    expect(percent.rxssh.code).toBe(255);
    expect(from(percent.rxssh.raw, 'mark-42')).toBe(from(percent.ssh.raw, 'mark-42'));
    const none = both(() => [...flags(), '-o', 'EscapeChar=none', target()], [SHELL_READY, ['mark-42', '~.\r'], ['not found', 'exit 3\r']]);
    expect(none.ssh.code).toBe(3);
    expect(none.rxssh.code).toBe(3);
    expect(from(none.rxssh.raw, 'mark-42')).toBe(from(none.ssh.raw, 'mark-42'));
    expect(none.rxssh.raw).toContain('~.: not found');
  });

  it('~^Z suspends it in a job-control shell; fg brings it back in raw mode', () => {
    const steps = (c: Client): [string, string][] => [
      ['bash-', "PS1='local> '\r"],
      ['local> ', `${[...CLIENTS[c], ...flags(), target()].join(' ')}\r`],
      SHELL_READY as [string, string],
      ['mark-42', '~\x1a'],
      ['Stopped', 'fg\r'],
      // An empty line first: its prompt comes back once the client reads its terminal again,
      // in raw mode by then (keys typed before that would meet the shell's cooked mode).
      ['fg\r\n', '\r'],
      ['$ ', 'echo back-$((2*3))\r'],
      ['back-6', 'exit\r'],
      ['closed.', 'exit\r'],
    ];
    const shell = ['bash', '--norc', '--noprofile', '-i'];
    const r = { ssh: dialog(shell, steps('ssh')), rxssh: dialog(shell, steps('rxssh')) };
    for (const c of [r.ssh, r.rxssh]) expect(c.timedOut).toBe(false);
    expect(r.rxssh.raw).toContain('~^Z [suspend rxssh]\r\n');
    // After fg the remote shell echoes each key once: this terminal is in raw mode again.
    const after = (raw: string): string => from(raw, 'echo back').replaceAll('\x1b[?2004h', '').replaceAll('\x1b[?2004l', '');
    expect(after(r.rxssh.raw)).toBe(after(r.ssh.raw));
    expect(after(r.rxssh.raw)).toMatch(/^echo back-\$\(\(2\*3\)\)\r\nback-6\r\n/);
  });

  it('no pseudo-terminal, no escapes: ~. is data, as with ssh', () => {
    for (const c of ['ssh', 'rxssh'] as const) {
      const r = spawnSync(CLIENTS[c][0], [...CLIENTS[c].slice(1), ...flags(), target(), 'cat'], { input: '~.\nok\n', encoding: 'utf8', env: { ...process.env, SSH_AUTH_SOCK: '' }, timeout: 60_000 });
      expect(r.stdout).toBe('~.\nok\n');
      expect(r.status).toBe(0);
    }
  });
});

describe('"Connection to HOST closed." after a session with a pseudo-terminal, and what quiets it', () => {
  it('printed after the session (with its exit code); not with -q, LogLevel ERROR or QUIET; never without a pseudo-terminal', () => {
    const shownBy = (extra: readonly string[], pty = '-tt'): Record<Client, boolean> => {
      const r = both(() => [...flags(), ...extra, pty, target(), 'echo hi; exit 7'], []);
      expect(r.ssh.code).toBe(7);
      expect(r.rxssh.code).toBe(7);
      return { ssh: r.ssh.raw.includes('Connection to 127.0.0.1 closed.'), rxssh: r.rxssh.raw.includes('Connection to 127.0.0.1 closed.') };
    };
    expect(shownBy([])).toEqual({ ssh: true, rxssh: true });
    expect(shownBy(['-q'])).toEqual({ ssh: false, rxssh: false });
    expect(shownBy(['-o', 'LogLevel=ERROR'])).toEqual({ ssh: false, rxssh: false });
    expect(shownBy(['-o', 'LogLevel=quiet'])).toEqual({ ssh: false, rxssh: false });
    expect(shownBy(['-o', 'LogLevel=VERBOSE'])).toEqual({ ssh: true, rxssh: true });
    expect(shownBy([], '-T')).toEqual({ ssh: false, rxssh: false });
  });
});
