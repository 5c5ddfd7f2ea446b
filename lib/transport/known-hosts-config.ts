/** What `knownHosts()` and `acceptNew()` take, and the check of it. */
import type { CheckHostIpConfig } from './check-host-ip.js';
import { checkOptions, optionNames } from '../util/check.js';

/**
 * Options of {@link knownHosts} and {@link acceptNew}.
 *
 * @example
 * ```ts
 * import { knownHosts } from 'rxssh';
 *
 * knownHosts({ files: ['/etc/ssh/ssh_known_hosts', './known_hosts'] });
 * ```
 */
export interface KnownHostsConfig {
  /** The files to read, in order (default `~/.ssh/known_hosts` and `/etc/ssh/ssh_known_hosts`). */
  readonly files?: readonly string[];
  /**
   * The name to look the host up by instead of the one given to `connect` (ssh_config
   * `HostKeyAlias`): known_hosts lines, learned lines and host-certificate principals use it,
   * without a port.
   */
  readonly hostKeyAlias?: string;
  /**
   * A file of revoked host keys (ssh_config `RevokedHostKeys`): a KRL made by `ssh-keygen -k`,
   * or public keys one per line. A key it revokes — or a certificate revoked by serial, key
   * ID, its CA or its own key — fails with {@link HostKeyRevokedError} before anything else is
   * checked or learned; a file that cannot be read fails every key (closed, as `ssh` does).
   */
  readonly revokedHostKeys?: string;
  /**
   * The signature algorithms a host certificate's CA may have signed with (ssh_config
   * `CASignatureAlgorithms`; default OpenSSH's: Ed25519, ECDSA, and RSA with SHA-2 only, so a
   * CA signature made with SHA-1 `ssh-rsa` is refused).
   */
  readonly caSignatureAlgorithms?: readonly string[];
  /**
   * ssh_config `UpdateHostKeys`: after a login whose plain host key matched a line of this file,
   * the host's other keys (those that prove themselves: `hostkeys-prove-00@openssh.com`) are
   * appended to it, serialized and locked like `acceptNew`. Never after a certificate or a
   * match in another file (a global one), never a key of a type the host is known by with
   * another key; nothing is removed.
   */
  readonly updateHostKeys?: {
    /** The known_hosts file whose matching line allows learning, and where keys are appended. */
    readonly file: string;
    /** Hash the host name of appended lines, like `HashKnownHosts yes` (default true). */
    readonly hash?: boolean;
  };
  /**
   * ssh_config `CheckHostIP yes`: the server's IP address (when rxssh connected to it directly,
   * not on loopback, not given as the host) is looked up too. Another key of the same type
   * recorded for the address fails with {@link HostKeyMismatchError} (possible DNS spoofing),
   * in every mode; an address not recorded yet is appended to `file` once the host's key is
   * accepted, as ssh does (with a newly learned host, on the same line when not hashed).
   */
  readonly checkHostIp?: CheckHostIpConfig;
}

/**
 * Options of {@link acceptNew}.
 *
 * @example
 * ```ts
 * import { acceptNew } from 'rxssh';
 *
 * acceptNew({ files: ['./known_hosts'], learnTo: './known_hosts', hash: false });
 * ```
 */
export interface AcceptNewConfig extends KnownHostsConfig {
  /** Where learned keys are appended (default: the first of `files`). */
  readonly learnTo?: string;
  /** Hash the host names of appended lines, like `HashKnownHosts yes` (default true). */
  readonly hash?: boolean;
}

const NAMES = {
  knownHosts: optionNames<KnownHostsConfig>()(['files', 'hostKeyAlias', 'revokedHostKeys', 'caSignatureAlgorithms', 'updateHostKeys', 'checkHostIp']),
  acceptNew: optionNames<AcceptNewConfig>()(['files', 'hostKeyAlias', 'revokedHostKeys', 'caSignatureAlgorithms', 'updateHostKeys', 'checkHostIp', 'learnTo', 'hash']),
  updateHostKeys: optionNames<NonNullable<KnownHostsConfig['updateHostKeys']>>()(['file', 'hash']),
  checkHostIp: optionNames<CheckHostIpConfig>()(['file', 'hash']),
};

/** Refuses an option `knownHosts()` (or, with `learning`, `acceptNew()`) does not take, here or in its nested settings. @internal */
export function checkKnownHostsConfig(what: string, config: AcceptNewConfig, learning: boolean): void {
  checkOptions(what, config, learning ? NAMES.acceptNew : NAMES.knownHosts);
  checkOptions(`${what}: updateHostKeys`, config.updateHostKeys, NAMES.updateHostKeys);
  checkOptions(`${what}: checkHostIp`, config.checkHostIp, NAMES.checkHostIp);
}
