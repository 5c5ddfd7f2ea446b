/**
 * `CanonicalizeHostname`, as ssh.c's resolve_canonicalize does it: an address is written in its
 * usual form; a name with at most `CanonicalizeMaxDots` dots is tried with each of
 * `CanonicalDomains` (`NAME.DOMAIN.`, the first that resolves wins, `none` ends the list); a name
 * ending in a dot is resolved as it is; a name behind `ProxyJump` or `ProxyCommand` is left to
 * the proxy unless the mode is `always`. When nothing resolves, the name stays as it is
 * (`CanonicalizeFallbackLocal yes`, the default) or the config is refused.
 */
import { isIPv6 } from 'node:net';
import { systemNameLookup, type NameLookup } from './name-lookup.js';

/**
 * The canonical name of `host` (the HostName, lower-cased); undefined when
 * `CanonicalizeHostname` is off; null when no name resolved and `CanonicalizeFallbackLocal no`
 * forbids going on. `setting` gives the first pass's arguments of a keyword.
 */
export function canonicalHost(host: string, setting: (keyword: string) => readonly string[] | undefined, lookup: NameLookup = systemNameLookup): string | null | undefined {
  const first = (keyword: string): string | undefined => setting(keyword)?.[0]?.toLowerCase();
  const mode = first('canonicalizehostname') ?? 'no';
  if (mode === 'no' || mode === 'false') return undefined;
  const family = lookupFamily(setting);
  const numeric = addressForm(host, family);
  if (numeric !== undefined) return numeric;
  // Looks like an address but is none (a scope, a bad IPv4): left as it is.
  if (/[%:]/.test(host) || /^[0-9.]+$/.test(host)) return host;
  // As ssh.c: a ProxyCommand of none is no proxy, but any ProxyJump, `none` too, is one.
  const command = first('proxycommand');
  const proxied = (command !== undefined && command !== 'none') || first('proxyjump') !== undefined;
  if (proxied && mode !== 'always') return host;
  if (host.endsWith('.')) {
    if (lookup(host, family)) return host.slice(0, -1);
  } else {
    const maxDots = Number(first('canonicalizemaxdots') ?? 1);
    if ((host.match(/\./g) ?? []).length > maxDots) return host;
    // As ssh's valid_domain leaves them: lower-cased, without a trailing dot.
    for (const domain of (setting('canonicaldomains') ?? []).map((d) => d.toLowerCase().replace(/\.$/, ''))) {
      if (domain === 'none') break;
      if (lookup(`${host}.${domain}.`, family)) return `${host}.${domain}`;
    }
  }
  const fallback = first('canonicalizefallbacklocal');
  return fallback === 'no' || fallback === 'false' ? null : host;
}

/** ssh_config's `AddressFamily` as a lookup family (0: any); a bad value is refused later, by the host's settings. */
export function lookupFamily(setting: (keyword: string) => readonly string[] | undefined): 0 | 4 | 6 {
  return ({ inet: 4, inet6: 6 } as const)[setting('addressfamily')?.[0]?.toLowerCase() as 'inet'] ?? 0;
}

/**
 * An address literal in the form getnameinfo writes it (`127.1` → `127.0.0.1`, `::0001` →
 * `::1`), or undefined when `host` is not one of `family`. Scoped IPv6 addresses are left alone.
 * ssh writes addresses so whether or not it canonicalizes names.
 */
export function addressForm(host: string, family: 0 | 4 | 6): string | undefined {
  if (family !== 6) {
    const v4 = inetAton(host);
    if (v4 !== undefined) return v4;
  }
  if (family !== 4 && !host.includes('%') && isIPv6(host)) return new URL(`http://[${host}]/`).hostname.slice(1, -1);
  return undefined;
}

/** inet_aton's forms (`a`, `a.b`, `a.b.c`, `a.b.c.d`; decimal, `0` octal, `0x` hex), dotted-quad. */
function inetAton(text: string): string | undefined {
  const parts = text.split('.');
  if (parts.length > 4 || !parts.every((p) => /^(0x[0-9a-f]+|0[0-7]*|[1-9][0-9]*)$/i.test(p))) return undefined;
  const nums = parts.map((p) => (/^0x/i.test(p) ? parseInt(p.slice(2), 16) : p.length > 1 && p.startsWith('0') ? parseInt(p, 8) : Number(p)));
  const last = nums.pop() as number;
  if (nums.some((n) => n > 255) || last >= 2 ** (8 * (4 - nums.length))) return undefined;
  let value = 0;
  nums.forEach((n, i) => (value += n * 2 ** (8 * (3 - i))));
  value += last;
  return [24, 16, 8, 0].map((shift) => Math.floor(value / 2 ** shift) % 256).join('.');
}
