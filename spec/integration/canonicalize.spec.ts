/**
 * CanonicalizeHostname against the real thing: names answered by a DNS server of the spec's own
 * in a network namespace of its own (spec/helpers/resolver-ns.ts), so ssh's getaddrinfo and
 * rxssh's ask the same resolver for the same `NAME.DOMAIN.`. Generated configs are resolved by
 * `ssh -G` and by rxssh, every honoured keyword compared; then `rxssh exec` and OpenSSH's `ssh`
 * reach a real sshd by a name only canonicalization makes.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { SshConfigHost } from '../../lib/index.js';
import type { DriverJob, DriverResult } from '../helpers/canonical-driver.js';
import type { Zone } from '../helpers/dns-server.js';
import { sshd } from '../helpers/index.js';
import { inResolverNamespace, resolverNamespaceUnavailable } from '../helpers/resolver-ns.js';
import { ours, random, type Generated } from '../helpers/ssh-g.js';

const dir = mkdtempSync(join(tmpdir(), 'rxssh-canon-ns-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ZONE: Zone = {
  'web1.corp.test': ['127.0.0.1'],
  'db.corp.test': ['::1'],
  'db.lab.test': ['127.0.0.3'],
  'db.prod.corp.test': ['127.0.0.2'],
  'x-9.lab.test': ['127.0.0.4'],
  'bastion.corp.test': ['127.0.0.1', '::1'],
};
const CONFIGS = 40;
const ALIASES = ['web1', 'Web1', 'db', 'db.prod', 'x-9', 'bastion', 'web1.', '127.1', 'nohost'];
const DOMAINS = ['corp.test', 'lab.test', 'nowhere.test', 'Lab.Test.'];
const BLOCKS = ['Host *.corp.test', 'Host *.lab.test', 'Host web1', 'Host db*', 'Host !*.corp.test *', 'Match canonical host *.lab.test', 'Match canonical', 'Match final host db.*', 'Match originalhost web1 host *.corp.test', 'Match host web1'];
const VALUES: Record<string, readonly string[]> = {
  User: ['corp', 'lab', 'ops'],
  Port: ['2201', '2202', '2203'],
  HostName: ['%h', 'web1', 'db.prod', 'X-9'],
  ProxyJump: ['bastion', 'none'],
  ProxyCommand: ['nc %h %p', 'none'],
  AddressFamily: ['inet', 'inet6', 'any'],
  IdentityFile: ['~/.ssh/id_%h', '~/.ssh/k_%n'],
  UserKnownHostsFile: ['~/kh_%h_%n'],
  CanonicalizeHostname: ['yes', 'always', 'no'],
  CanonicalizeMaxDots: ['0', '1', '2'],
  CanonicalizeFallbackLocal: ['yes', 'yes', 'no'],
  CanonicalDomains: ['corp.test', 'lab.test corp.test'],
};

function generate(n: number): Generated {
  const rnd = random(7000 + n);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const line = (): string => {
    const keyword = pick(Object.keys(VALUES));
    return `${keyword} ${pick(VALUES[keyword] ?? [])}`;
  };
  const domains = DOMAINS.filter(() => rnd() < 0.6).sort(() => rnd() - 0.5);
  const head = [
    `CanonicalizeHostname ${pick(['yes', 'yes', 'always', 'no'])}`,
    ...(rnd() < 0.1 ? ['CanonicalDomains none'] : domains.length ? [`CanonicalDomains ${domains.join(' ')}`] : []),
    ...(rnd() < 0.3 ? [`CanonicalizeMaxDots ${pick(['0', '1', '2'])}`] : []),
    ...(rnd() < 0.2 ? ['CanonicalizeFallbackLocal no'] : []),
  ];
  const body: string[] = [];
  for (let b = 3 + Math.floor(rnd() * 4); b > 0; b--) body.push(pick(BLOCKS), ...Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => `  ${line()}`));
  const sub = join(dir, `c${n}`);
  mkdirSync(sub, { recursive: true });
  const file = join(sub, 'config');
  // Settings before any block, or given as -o lines (which come first).
  const asExtra = rnd() < 0.3;
  const text = `${[...(asExtra ? [] : head), ...body].join('\n')}\n`;
  writeFileSync(file, text);
  return { file, extra: asExtra ? head : [], text };
}

describe('CanonicalizeHostname against a resolver of the spec’s own', () => {
  it(`resolves ${CONFIGS} generated configs × ${ALIASES.length} names as ssh -G does, and rxssh exec reaches sshd by a canonicalized name`, () => {
    const why = resolverNamespaceUnavailable();
    if (why) throw new Error(why);
    const server = sshd();
    const generated = Array.from({ length: CONFIGS }, (_, n) => generate(n));
    const home = userInfo().homedir;
    const localUser = userInfo().username;
    const conf = join(dir, 'e2e_config');
    const kh = join(dir, 'known_hosts');
    const cli = [process.execPath, '--import', 'tsx', 'lib/cli/bin.ts', 'exec', '-F', conf];
    const job: DriverJob = {
      parity: generated.flatMap((g) => ALIASES.map((alias) => ({ generated: g, alias, home, localUser }))),
      sshd: {
        account: { username: server.username, password: server.password, home: server.home },
        files: [
          { path: kh, text: '[web1.corp.test]:{port} {hostkey}\n' },
          {
            path: conf,
            text: [
              'CanonicalizeHostname yes',
              'CanonicalDomains nowhere.test corp.test',
              'Host *.corp.test',
              '  Port {port}',
              `  User ${server.username}`,
              '  IdentityFile {key}',
              '  IdentitiesOnly yes',
              '  IdentityAgent none',
              `  UserKnownHostsFile ${kh}`,
              '  StrictHostKeyChecking yes',
              '  BatchMode yes',
              '',
            ].join('\n'),
          },
        ],
        commands: [
          [...cli, 'web1', 'echo', 'canonical-ok'],
          ['ssh', '-F', conf, 'web1', 'echo', 'ssh-ok'],
          [...cli, '-o', 'CanonicalizeFallbackLocal=no', 'nohost', 'true'],
          [...cli, '-o', 'CanonicalizeHostname=no', 'web1', 'true'],
        ],
      },
      result: join(dir, 'result.json'),
    };
    writeFileSync(join(dir, 'job.json'), JSON.stringify(job));
    const run = inResolverNamespace(dir, ZONE, [process.execPath, '--import', 'tsx', 'spec/helpers/canonical-driver.ts', join(dir, 'job.json')]);
    expect(run.status, `${run.stdout}\n${run.stderr}`).toBe(0);
    const result = JSON.parse(readFileSync(job.result, 'utf8')) as DriverResult;

    let compared = 0;
    let refusedByBoth = 0;
    const mismatches: string[] = [];
    result.parity.forEach(({ ssh, ours: mine }, i) => {
      const { generated: g, alias } = job.parity[i] as DriverJob['parity'][number];
      const where = `config ${g.file} ${alias}`;
      const theirs = 'error' in ssh ? undefined : new Map(ssh);
      const error = (mine as { error?: string }).error;
      if (!theirs || error !== undefined) {
        if (!theirs && error !== undefined) refusedByBoth++;
        else mismatches.push(`${where}: ssh ${theirs ? 'resolved' : `refused: ${(ssh as { error: string }).error.trim()}`}, rxssh ${error ?? 'resolved'}\n${g.text}`);
        return;
      }
      for (const [keyword, values] of Object.entries(ours(mine as SshConfigHost))) {
        const expected = theirs.get(keyword) ?? [];
        if (JSON.stringify(values) !== JSON.stringify(expected)) mismatches.push(`${where} ${keyword}: rxssh ${JSON.stringify(values)}, ssh -G ${JSON.stringify(expected)}\n${g.text}${g.extra.length ? `-o ${g.extra.join(' -o ')}\n` : ''}`);
        compared++;
      }
    });
    expect(mismatches.slice(0, 5)).toEqual([]);
    expect(compared).toBeGreaterThan(CONFIGS * ALIASES.length * 20);
    // Canonicalization happened on both sides: some names changed, and both sides refused the
    // same CanonicalizeFallbackLocal-no configs.
    const canonicalized = result.parity.filter(({ ours: h }, i) => (h as SshConfigHost).host?.endsWith('.test') && !(job.parity[i]?.alias ?? '').includes('.')).length;
    expect(canonicalized).toBeGreaterThan(20);
    expect(refusedByBoth).toBeGreaterThan(0);
    expect(run.queries).toContain('web1.corp.test. A');

    const [viaRxssh, viaSsh, unresolved, off] = result.commands;
    expect(viaRxssh?.stdout, viaRxssh?.stderr).toBe('canonical-ok\n');
    expect(viaRxssh?.status).toBe(0);
    expect(viaSsh?.stdout, viaSsh?.stderr).toBe('ssh-ok\n');
    expect(unresolved?.status).not.toBe(0);
    expect(unresolved?.stderr).toMatch(/Could not resolve host "nohost".*canonicalizefallbacklocal|canonicalizefallbacklocal.*Could not resolve host "nohost"/is);
    // Without canonicalization, web1 is not a name this resolver knows: the connection fails.
    expect(off?.status).toBe(255);
    expect(off?.stdout).toBe('');
  });
});
