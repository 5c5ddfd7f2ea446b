/** The host-key policy an ssh_config host asks for (`StrictHostKeyChecking` and its companions). */
import type { HostKeyPolicy } from '../transport/host-key.js';
import { acceptNew, knownHosts } from '../transport/known-hosts.js';
import type { SshConfigHost } from './ssh-config.js';

function one(value: string | readonly string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : (value as string | undefined);
}

/**
 * The host-key policy that `StrictHostKeyChecking` asks for: `yes` and `ask` verify against
 * the known_hosts files (rxssh never prompts: `ask` rejects unknown hosts), `accept-new` learns
 * unknown hosts into the first `UserKnownHostsFile`, `no` does the same (OpenSSH would even
 * accept a changed key; rxssh does not). Learned lines name the host hashed with
 * `HashKnownHosts yes`, plainly otherwise, as ssh writes them. `CheckHostIP yes` checks the
 * server's address too and records it (a different key for the address fails in every mode;
 * ssh would only warn with `no`).
 *
 * @example
 * ```ts
 * import { fromSshConfig, hostKeyPolicyFor, verifyHostKey } from 'rxssh';
 *
 * verifyHostKey(hostKeyPolicyFor(fromSshConfig('db')));
 * ```
 */
export function hostKeyPolicyFor(host: SshConfigHost): HostKeyPolicy {
  const files = [...host.userKnownHostsFiles, ...host.globalKnownHostsFiles];
  const alias = one(host.raw['hostkeyalias']);
  const aliasOption = {
    ...(alias && alias.toLowerCase() !== 'none' ? { hostKeyAlias: alias } : {}),
    ...(host.revokedHostKeys !== undefined ? { revokedHostKeys: host.revokedHostKeys } : {}),
    ...(host.caSignatureAlgorithms !== undefined ? { caSignatureAlgorithms: host.caSignatureAlgorithms } : {}),
    // UpdateHostKeys yes: the host's other keys are learned into the first user file after a
    // login its key in that file let through (ask would prompt: rxssh never does, so it learns nothing).
    ...(/^(yes|true)$/i.test(one(host.raw['updatehostkeys']) ?? '') && host.userKnownHostsFiles[0] ? { updateHostKeys: { file: host.userKnownHostsFiles[0], hash: host.hashKnownHosts } } : {}),
    // CheckHostIP yes: the address is checked in every file and recorded in the first user file.
    ...(host.checkHostIp ? { checkHostIp: { ...(host.userKnownHostsFiles[0] ? { file: host.userKnownHostsFiles[0] } : {}), hash: host.hashKnownHosts } } : {}),
  };
  if (host.strictHostKeyChecking === 'accept-new' || host.strictHostKeyChecking === 'no') {
    return acceptNew({ files, ...aliasOption, hash: host.hashKnownHosts, ...(host.userKnownHostsFiles[0] ? { learnTo: host.userKnownHostsFiles[0] } : {}) });
  }
  return knownHosts({ files, ...aliasOption });
}
