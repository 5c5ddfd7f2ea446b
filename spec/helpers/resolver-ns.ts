/**
 * Runs a command where names resolve from a zone of the spec's own: a new network and mount
 * namespace (`unshare -mn`: its own loopback, nothing outside it reachable), `/etc/resolv.conf`
 * bind-mounted there only to point at 127.0.0.1, and spec/helpers/dns-server.ts answering on
 * port 53 of that loopback. Nothing of the machine changes; the namespace ends with the command.
 * Needs root (unshare, mount) and iproute2's `ip`.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Zone } from './dns-server.js';

const ROOT = new URL('../../', import.meta.url).pathname;

/** Why the namespace cannot be made here, or undefined when it can. */
export function resolverNamespaceUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'a resolver namespace needs root (unshare -mn, mount --bind)';
  for (const tool of ['/usr/bin/unshare', '/usr/sbin/ip']) if (!existsSync(tool) && !existsSync(tool.replace('/usr', ''))) return `${tool} is missing (util-linux, iproute2)`;
  return undefined;
}

const SCRIPT = `
dir=$1; shift
ip link set lo up || exit 90
mount --bind "$dir/resolv.conf" /etc/resolv.conf || exit 91
"$NODE" --import tsx spec/helpers/dns-server.ts "$dir/zone.json" "$dir/queries.log" "$dir/dns-ready" &
dns=$!
trap 'kill $dns 2>/dev/null' EXIT
i=0
while [ ! -e "$dir/dns-ready" ]; do
  i=$((i + 1)); [ $i -gt 400 ] && exit 92
  kill -0 $dns 2>/dev/null || exit 93
  sleep 0.05
done
"$@"
`;

/** Runs `argv` in a fresh namespace whose resolver answers from `zone`; `dir` holds its files. */
export function inResolverNamespace(dir: string, zone: Zone, argv: readonly string[], timeout = 240_000): SpawnSyncReturns<string> & { queries: string[] } {
  writeFileSync(join(dir, 'resolv.conf'), 'nameserver 127.0.0.1\noptions timeout:2 attempts:2\n');
  writeFileSync(join(dir, 'zone.json'), JSON.stringify(zone));
  writeFileSync(join(dir, 'queries.log'), '');
  const r = spawnSync('unshare', ['-mn', 'sh', '-c', SCRIPT, 'sh', dir, ...argv], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout,
    env: { ...process.env, NODE: process.execPath },
    maxBuffer: 64 * 1024 * 1024,
  });
  const queries = readFileSync(join(dir, 'queries.log'), 'utf8').split('\n').filter(Boolean);
  return Object.assign(r, { queries });
}
