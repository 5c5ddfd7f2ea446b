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
 * unknown hosts into the first `UserKnownHostsFile` (with `UserKnownHostsFile none` there is none,
 * so an unknown host fails, as with ssh), `no` does the same (OpenSSH would even
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
  // `none` (alone, as ssh requires) means no such files: nothing read there, nothing learned there.
  const real = (files: readonly string[]): string[] => files.filter((f) => f.toLowerCase() !== 'none');
  const userFiles = real(host.userKnownHostsFiles);
  const files = [...userFiles, ...real(host.globalKnownHostsFiles)];
  const alias = one(host.raw['hostkeyalias']);
  const aliasOption = {
    ...(alias && alias.toLowerCase() !== 'none' ? { hostKeyAlias: alias } : {}),
    ...(host.revokedHostKeys !== undefined ? { revokedHostKeys: host.revokedHostKeys } : {}),
    ...(host.caSignatureAlgorithms !== undefined ? { caSignatureAlgorithms: host.caSignatureAlgorithms } : {}),
    // UpdateHostKeys yes: the host's other keys are learned into the first user file after a
    // login its key in that file let through (ask would prompt: rxssh never does, so it learns nothing).
    ...(/^(yes|true)$/i.test(one(host.raw['updatehostkeys']) ?? '') && userFiles[0] ? { updateHostKeys: { file: userFiles[0], hash: host.hashKnownHosts } } : {}),
    // CheckHostIP yes: the address is checked in every file and recorded in the first user file.
    ...(host.checkHostIp ? { checkHostIp: { ...(userFiles[0] ? { file: userFiles[0] } : {}), hash: host.hashKnownHosts } } : {}),
  };
  // Learning needs a user file: with `UserKnownHostsFile none` an unknown host fails, as with ssh.
  if ((host.strictHostKeyChecking === 'accept-new' || host.strictHostKeyChecking === 'no') && userFiles[0]) {
    return acceptNew({ files, ...aliasOption, hash: host.hashKnownHosts, learnTo: userFiles[0] });
  }
  return knownHosts({ files, ...aliasOption });
}
