/**
 * OpenSSH known_hosts: parsing and matching (plain, hashed, patterns, negation, `[host]:port`,
 * markers), the `knownHosts()` verify policy and `acceptNew()` (StrictHostKeyChecking
 * accept-new) with safe, atomic appends. Host certificates are judged in host-certificates.ts.
 *
 * @module
 */
import { homedir } from 'node:os';
import { revokedBy, type Revocation } from './revoked-keys.js';
import { HostCertificateError, HostKeyMismatchError, HostKeyRevokedError, HostKeyUnknownError, setKnownTypes, setUnknownHostContext } from '../errors.js';
import type { HostKeyPolicy } from './host-key.js';
import type { HostKeyInfo } from './transport.js';
import { KNOWN_KEY_TYPES } from './known-types.js';
import { hostKeyLearnerOf, setHostKeyLearner } from './registry.js';
import { describeHostKey } from './host-key-info.js';
import { indexOf } from './known-hosts-store.js';
import { hostKeyContext, judgeCertificate, plainKeyOf } from './host-certificates.js';
import { type KnownHostsEntry, parseKnownHosts, knownHostsName, hashHostName, type KnownHostVerdict, type UnknownHostVerdict, type KnownHostsVerdict, lookupKnownHost, knownKeyTypes } from './known-hosts-lookup.js';
import { serialized, withFileLock, appendLine } from './known-hosts-writer.js';
import { addressLines, addressToCheck, judgeAddress } from './check-host-ip.js';
import { checkKnownHostsConfig, type AcceptNewConfig, type KnownHostsConfig } from './known-hosts-config.js';

export { type KnownHostsEntry, parseKnownHosts, knownHostsName, hostMatches, hashHostName, type KnownHostVerdict, type BadHostVerdict, type UnknownHostVerdict, type KnownHostsVerdict, lookupKnownHost, knownKeyTypes } from './known-hosts-lookup.js';
export { recordHostKey } from './known-hosts-writer.js';
export type { CheckHostIpConfig } from './check-host-ip.js';
export type { AcceptNewConfig, KnownHostsConfig } from './known-hosts-config.js';

function defaultFiles(): string[] {
  return [`${homedir()}/.ssh/known_hosts`, '/etc/ssh/ssh_known_hosts'];
}

async function lookup(files: readonly string[], key: HostKeyInfo): Promise<KnownHostsVerdict> {
  const index = await indexOf(files, parseKnownHosts);
  return lookupKnownHost(index.candidates([knownHostsName(key.host, key.port), key.host]), key.host, key.port, key.key);
}

/** Throws {@link HostKeyRevokedError} when the `RevokedHostKeys` file revokes the key (or cannot be read). */
function checkRevoked(file: string | undefined, key: HostKeyInfo): void {
  if (file === undefined) return;
  let found: Revocation | undefined;
  try {
    found = revokedBy(file, key.key);
  } catch (err) {
    found = { where: file, why: `the revoked keys file cannot be used (${(err as Error).message}), so no key is trusted` };
  }
  if (!found) return;
  const [, path = found.where, line = '0'] = /^(.*?)(?::(\d+))?$/.exec(found.where) ?? [];
  throw new HostKeyRevokedError({ file: path, line: Number(line), key: key.key }, key.fingerprint, hostKeyContext(key), found.why);
}

/** Throws for a revoked or changed key; resolves with the verdict otherwise. */
async function judge(files: readonly string[], key: HostKeyInfo, config: KnownHostsConfig): Promise<KnownHostVerdict | UnknownHostVerdict> {
  checkRevoked(config.revokedHostKeys, key);
  if (key.type.endsWith('-cert-v01@openssh.com')) {
    try {
      await judgeCertificate(files, key, config.caSignatureAlgorithms);
    } catch (err) {
      // As ssh: a certificate that does not pass ("Certificate invalid: expired", no matching
      // CA) is checked again as the plain key it certifies, which known_hosts may list. The
      // exchange was signed by that same key. A revoked one is not.
      if (!(err instanceof HostCertificateError) || err.reason === 'revoked') throw err;
      const plain = plainKeyOf(key);
      const verdict = plain && (await lookup(files, plain));
      if (verdict?.kind === 'known') return verdict;
      if (verdict?.kind === 'revoked') throw new HostKeyRevokedError(verdict.entry, plain?.fingerprint ?? key.fingerprint, hostKeyContext(key));
      throw err;
    }
    return { kind: 'known', entry: { file: '', line: 0, marker: 'cert-authority', hosts: key.host, keyType: key.type, key: key.key } };
  }
  const verdict = await lookup(files, key);
  if (verdict.kind === 'known' || verdict.kind === 'unknown') return verdict;
  if (verdict.kind === 'revoked') throw new HostKeyRevokedError(verdict.entry, key.fingerprint, hostKeyContext(key));
  throw new HostKeyMismatchError(verdict.entry, key.fingerprint, hostKeyContext(key));
}

function otherTypes(verdict: UnknownHostVerdict): string {
  return [...new Set(verdict.otherKeys.map((e) => e.keyType))].join(', ');
}

/**
 * Verifies host keys against OpenSSH known_hosts files, like `StrictHostKeyChecking yes`.
 *
 * @remarks
 * Rejects with {@link HostKeyUnknownError} (no entry for the host and key type),
 * {@link HostKeyMismatchError} (a different key of the same type) or
 * {@link HostKeyRevokedError} (`@revoked`). Hosts on a non-22 port are looked up as
 * `[host]:port` (host names lower-cased, as OpenSSH does). Files are parsed once per version: a
 * verification `stat`s them and re-reads only a file that changed, so edits take effect at once.
 * A host certificate is trusted through a matching `@cert-authority` line (one without a port
 * applies on every port, as in `ssh`); a certificate that fails its checks is tried again as the
 * plain key it certifies, which known_hosts may list (as `ssh` does), unless it is revoked.
 *
 * @example
 * ```ts
 * import { connect, verifyHostKey, knownHosts } from 'rxssh';
 *
 * connect({ host: 'example.org', username: 'me' }).pipe(verifyHostKey(knownHosts()));
 * ```
 */
export function knownHosts(config: KnownHostsConfig = {}): HostKeyPolicy {
  checkKnownHostsConfig('knownHosts()', config, false);
  const files = config.files ?? defaultFiles();
  if (!Array.isArray(files) || files.some((f) => typeof f !== 'string')) throw new TypeError('knownHosts(): files must be paths');
  return withKnownTypes(files, config, async (key, address) => {
    const verdict = await judge(files, key, config);
    if (verdict.kind === 'known') return acceptKnown(files, config, key, verdict, address);
    const others = verdict.otherKeys.length ? ` (the host is known only by ${otherTypes(verdict)} keys)` : '';
    const error = new HostKeyUnknownError(`Host key ${key.fingerprint} for ${knownHostsName(key.host, key.port)} is not known${others}`, key.fingerprint, hostKeyContext(key));
    throw setUnknownHostContext(error, files, key.openssh);
  });
}

/**
 * A known key accepted, after CheckHostIP's look at its address (a different key recorded for
 * the address fails; an address not recorded yet is appended, under the file's lock).
 */
async function acceptKnown(files: readonly string[], config: KnownHostsConfig, key: HostKeyInfo, verdict: KnownHostVerdict, address: string | undefined): Promise<true> {
  const file = config.checkHostIp?.file;
  if (address !== undefined && (await judgeAddress(files, key, address)) === 'new' && file !== undefined) {
    await serialized(file, () =>
      withFileLock(file, async () => {
        if ((await judgeAddress(files, key, address)) === 'new') await appendLine(file, addressLines(key, [address], config.checkHostIp?.hash !== false));
      }),
    );
  }
  return learnLater(files, config, key, verdict);
}

/**
 * A known key accepted: with `updateHostKeys`, and when a plain line of that file matched (not a
 * certificate, not another file), the host's other keys may be learned after login. True.
 */
function learnLater(files: readonly string[], config: KnownHostsConfig, key: HostKeyInfo, verdict: KnownHostVerdict): true {
  const update = config.updateHostKeys;
  if (update && verdict.entry.marker === undefined && verdict.entry.file === update.file && !key.type.endsWith('-cert-v01@openssh.com')) {
    setHostKeyLearner(key, (keys) => void learnHostKeys(files, config, update.file, key, keys).catch(() => undefined));
  }
  return true;
}

/** Appends the proven keys of a host that `file` does not know yet (UpdateHostKeys). */
async function learnHostKeys(files: readonly string[], config: KnownHostsConfig, file: string, accepted: HostKeyInfo, keys: readonly Buffer[]): Promise<void> {
  for (const blob of keys) {
    const info = describeHostKey(blob, accepted.host, accepted.port);
    if (info.type.endsWith('-cert-v01@openssh.com')) continue;
    await serialized(file, () =>
      withFileLock(file, async () => {
        const verdict = await judge(files, info, config).catch(() => undefined);
        // Known already, revoked, or known by another key of this type: nothing to learn.
        if (!verdict || verdict.kind === 'known' || verdict.otherKeys.some((e) => e.keyType === info.type)) return true;
        const name = knownHostsName(accepted.host, accepted.port);
        await appendLine(file, `${config.updateHostKeys?.hash === false ? name : hashHostName(name)} ${info.openssh}\n`);
        return true;
      }),
    );
  }
}

/**
 * Gives a known_hosts policy what `connect` needs to prefer the key types already known for a
 * host (as OpenSSH orders its host-key algorithms by known_hosts).
 */
function withKnownTypes(files: readonly string[], config: KnownHostsConfig, policy: (key: HostKeyInfo, address: string | undefined) => Promise<boolean>): HostKeyPolicy {
  const alias = config.hostKeyAlias;
  const typesFor = async (host: string, port: number): Promise<string[]> => {
    const [h, p] = alias === undefined ? [host, port] : [alias, 22];
    const index = await indexOf(files, parseKnownHosts);
    return knownKeyTypes(index.candidates([knownHostsName(h, p), h]), h, p);
  };
  const aliased = async (key: HostKeyInfo): Promise<boolean> => {
    // The address is named with the port connected to, whatever name the host's key is filed under.
    const address = addressToCheck(key, config.checkHostIp);
    try {
      if (alias === undefined) return await policy(key, address);
      const named = { ...key, host: alias, port: 22 };
      const ok = await policy(named, address);
      const learn = hostKeyLearnerOf(named);
      if (learn) setHostKeyLearner(key, learn);
      return ok;
    } catch (err) {
      // Unknown, or known by a key of another type: say which types are known, so that
      // verifyHostKey can have the connection ask for those first (the error travels with the
      // verdict, through any wrapper a user puts around this policy).
      if (err instanceof HostKeyUnknownError || err instanceof HostKeyMismatchError) setKnownTypes(err, await typesFor(key.host, key.port).catch(() => []));
      throw err;
    }
  };
  return Object.assign(aliased, { [KNOWN_KEY_TYPES]: typesFor });
}

/**
 * Trust on first use, like OpenSSH's `StrictHostKeyChecking accept-new`: an unknown host's key
 * is accepted and appended to the known_hosts file (hashed by default); a changed or revoked
 * key still fails, and so does a host known only by keys of other types (a host with any known
 * key is never new: {@link HostKeyMismatchError}, OpenSSH's "REMOTE HOST IDENTIFICATION HAS
 * CHANGED").
 *
 * @remarks
 * Learning is serialized per file, within the process and (through `FILE.lock`, created
 * exclusively) across processes, and the verdict is taken again inside: of two first
 * connections that saw different keys, the second finds the first's entry and fails with
 * {@link HostKeyMismatchError}; many connections of one fan-out that see the same key add one
 * line. Each line is one `write()` on a file opened with `O_APPEND`, after a newline when the
 * file's last line lacks one. A new file is created with mode 0600; an existing file keeps its
 * mode.
 *
 * @example
 * ```ts
 * import { connect, verifyHostKey, acceptNew } from 'rxssh';
 *
 * connect({ host: 'new-box', username: 'me' }).pipe(verifyHostKey(acceptNew()));
 * ```
 */
export function acceptNew(config: AcceptNewConfig = {}): HostKeyPolicy {
  checkKnownHostsConfig('acceptNew()', config, true);
  const files = config.files ?? defaultFiles();
  const target = config.learnTo ?? files[0];
  if (!target) throw new TypeError('acceptNew(): no file to learn keys into');
  const hash = config.hash ?? true;
  const refuseChanged = (key: HostKeyInfo, verdict: UnknownHostVerdict): never => {
    const known = verdict.otherKeys[0] as KnownHostsEntry;
    throw new HostKeyMismatchError(
      known,
      key.fingerprint,
      hostKeyContext(key),
      `REMOTE HOST IDENTIFICATION HAS CHANGED: ${knownHostsName(key.host, key.port)} is known by its ${otherTypes(verdict)} key (${known.file}:${known.line}), the server offered a ${key.type} key ${key.fingerprint}; not learned`,
    );
  };
  return withKnownTypes(files, config, async (key, address) => {
    const first = await judge(files, key, config);
    if (first.kind === 'known') return acceptKnown(files, config, key, first, address);
    if (first.otherKeys.length) refuseChanged(key, first);
    // CheckHostIP: a different key on record for the address refuses the host before it is learned.
    // Learning is serialized per file (in this process, and across processes by a lock file):
    // the verdict is taken again inside, so of two first connections that saw different keys
    // the second finds the first's entry and fails as a mismatch.
    return serialized(target, () =>
      withFileLock(target, async () => {
        const verdict = await judge(files, key, config);
        if (verdict.kind === 'known') return true;
        if (verdict.otherKeys.length) refuseChanged(key, verdict);
        const name = knownHostsName(key.host, key.port);
        const withAddress = address !== undefined && (await judgeAddress(files, key, address)) === 'new' && config.checkHostIp?.file === target;
        await appendLine(target, addressLines(key, withAddress ? [name, address] : [name], hash));
        return true;
      }),
    );
  });
}
