/**
 * CanonicalizeHostname with a lookup of the spec's own (no resolver is asked): which names are
 * tried, in what order, and what the config reads after. The same rules against ssh -G and a
 * real resolver: spec/integration/canonicalize.spec.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SshConfigError, fromSshConfig, type NameLookup } from '../../lib/index.js';

const dir = mkdtempSync(join(tmpdir(), 'rxssh-canon-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const CONFIG = join(dir, 'config');
writeFileSync(
  CONFIG,
  [
    'CanonicalizeHostname yes',
    'CanonicalDomains corp.test lab.test',
    'Host *.corp.test',
    '  User corp',
    'Match canonical host *.lab.test',
    '  Port 2202',
    'Host behind',
    '  ProxyJump gw',
    '',
  ].join('\n'),
);

/** A lookup that knows `names` (with the trailing dot, as ssh asks) and records what it was asked. */
function zone(...names: string[]): NameLookup & { asked: string[] } {
  const asked: string[] = [];
  const lookup = Object.assign((name: string, family: 0 | 4 | 6) => {
    asked.push(family === 0 ? name : `${name}/${family}`);
    return names.includes(name);
  }, { asked });
  return lookup;
}

const resolve = (alias: string, lookup: NameLookup, extra: string[] = []) => fromSshConfig(alias, { file: CONFIG, systemFile: null, home: dir, localUser: 'me', lookup, extra });

describe('CanonicalizeHostname', () => {
  it('tries each domain in order, takes the first that resolves, and reads the config again for it', () => {
    const lookup = zone('web1.lab.test.', 'web1.corp.test.');
    const h = resolve('web1', lookup);
    expect(lookup.asked).toEqual(['web1.corp.test.']);
    expect([h.host, h.username, h.port]).toEqual(['web1.corp.test', 'corp', 22]);
    const lab = zone('db.lab.test.');
    const d = resolve('db', lab);
    expect(lab.asked).toEqual(['db.corp.test.', 'db.lab.test.']);
    expect([d.host, d.username, d.port]).toEqual(['db.lab.test', 'me', 2202]);
  });

  it('keeps a name nothing resolves, and refuses it with CanonicalizeFallbackLocal no', () => {
    const lookup = zone();
    expect(resolve('nowhere', lookup).host).toBe('nowhere');
    expect(lookup.asked).toEqual(['nowhere.corp.test.', 'nowhere.lab.test.']);
    const err = (() => {
      try {
        resolve('nowhere', zone(), ['CanonicalizeFallbackLocal no']);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(SshConfigError);
    expect((err as SshConfigError).keyword).toBe('canonicalizefallbacklocal');
    expect((err as Error).message).toContain('Could not resolve host "nowhere"');
  });

  it('leaves names with more dots than CanonicalizeMaxDots, asks for an anchored name as it is, writes addresses in their usual form', () => {
    const lookup = zone('db.prod.eu.corp.test.', 'web1.');
    expect(resolve('db.prod.eu', lookup).host).toBe('db.prod.eu');
    expect(resolve('db.prod.eu', lookup, ['CanonicalizeMaxDots 2']).host).toBe('db.prod.eu.corp.test');
    expect(resolve('web1.', lookup).host).toBe('web1');
    expect(resolve('127.1', lookup).host).toBe('127.0.0.1');
    expect(resolve('::0001', lookup).host).toBe('::1');
    expect(resolve('0x7f.1', lookup).host).toBe('127.0.0.1');
    expect(lookup.asked).toEqual(['db.prod.eu.corp.test.', 'web1.']);
  });

  it('leaves a host behind ProxyJump or ProxyCommand to the proxy, unless always', () => {
    const lookup = zone('behind.corp.test.', 'other.corp.test.');
    expect(resolve('behind', lookup).host).toBe('behind');
    expect(resolve('other', lookup, ['ProxyCommand nc %h %p']).host).toBe('other');
    expect(lookup.asked).toEqual([]);
    expect(resolve('behind', lookup, ['CanonicalizeHostname always']).host).toBe('behind.corp.test');
  });

  it('asks for the AddressFamily only, stops at none, lower-cases the name as given, and never asks when off', () => {
    const lookup = zone('web1.lab.test.');
    expect(resolve('WEB1', lookup, ['AddressFamily inet6']).host).toBe('web1.lab.test');
    expect(lookup.asked).toEqual(['web1.corp.test./6', 'web1.lab.test./6']);
    const none = zone('web1.lab.test.');
    expect(resolve('web1', none, ['CanonicalDomains none']).host).toBe('web1');
    expect(none.asked).toEqual([]);
    // As ssh: none only alone; a domain name of characters a name cannot have is refused.
    expect(() => resolve('web1', none, ['CanonicalDomains corp.test none'])).toThrow(/"none" must appear alone/);
    expect(() => resolve('web1', none, ['CanonicalDomains corp..test'])).toThrow(/not valid/);
    expect(() => resolve('web1', none, ['CanonicalizeHostname maybe'])).toThrow(/yes, no or always/);
    const off = zone('web1.corp.test.');
    expect(resolve('web1', off, ['CanonicalizeHostname no']).host).toBe('web1');
    expect(off.asked).toEqual([]);
  });

  it('refuses CanonicalizePermittedCNAMEs, which it cannot follow', () => {
    expect(() => resolve('web1', zone(), ['CanonicalizePermittedCNAMEs *.corp.test:*.cdn.test'])).toThrow(/canonicalizepermittedcnames.*CNAME/i);
  });
});
