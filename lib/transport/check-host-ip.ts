/**
 * ssh_config `CheckHostIP yes`, as OpenSSH's sshconnect.c does it: besides the host's name, its
 * IP address is looked up in known_hosts. A different key recorded for the address is refused
 * (ssh: "differs from the key for the IP address", possible DNS spoofing); an address not
 * recorded yet is added beside a key that was accepted. Not checked, as ssh: on a loopback
 * address, when the name is the address, through a jump host or a ProxyCommand (no address),
 * for a host certificate.
 */
import { HostKeyMismatchError } from '../errors.js';
import { hostKeyContext } from './host-certificates.js';
import { hashHostName, knownHostsName, lookupKnownHost, parseKnownHosts } from './known-hosts-lookup.js';
import { indexOf } from './known-hosts-store.js';
import type { HostKeyInfo } from './transport.js';

/**
 * `CheckHostIP yes` for {@link knownHosts} and {@link acceptNew}.
 *
 * @example
 * ```ts
 * import { knownHosts } from 'rxssh';
 *
 * knownHosts({ files: ['./known_hosts'], checkHostIp: { file: './known_hosts', hash: false } });
 * ```
 */
export interface CheckHostIpConfig {
  /** Where an address not recorded yet is added (ssh's first `UserKnownHostsFile`); none: only checked. */
  readonly file?: string;
  /** Hash the address of added lines, like `HashKnownHosts yes` (default true). */
  readonly hash?: boolean;
}

/** The known_hosts name of the server's address when CheckHostIP applies to this key, else undefined. */
export function addressToCheck(key: HostKeyInfo, config: CheckHostIpConfig | undefined): string | undefined {
  const ip = key.address?.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
  if (config === undefined || ip === undefined || ip === '' || key.type.endsWith('-cert-v01@openssh.com')) return undefined;
  if (/^127\./.test(ip) || ip === '::1' || ip.toLowerCase() === key.host.toLowerCase()) return undefined;
  return knownHostsName(ip, key.port);
}

/**
 * What the files say of the address: `known` (this key), `new` (no key of this type), or a
 * refusal ({@link HostKeyMismatchError}) when another key of this type is recorded for it.
 * Looked up by the address's exact name (`[ip]:port` off port 22), as ssh does.
 */
export async function judgeAddress(files: readonly string[], key: HostKeyInfo, name: string): Promise<'known' | 'new'> {
  const index = await indexOf(files, parseKnownHosts);
  // Port 22 with the name as written: no look-up without the port, which ssh does for names only.
  const verdict = lookupKnownHost(index.candidates([name]), name, 22, key.key);
  if (verdict.kind === 'known') return 'known';
  if (verdict.kind !== 'mismatch') return 'new';
  const { entry } = verdict;
  throw new HostKeyMismatchError(
    entry,
    key.fingerprint,
    hostKeyContext(key),
    `The ${key.type} host key for ${knownHostsName(key.host, key.port)} differs from the key for its IP address ${name} (${entry.file}:${entry.line}): possible DNS spoofing (CheckHostIP)`,
  );
}

/** The known_hosts line(s) that record the address, alone or with the host (`host,ip` plainly; one hashed line each). */
export function addressLines(key: HostKeyInfo, names: readonly string[], hash: boolean): string {
  return hash ? names.map((n) => `${hashHostName(n)} ${key.openssh}\n`).join('') : `${names.join(',')} ${key.openssh}\n`;
}
