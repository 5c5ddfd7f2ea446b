import { appendFileSync, chmodSync, mkdtempSync, promises as fsp, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastValueFrom, range, mergeMap, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  HostKeyMismatchError,
  HostKeyRejectedError,
  HostKeyRevokedError,
  HostKeyUnknownError,
  acceptNew,
  authenticate,
  connect,
  hashHostName,
  hostMatches,
  knownHosts,
  knownHostsName,
  lookupKnownHost,
  parseKnownHosts,
  password,
  run,
  verifyHostKey,
  type HostKeyPolicy,
} from '../../lib/index.js';
import { describeHostKey as describeHostKeyForTests } from '../../lib/transport/host-key-info.js';
import { utils } from '../../lib/ssh2/index.js';
import type { TestServerInfo } from '../../lib/testing/index.js';
import { errorOf, serve } from '../helpers/index.js';
import { keyPair } from '../helpers/keys.js';

const dir = mkdtempSync(join(tmpdir(), 'rxssh-kh-'));
const fileWith = (name: string, text: string, mode = 0o644): string => {
  const f = join(dir, name);
  writeFileSync(f, text);
  chmodSync(f, mode);
  return f;
};
const blob = (line: string) => Buffer.from(line.trim().split(/\s+/)[1] ?? '', 'base64');

let server: { info: TestServerInfo; stop: () => void };
let other: string;
beforeAll(async () => {
  server = await serve();
  other = keyPair('ed25519').public;
});
afterAll(() => server.stop());

describe('known_hosts parsing and matching', () => {
  it('parses plain, hashed, marked lines; skips comments, blanks and malformed lines', () => {
    const line = server.info.hostKey.openssh.split(' ').slice(0, 2).join(' ');
    const text = [
      '# a comment',
      '',
      `example.org,10.0.0.1 ${line}`,
      `${hashHostName('hashed.example')} ${line} with a comment`,
      `@revoked * ${line}`,
      `@cert-authority *.example.org ${line}`,
      '@bogus-marker host ssh-ed25519 AAAA',
      'host ssh-ed25519 not-base64!',
      `host ssh-rsa ${line.split(' ')[1]}`, // type disagrees with the blob
    ].join('\n');
    const entries = parseKnownHosts(text, 'kh');
    expect(entries.map((e) => [e.line, e.marker, e.keyType])).toEqual([
      [3, undefined, 'ssh-ed25519'],
      [4, undefined, 'ssh-ed25519'],
      [5, 'revoked', 'ssh-ed25519'],
      [6, 'cert-authority', 'ssh-ed25519'],
    ]);
  });

  it('matches patterns, negation, hashed names and [host]:port like OpenSSH', () => {
    expect(hostMatches('example.org', 'EXAMPLE.org')).toBe(true);
    expect(hostMatches('a.example.org,b.example.org', 'b.example.org')).toBe(true);
    expect(hostMatches('*.example.org', 'web.example.org')).toBe(true);
    expect(hostMatches('web?.example.org', 'web1.example.org')).toBe(true);
    expect(hostMatches('web?.example.org', 'web12.example.org')).toBe(false);
    expect(hostMatches('*.example.org,!bad.example.org', 'bad.example.org')).toBe(false);
    expect(hostMatches('!bad.example.org', 'good.example.org')).toBe(false); // negation alone matches nothing
    expect(hostMatches('[10.0.0.1]:2222', knownHostsName('10.0.0.1', 2222))).toBe(true);
    expect(hostMatches('10.0.0.1', knownHostsName('10.0.0.1', 2222))).toBe(false);
    expect(hostMatches('[*.example.org]:2222', '[db.example.org]:2222')).toBe(true);
    expect(hostMatches('::1', '::1')).toBe(true);
    expect(hostMatches('[::1]:2222', knownHostsName('::1', 2222))).toBe(true);
    expect(hostMatches(hashHostName('[h]:2222'), '[h]:2222')).toBe(true);
    expect(hostMatches(hashHostName('[h]:2222'), '[h]:2223')).toBe(false);
    expect(knownHostsName('h', 22)).toBe('h');
  });

  it('verdicts: known, mismatch (same type), unknown (other type or none), revoked wins', () => {
    const ours = server.info.hostKey.openssh;
    const key = blob(ours);
    const kh = (text: string) => parseKnownHosts(text, 'kh');
    expect(lookupKnownHost(kh(`h ${ours}`), 'h', 22, key).kind).toBe('known');
    expect(lookupKnownHost(kh(`h ${other}`), 'h', 22, key).kind).toBe('mismatch');
    expect(lookupKnownHost(kh(`h ${other}\nh ${ours}`), 'h', 22, key).kind).toBe('known'); // several keys per host
    expect(lookupKnownHost(kh(`other ${ours}`), 'h', 22, key).kind).toBe('unknown');
    expect(lookupKnownHost(kh(`h ${ours}\n@revoked * ${ours}`), 'h', 22, key).kind).toBe('revoked');
    const ecdsa = utils.generateKeyPairSync('ecdsa', { bits: 256 }).public;
    expect(lookupKnownHost(kh(`h ${ecdsa}`), 'h', 22, key).kind).toBe('unknown');
    expect(lookupKnownHost(kh(`@cert-authority h ${other}`), 'h', 22, key)).toEqual({ kind: 'unknown', certAuthority: true, otherKeys: [] });
    expect(lookupKnownHost(kh(`h ${ecdsa}`), 'h', 22, key)).toMatchObject({ kind: 'unknown', otherKeys: [{ keyType: 'ecdsa-sha2-nistp256' }] });
  });
});

describe('knownHosts() policy', () => {
  const attempt = (policy: HostKeyPolicy) => {
    const before = server.info.stats.authRequests.length;
    const pipeline = connect({ host: server.info.host, port: server.info.port, username: server.info.username }).pipe(
      verifyHostKey(policy),
      authenticate(password(server.info.password)),
      run('true'),
    );
    return { pipeline, userauth: () => server.info.stats.authRequests.length - before };
  };
  const name = () => knownHostsName(server.info.host, server.info.port);

  it('accepts a known host (hashed [host]:port entry)', async () => {
    const file = fileWith('known', `${hashHostName(name())} ${server.info.hostKey.openssh}\n`);
    const r = await lastValueFrom(attempt(knownHosts({ files: [file] })).pipeline);
    expect(r.exitCode).toBe(0);
  });

  it('unknown, mismatch and revoked are distinct errors and no USERAUTH is sent', async () => {
    const cases: Array<[string, new (...a: never[]) => HostKeyRejectedError]> = [
      [`other.host ${server.info.hostKey.openssh}\n`, HostKeyUnknownError],
      [`${name()} ${other}\n`, HostKeyMismatchError],
      [`${name()} ${server.info.hostKey.openssh}\n@revoked * ${server.info.hostKey.openssh}\n`, HostKeyRevokedError],
    ];
    for (const [text, cls] of cases) {
      const file = fileWith(`case-${cls.name}`, text);
      const { pipeline, userauth } = attempt(knownHosts({ files: [file] }));
      const err = await errorOf(pipeline);
      expect(err).toBeInstanceOf(cls);
      expect(err).toBeInstanceOf(HostKeyRejectedError);
      expect((err as HostKeyRejectedError).fingerprint).toBe(server.info.hostKey.fingerprint);
      expect(userauth()).toBe(0);
    }
    const mismatch = (await errorOf(attempt(knownHosts({ files: [fileWith('mm', `x\n${name()} ${other}\n`)] })).pipeline)) as HostKeyMismatchError;
    expect([mismatch.line, mismatch.code]).toEqual([2, 'ERR_SSH_HOST_KEY_MISMATCH']);
    expect(mismatch.expected).not.toBe(mismatch.fingerprint);
  });

  it('missing files mean unknown, not a crash', async () => {
    const err = await errorOf(attempt(knownHosts({ files: [join(dir, 'does-not-exist')] })).pipeline);
    expect(err).toBeInstanceOf(HostKeyUnknownError);
  });
});

describe('acceptNew()', () => {
  it('learns an unknown host (hashed line, mode 0600 for a new file), then knows it; a mismatch still fails', async () => {
    const file = join(dir, 'learned');
    const policy = acceptNew({ files: [file] });
    const pipeline = () =>
      connect({ host: server.info.host, port: server.info.port, username: server.info.username }).pipe(
        verifyHostKey(policy),
        authenticate(password(server.info.password)),
        run('true'),
      );
    await lastValueFrom(pipeline());
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^\|1\|[A-Za-z0-9+/=]+\|[A-Za-z0-9+/=]+ ssh-ed25519 /);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    await lastValueFrom(pipeline());
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(1); // known now: nothing appended
    const changed = fileWith('changed', `${knownHostsName(server.info.host, server.info.port)} ${other}\n`);
    const err = await errorOf(
      connect({ host: server.info.host, port: server.info.port, username: server.info.username }).pipe(
        verifyHostKey(acceptNew({ files: [changed] })),
        authenticate(password(server.info.password)),
      ),
    );
    expect(err).toBeInstanceOf(HostKeyMismatchError);
  });

  it('500 hosts learned at once: no torn lines, no lost entries, the file mode kept', async () => {
    const file = fileWith('fleet', '# fleet\n', 0o640);
    const policy = acceptNew({ files: [file], hash: false });
    const key = blob(server.info.hostKey.openssh);
    const verdicts = await Promise.all(
      Array.from({ length: 500 }, (_, i) => policy(describeHostKeyForTests(key, `host${i}.fleet`, 2200 + (i % 7))) as Promise<boolean>),
    );
    expect(verdicts.every((v) => v === true)).toBe(true);
    const lines = readFileSync(file, 'utf8').trim().split('\n').slice(1);
    expect(lines).toHaveLength(500);
    expect(new Set(lines).size).toBe(500);
    for (const l of lines) expect(l).toMatch(/^\[host\d+\.fleet\]:22\d\d ssh-ed25519 [A-Za-z0-9+/=]+$/);
    expect(statSync(file).mode & 0o777).toBe(0o640);
  });

  it('50 connections learning the same host at once append it once', async () => {
    const file = join(dir, 'same-host');
    const policy = acceptNew({ files: [file] });
    const results = await lastValueFrom(
      range(0, 50).pipe(
        mergeMap(() =>
          connect({ host: server.info.host, port: server.info.port, username: server.info.username }).pipe(
            verifyHostKey(policy),
            authenticate(password(server.info.password)),
            run('true'),
          ),
        ),
        toArray(),
      ),
    );
    expect(results).toHaveLength(50);
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(1);
  });
});

describe('CheckHostIP (checkHostIp)', () => {
  const key = () => blob(server.info.hostKey.openssh);
  const offered = (host: string, address?: string, port = 2222) => describeHostKeyForTests(key(), host, port, address);
  const line = (name: string, k = server.info.hostKey.openssh) => `${name} ${k.trim().split(/\s+/).slice(0, 2).join(' ')}\n`;

  it('a known host whose address is not recorded: accepted, and the address added (plain or hashed)', async () => {
    const plain = fileWith('ip-plain', line('[web.test]:2222'));
    expect(await knownHosts({ files: [plain], checkHostIp: { file: plain, hash: false } })(offered('web.test', '10.211.0.2'))).toBe(true);
    expect(readFileSync(plain, 'utf8')).toBe(line('[web.test]:2222') + line('[10.211.0.2]:2222'));
    const hashed = fileWith('ip-hashed', line('[web.test]:2222'));
    await knownHosts({ files: [hashed], checkHostIp: { file: hashed } })(offered('web.test', '10.211.0.2'));
    const added = readFileSync(hashed, 'utf8').split('\n')[1] ?? '';
    expect(added.startsWith('|1|')).toBe(true);
    expect(hostMatches(added.split(' ')[0] ?? '', '[10.211.0.2]:2222')).toBe(true);
    // Recorded now: the next check adds nothing; without checkHostIp nothing is ever added.
    await knownHosts({ files: [plain], checkHostIp: { file: plain, hash: false } })(offered('web.test', '10.211.0.2'));
    expect(readFileSync(plain, 'utf8').split('\n').filter(Boolean)).toHaveLength(2);
    const off = fileWith('ip-off', line('[web.test]:2222'));
    await knownHosts({ files: [off] })(offered('web.test', '10.211.0.2'));
    expect(readFileSync(off, 'utf8')).toBe(line('[web.test]:2222'));
  });

  it('another key recorded for the address: HostKeyMismatchError naming it, in knownHosts and acceptNew alike; nothing written', async () => {
    const text = line('[web.test]:2222') + line('[10.211.0.2]:2222', other);
    const file = fileWith('ip-spoofed', text);
    for (const policy of [knownHosts({ files: [file], checkHostIp: { file } }), acceptNew({ files: [file], checkHostIp: { file } })]) {
      const err = await Promise.resolve(policy(offered('web.test', '10.211.0.2'))).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(HostKeyMismatchError);
      expect((err as Error).message).toContain(`differs from the key for its IP address [10.211.0.2]:2222 (${file}:2): possible DNS spoofing (CheckHostIP)`);
    }
    // A new host at that address is refused before it is learned.
    const fresh = fileWith('ip-spoofed-new', line('[10.211.0.2]:2222', other));
    const err = await Promise.resolve(acceptNew({ files: [fresh], checkHostIp: { file: fresh } })(offered('new.test', '10.211.0.2'))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HostKeyMismatchError);
    expect(readFileSync(fresh, 'utf8')).toBe(line('[10.211.0.2]:2222', other));
    expect(readFileSync(file, 'utf8')).toBe(text);
  });

  it('acceptNew learns a new host with its address: one "host,ip" line, or one hashed line each, as ssh writes them', async () => {
    const plain = join(dir, 'ip-learn-plain');
    await acceptNew({ files: [plain], hash: false, checkHostIp: { file: plain, hash: false } })(offered('new.test', '10.211.0.2'));
    expect(readFileSync(plain, 'utf8')).toBe(line('[new.test]:2222,[10.211.0.2]:2222'));
    const hashed = join(dir, 'ip-learn-hashed');
    await acceptNew({ files: [hashed], checkHostIp: { file: hashed } })(offered('new.test', '10.211.0.2', 22));
    const names = readFileSync(hashed, 'utf8').trim().split('\n').map((l) => l.split(' ')[0] ?? '');
    expect(names.map((n) => [hostMatches(n, 'new.test'), hostMatches(n, '10.211.0.2')])).toEqual([[true, false], [false, true]]);
  });

  it('not checked, as ssh: a loopback address, the address given as the host, no address (a jump host, a ProxyCommand)', async () => {
    const text = line('[web.test]:2222') + line('[127.0.0.1]:2222', other) + line('[10.211.0.2]:2222', other) + line('[::1]:2222', other);
    const file = fileWith('ip-skipped', text);
    const policy = knownHosts({ files: [file], checkHostIp: { file } });
    expect(await policy(offered('web.test', '127.0.0.1'))).toBe(true);
    expect(await policy(offered('web.test', '::1'))).toBe(true);
    expect(await policy(offered('web.test'))).toBe(true);
    const byAddress = fileWith('ip-by-address', line('[10.211.0.2]:2222'));
    expect(await knownHosts({ files: [byAddress], checkHostIp: { file: byAddress } })(offered('10.211.0.2', '10.211.0.2'))).toBe(true);
    expect(readFileSync(file, 'utf8')).toBe(text);
    expect(readFileSync(byAddress, 'utf8')).toBe(line('[10.211.0.2]:2222'));
  });

  it('with HostKeyAlias the address keeps the port connected to', async () => {
    const file = fileWith('ip-alias', line('pinned'));
    await knownHosts({ files: [file], hostKeyAlias: 'pinned', checkHostIp: { file, hash: false } })(offered('web.test', '10.211.0.2'));
    expect(readFileSync(file, 'utf8')).toBe(line('pinned') + line('[10.211.0.2]:2222'));
  });
});

describe('known_hosts under attack (issue 12)', () => {
  const key = () => blob(server.info.hostKey.openssh);
  const ecdsa = () => utils.generateKeyPairSync('ecdsa', { bits: 256 }).public;

  it('OpenSSH accept-new: a host known by a key of another type is never new (REMOTE HOST IDENTIFICATION HAS CHANGED), nothing learned', async () => {
    const known = `${knownHostsName('box.example', 22)} ${ecdsa()}\n`;
    const file = fileWith('other-type', known);
    const err = await Promise.resolve(acceptNew({ files: [file] })(describeHostKeyForTests(key(), 'box.example', 22))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HostKeyMismatchError);
    expect((err as HostKeyMismatchError).message).toMatch(/REMOTE HOST IDENTIFICATION HAS CHANGED.*ecdsa-sha2-nistp256/);
    expect([(err as HostKeyMismatchError).file, (err as HostKeyMismatchError).line]).toEqual([file, 1]);
    expect(readFileSync(file, 'utf8')).toBe(known);
    // StrictHostKeyChecking yes: unknown, and the message says which types are known.
    const strict = await Promise.resolve(knownHosts({ files: [file] })(describeHostKeyForTests(key(), 'box.example', 22))).catch((e: unknown) => e);
    expect(strict).toBeInstanceOf(HostKeyUnknownError);
    expect((strict as Error).message).toMatch(/known only by ecdsa-sha2-nistp256/);
  });

  it('two first connections that see different keys: one is learned, the other fails as a mismatch (learning serialized per file)', async () => {
    const file = join(dir, 'race');
    const rogue = blob(other);
    const a = acceptNew({ files: [file] });
    const b = acceptNew({ files: [file] }); // a second policy object: the serialization is per file, not per policy
    const outcomes = await Promise.allSettled([
      Promise.resolve(a(describeHostKeyForTests(key(), 'race.example', 22))),
      Promise.resolve(b(describeHostKeyForTests(rogue, 'race.example', 22))),
    ]);
    expect(outcomes.map((o) => o.status).sort()).toEqual(['fulfilled', 'rejected']);
    const rejected = outcomes.find((o) => o.status === 'rejected') as PromiseRejectedResult;
    expect(rejected.reason).toBeInstanceOf(HostKeyMismatchError);
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(1);
  });

  it('two processes learning one host with different keys at once: exactly one line, the other run is refused', async () => {
    const { execFile } = await import('node:child_process');
    const file = join(dir, 'race-processes');
    const script = (keyLine: string) => `
      import { acceptNew } from ${JSON.stringify(new URL('../../lib/index.ts', import.meta.url).pathname)};
      import { describeHostKey } from ${JSON.stringify(new URL('../../lib/transport/host-key-info.ts', import.meta.url).pathname)};
      const key = Buffer.from(${JSON.stringify(keyLine.split(' ')[1])}, 'base64');
      try { await acceptNew({ files: [${JSON.stringify(file)}] })(describeHostKey(key, 'proc.example', 22)); console.log('accepted'); }
      catch (e) { console.log(e.code); }`;
    const spawn = (keyLine: string) =>
      new Promise<string>((resolve, reject) =>
        execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script(keyLine)], (err, stdout) => (err ? reject(err) : resolve(stdout.trim()))),
      );
    const outcomes = await Promise.all([spawn(server.info.hostKey.openssh), spawn(other)]);
    expect(outcomes.sort()).toEqual(['ERR_SSH_HOST_KEY_MISMATCH', 'accepted']);
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(1);
  });

  it('host names are matched case-insensitively, hashed entries too (OpenSSH lower-cases the name): LOCALHOST is not a new host', async () => {
    const file = fileWith('case', `${hashHostName('localhost')} ${server.info.hostKey.openssh}\n`);
    expect(await knownHosts({ files: [file] })(describeHostKeyForTests(key(), 'LOCALHOST', 22))).toBe(true);
    const err = await Promise.resolve(acceptNew({ files: [file] })(describeHostKeyForTests(blob(other), 'LocalHost', 22))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HostKeyMismatchError);
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(1);
    expect(hostMatches(hashHostName('web.example'), 'WEB.example')).toBe(true);
  });

  it('learning into a file whose last line has no newline starts a new line (no merged entries)', async () => {
    const file = fileWith('no-newline', `first.example ${other}`);
    expect(await acceptNew({ files: [file], hash: false })(describeHostKeyForTests(key(), 'second.example', 22))).toBe(true);
    const entries = parseKnownHosts(readFileSync(file, 'utf8'), file);
    expect(entries.map((e) => e.hosts)).toEqual(['first.example', 'second.example']);
  });

  it('CRLF known_hosts files parse like LF ones', () => {
    const entries = parseKnownHosts(`a.example ${other}\r\n# comment\r\nb.example ${other}\r\n`, 'crlf');
    expect(entries.map((e) => [e.hosts, e.line])).toEqual([['a.example', 1], ['b.example', 3]]);
  });

  it('a 20,000-line hashed file is read and parsed once per version, not per verification; a change is seen at once', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 20_000; i++) lines.push(`${hashHostName(`host${i}.example`)} ${other}`);
    const file = fileWith('big', `${lines.join('\n')}\n`);
    const reads = vi.spyOn(fsp, 'readFile');
    try {
      const policy = knownHosts({ files: [file] });
      for (let i = 0; i < 50; i++) {
        const err = await Promise.resolve(policy(describeHostKeyForTests(key(), `host${i}.example`, 22))).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(HostKeyMismatchError); // found among the 20,000 hashed lines
      }
      expect(reads.mock.calls.filter(([f]) => f === file)).toHaveLength(1);
      appendFileSync(file, `${hashHostName('new.example')} ${server.info.hostKey.openssh}\n`);
      expect(await policy(describeHostKeyForTests(key(), 'new.example', 22))).toBe(true);
      expect(reads.mock.calls.filter(([f]) => f === file)).toHaveLength(2);
    } finally {
      reads.mockRestore();
    }
  });
});
