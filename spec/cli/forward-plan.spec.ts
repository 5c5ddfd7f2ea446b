/**
 * `-L`, `-R` and `-D` read as ssh reads them: generated specifications (ports, service names,
 * addresses in brackets, escapes, Unix socket paths, empty and extra fields) parsed by rxssh and
 * by the machine's `ssh -G`; then what the host's ssh_config does to the forwards.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { checkForwardSpecs, forwardPlan, type ForwardPlan } from '../../lib/cli/forward-plan.js';
import { parseForward, sshGWords } from '../../lib/util/forward-spec.js';
import { UsageError } from '../../lib/cli/usage.js';
import { fromSshConfig } from '../../lib/index.js';
import { random } from '../helpers/ssh-g.js';

const FLAGS = { L: 'localforward', R: 'remoteforward', D: 'dynamicforward' } as const;
type Flag = keyof typeof FLAGS;

/** What `ssh -G -L SPEC` (or -R, -D) makes of one specification: its line for that kind, or null for "Bad … specification". */
function sshReads(flag: Flag, spec: string): string | null {
  try {
    const out = execFileSync('ssh', ['-G', '-F', '/dev/null', `-${flag}`, spec, 'x'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const lines = out.split('\n').filter((l) => l.startsWith(`${FLAGS[flag]} `));
    if (lines.length !== 1) throw new Error(`ssh -G -${flag} ${JSON.stringify(spec)}: ${lines.length} lines`);
    return (lines[0] as string).slice(FLAGS[flag].length + 1);
  } catch (err) {
    const stderr = String((err as { stderr?: string }).stderr ?? '');
    if (/Bad \w+ forwarding specification/.test(stderr)) return null;
    throw err;
  }
}

/** What rxssh parsed, in ssh -G's words (-R: as a forward, then as a remote SOCKS proxy, as ssh tries them). */
function rxsshReads(flag: Flag, spec: string): string | null {
  const f = flag === 'R' ? (parseForward(spec, false, true) ?? parseForward(spec, true, true)) : parseForward(spec, flag === 'D', false);
  return f ? sshGWords(f, flag === 'D') : null;
}

const PORTS = ['8080', '22', '0', '+80', '080', '65535', '65536', 'http', 'ssh', 'nope', '', '-0'];
const HOSTS = ['db', '127.0.0.1', '[::1]', '*', '', 'a\\:b', '[a]', 'loc\\/al', '[/in/brackets]', 'db.example.org'];
const PATHS = ['/tmp/a.sock', '/run/docker.sock', 'rel/x.sock', `/${'x'.repeat(110)}`];

function generate(n: number): string[] {
  const rnd = random(7000 + n);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const shapes: Array<() => string[]> = [
    () => [pick(PORTS)],
    () => [pick(PATHS)],
    () => [pick(HOSTS), pick(PORTS)],
    () => [pick(PORTS), pick(PATHS)],
    () => [pick(PATHS), pick(PATHS)],
    () => [pick(PORTS), pick(HOSTS), pick(PORTS)],
    () => [pick(PATHS), pick(HOSTS), pick(PORTS)],
    () => [pick(HOSTS), pick(PORTS), pick(PATHS)],
    () => [pick(HOSTS), pick(PORTS), pick(HOSTS), pick(PORTS)],
    () => [pick(HOSTS), pick(PORTS), pick(HOSTS), pick(PORTS), pick(PORTS)],
  ];
  const specs: string[] = [];
  for (let i = 0; i < 60; i++) {
    let spec = pick(shapes)().join(':');
    if (rnd() < 0.1) spec += ':';
    if (rnd() < 0.05) spec = ` ${spec}`;
    if (rnd() < 0.03) spec += '\\';
    specs.push(spec);
  }
  return specs;
}

describe('forward specifications as ssh -G reads them', () => {
  const specs = [...new Set([...generate(1), ...generate(2), ...generate(3), '[::1]:8080:db:80', '/a:/b:', '8080:[::1]:80', '[a]b:8080:db:80', 'a:b:c:d:e'])];

  for (const flag of ['L', 'R', 'D'] as const) {
    it(`-${flag}: every generated specification parsed as ssh parses it (${specs.length} of them)`, () => {
      const differ: string[] = [];
      let accepted = 0;
      for (const spec of specs) {
        const theirs = sshReads(flag, spec);
        const mine = rxsshReads(flag, spec);
        if (theirs !== null) accepted++;
        if (theirs !== mine) differ.push(`-${flag} ${JSON.stringify(spec)}: ssh ${JSON.stringify(theirs)}, rxssh ${JSON.stringify(mine)}`);
      }
      expect(differ).toEqual([]);
      expect(accepted).toBeGreaterThan(20); // the generator reaches both sides of ssh's rules
      expect(specs.length - accepted).toBeGreaterThan(20);
    });

    it(`-${flag}: what ssh refuses is a usage error; what it takes, rxssh does or refuses naming what it does not do`, () => {
      for (const spec of specs) {
        const args: [string[], string[], string[]] = [flag === 'L' ? [spec] : [], flag === 'R' ? [spec] : [], flag === 'D' ? [spec] : []];
        let error: unknown;
        try {
          checkForwardSpecs(...args);
        } catch (err) {
          error = err;
        }
        if (rxsshReads(flag, spec) === null) {
          expect(error, spec).toBeInstanceOf(UsageError);
          expect((error as Error).message).toContain(`-${flag} ${JSON.stringify(spec)}: bad forwarding specification (expected`);
        } else if (error !== undefined) {
          expect(error, spec).toBeInstanceOf(UsageError);
          expect((error as Error).message).toMatch(/does not run a SOCKS proxy for the server|is a local forward, not a SOCKS proxy/);
        }
      }
    });
  }

  it('the socket forms become the library forwards they name', () => {
    const forwards = checkForwardSpecs(['/tmp/l.sock:db:5432', '8080:/run/docker.sock', '[::1]:8081:/run/d.sock', '/tmp/a:/tmp/b', ':9000:db:80'], ['0:/tmp/here.sock', '*:8022:127.0.0.1:22', '/run/user/app.sock:localhost:3000'], ['/tmp/socks.sock', '[::1]:1080']);
    const host = fromSshConfig('h', { file: null, systemFile: null, forwards });
    const sock = { mask: 0o177, unlink: false };
    expect(forwardPlan(host)).toEqual({
      local: [
        { bind: { path: '/tmp/l.sock', ...sock }, to: { host: 'db', port: 5432 } },
        { bind: { port: 8080 }, to: { path: '/run/docker.sock' } },
        { bind: { host: '::1', port: 8081 }, to: { path: '/run/d.sock' } },
        { bind: { path: '/tmp/a', ...sock }, to: { path: '/tmp/b' } },
        { bind: { host: '*', port: 9000 }, to: { host: 'db', port: 80 } },
      ],
      remote: [
        { listen: { host: '127.0.0.1', port: 0 }, to: { path: '/tmp/here.sock' } },
        { listen: { host: '', port: 8022 }, to: { host: '127.0.0.1', port: 22 } },
        { listen: { path: '/run/user/app.sock' }, to: { host: 'localhost', port: 3000 } },
      ],
      dynamic: [{ path: '/tmp/socks.sock', ...sock }, { host: '::1', port: 1080 }],
    } satisfies ForwardPlan);
  });
});

describe("the host's ssh_config on the forwards", () => {
  const given = checkForwardSpecs(['8080:db:80', '127.0.0.1:8081:db:80', '/tmp/l.sock:db:80'], ['9000:127.0.0.1:22'], ['1080', '/tmp/s.sock']);
  const plan = (...extra: string[]) => forwardPlan(fromSshConfig('h', { file: null, systemFile: null, extra, forwards: given }));

  it('by default: TCP listeners as given, socket listeners under 0177 without removing a stale file', () => {
    const f = plan();
    expect(f.local.map((l) => l.bind)).toEqual([{ port: 8080 }, { host: '127.0.0.1', port: 8081 }, { path: '/tmp/l.sock', mask: 0o177, unlink: false }]);
    expect(f.dynamic).toEqual([{ port: 1080 }, { path: '/tmp/s.sock', mask: 0o177, unlink: false }]);
    expect(f.remote).toEqual([{ listen: { host: '127.0.0.1', port: 9000 }, to: { host: '127.0.0.1', port: 22 } }]);
  });

  it('GatewayPorts yes: the TCP listeners without an address on every interface; StreamLocalBindMask and StreamLocalBindUnlink on the sockets', () => {
    const f = plan('GatewayPorts yes', 'StreamLocalBindMask 0117', 'StreamLocalBindUnlink yes');
    expect(f.local.map((l) => l.bind)).toEqual([{ host: '*', port: 8080 }, { host: '127.0.0.1', port: 8081 }, { path: '/tmp/l.sock', mask: 0o117, unlink: true }]);
    expect(f.dynamic).toEqual([{ host: '*', port: 1080 }, { path: '/tmp/s.sock', mask: 0o117, unlink: true }]);
  });

  it("ClearAllForwardings yes: none at all, as ssh drops even the command line's", () => {
    expect(plan('ClearAllForwardings yes')).toEqual({ local: [], remote: [], dynamic: [] });
  });

  it('the config\'s LocalForward, RemoteForward and DynamicForward after the command line\'s, socket paths with ${VAR} and tokens expanded', () => {
    const f = plan('LocalForward /tmp/%h-%r.sock ${HOME}/remote.sock', 'LocalForward 15432 db.internal:5432', 'RemoteForward 9001 /tmp/%n.sock', 'DynamicForward 1081');
    const user = fromSshConfig('h', { file: null, systemFile: null }).username;
    expect(f.local.slice(3)).toEqual([
      { bind: { path: `/tmp/h-${user}.sock`, mask: 0o177, unlink: false }, to: { path: `${process.env['HOME']}/remote.sock` } },
      { bind: { port: 15432 }, to: { host: 'db.internal', port: 5432 } },
    ]);
    expect(f.remote[1]).toEqual({ listen: { host: '127.0.0.1', port: 9001 }, to: { path: '/tmp/h.sock' } });
    expect(f.dynamic[2]).toEqual({ port: 1081 });
  });

  it('without `forwards` asked for, a host with a LocalForward is refused (a connection alone does not set it up); a bad line is refused either way', () => {
    expect(() => fromSshConfig('h', { file: null, systemFile: null, extra: ['LocalForward 8080 db:80'] })).toThrow(/localforward 8080 db:80: rxssh does not set up forwards from ssh_config/i);
    expect(() => fromSshConfig('h', { file: null, systemFile: null, extra: ['LocalForward 8080'], forwards: {} })).toThrow(/Bad forwarding specification/);
    expect(() => fromSshConfig('h', { file: null, systemFile: null, extra: ['LocalForward /tmp/${RXSSH_NOT_SET_ANYWHERE}.sock db:80'], forwards: {} })).toThrow('env var ${RXSSH_NOT_SET_ANYWHERE} has no value');
    expect(() => plan('RemoteForward 1082')).toThrow('RemoteForward 1082 (command line): rxssh does not run a SOCKS proxy for the server (-R without a destination)');
  });
});
