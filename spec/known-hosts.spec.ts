import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lastValueFrom, range, mergeMap, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
} from '../lib/index.js';
import { describeHostKey as describeHostKeyForTests } from '../lib/host-key.js';
import { utils } from '../lib/internal/ssh2.js';
import type { TestServerInfo } from '../lib/testing/index.js';
import { errorOf, serve } from './helpers/index.js';

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
  other = utils.generateKeyPairSync('ed25519').public;
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
    expect(lookupKnownHost(kh(`@cert-authority h ${other}`), 'h', 22, key)).toEqual({ kind: 'unknown', certAuthority: true });
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
