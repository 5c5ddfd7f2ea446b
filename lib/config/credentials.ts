/**
 * The credentials an ssh_config host gives, as OpenSSH offers them: the agent (or
 * `IdentityAgent`), then each identity's certificate and key; encrypted keys with a passphrase
 * source, unreadable ones reported.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { certificateFor } from '../auth/certificate.js';
import { utils } from '../ssh2/index.js';
import { rsaBitsOf } from '../util/key-blob.js';
import { agent, agentCertificate, privateKey, type AuthProvider } from '../auth/auth.js';
import type { AddToAgentConfig } from '../auth/keys.js';
import { type SshConfigHost } from './ssh-config.js';
import { checkOptions, optionNames } from '../util/check.js';

/**
 * Options of {@link credentialsFor}: what a command line adds to a host's own identities.
 *
 * @example
 * ```ts
 * const config: CredentialsForConfig = { identities: ['./deploy_key'], passphrase: (file) => ask(`Passphrase for ${file}: `) };
 * ```
 */
export interface CredentialsForConfig {
  /** Identity files tried before the host's (`ssh -i`); one that is missing or not a key throws a TypeError. */
  readonly identities?: readonly string[];
  /** Certificate files to pair with the identities (besides `IDENTITY-cert.pub` and the host's `CertificateFile`s). */
  readonly certificates?: readonly string[];
  /** The agent's socket (default: `SSH_AUTH_SOCK`, read by `agent()`); `null`: no agent. */
  readonly agentSocket?: string | null;
  /**
   * Passphrases of encrypted keys, asked when the key is first used (again, with the attempt
   * number, while it is wrong: see `passphraseAttempts`); without it such keys are skipped.
   */
  readonly passphrase?: (file: string, attempt: number) => Promise<string>;
  /** How often a wrong passphrase is asked for again (default 1; `ssh` asks 3 times on a terminal). */
  readonly passphraseAttempts?: number;
  /** Told about each identity file passed over (`encrypted` without a passphrase source, `unreadable`, `rsa-too-small`, `permissions`: one of the user's own that others may read, which ssh refuses too). */
  readonly onSkip?: (file: string, why: 'encrypted' | 'unreadable' | 'rsa-too-small' | 'permissions', detail: string) => void;
  /** Told how adding an identity file's key to the agent went (`AddKeysToAgent`): no error when it was added. */
  readonly onAgentAdd?: (file: string, error?: Error) => void;
}

const CREDENTIALS_NAMES = optionNames<CredentialsForConfig>()(['identities', 'certificates', 'agentSocket', 'passphrase', 'passphraseAttempts', 'onSkip', 'onAgentAdd']);

/**
 * Credential providers for a resolved host, in OpenSSH's order: the agent (unless
 * `IdentitiesOnly`), then each identity file that exists (`config.identities` first), each
 * preceded by its certificate when there is one (`IDENTITY-cert.pub`, a `CertificateFile`, or
 * `config.certificates`; an encrypted key's is found through `IDENTITY.pub`). Encrypted keys
 * need `config.passphrase`; without it they are skipped (`onSkip` says so).
 *
 * @example
 * ```ts
 * import { fromSshConfig, credentialsFor, authenticate, password } from 'rxssh';
 *
 * authenticate(...credentialsFor(fromSshConfig('web')), password(() => ask('Password: ')));
 * ```
 */
export function credentialsFor(host: SshConfigHost, config: CredentialsForConfig = {}): AuthProvider[] {
  return scanCredentials(host, config).providers;
}

/** What {@link scanCredentials} found: the providers, and the identity files that gave some. */
export interface CredentialScan {
  /** The credentials to offer, in OpenSSH's order (agent, then each identity's certificate and key). */
  readonly providers: AuthProvider[];
  /** Whether the agent is among them. */
  readonly agent: boolean;
  /** Every identity file looked for, in order. */
  readonly files: readonly string[];
  /** The identity files that gave providers. */
  readonly used: readonly string[];
}

/**
 * {@link credentialsFor}, with what it looked at: every identity file looked for and those that
 * gave credentials, to explain an authentication failure ("tried ~/.ssh/id_ed25519").
 *
 * @example
 * ```ts
 * import { fromSshConfig, scanCredentials } from 'rxssh';
 *
 * const scan = scanCredentials(fromSshConfig('web1'));
 * console.log(`agent: ${scan.agent}, keys: ${scan.used.join(', ') || 'none'} of ${scan.files.join(', ')}`);
 * ```
 */
export function scanCredentials(host: SshConfigHost, config: CredentialsForConfig = {}): CredentialScan {
  checkOptions('credentialsFor()', config, CREDENTIALS_NAMES);
  const explicit = config.identities ?? [];
  // IdentityAgent in the config beats the caller's default socket, as in ssh.
  const socket = host.identityAgent !== undefined ? host.identityAgent : config.agentSocket;
  const useAgent = !host.identitiesOnly && socket !== null && socket !== '';
  const providers: AuthProvider[] = useAgent ? [agentCertificate(socket ?? undefined), agent(socket ?? undefined)] : [];
  const files = [...new Set([...explicit, ...host.identityFiles])];
  const used: string[] = [];
  // AddKeysToAgent: a key from a file that the server accepts goes to the agent, even with IdentitiesOnly (as ssh).
  const addSocket = socket === undefined ? process.env['SSH_AUTH_SOCK'] : socket;
  const toAgent = (file: string): { addToAgent?: AddToAgentConfig } =>
    host.addKeysToAgent && addSocket ? { addToAgent: { ...host.addKeysToAgent, socket: addSocket, added: (error?: Error) => config.onAgentAdd?.(file, error) } } : {};
  for (const file of files) {
    const given = explicit.includes(file);
    const text = identityText(file, given, config);
    if (text === undefined) continue;
    // An RSA key below RequiredRSASize is not offered, as ssh does not offer it.
    const bits = rsaBitsOfIdentity(file, text);
    const required = host.requiredRsaSize ?? 1024;
    if (bits !== undefined && bits < required) {
      config.onSkip?.(file, 'rsa-too-small', `RSA key of ${bits} bits is below RequiredRSASize ${required}`);
      continue;
    }
    // Its certificate first, then the key itself, as OpenSSH offers them.
    const certificate = identityCertificate(file, text, [...(config.certificates ?? []), `${file}-cert.pub`, ...host.certificateFiles]);
    if (isEncryptedKey(text)) {
      const ask = config.passphrase;
      if (!ask) {
        config.onSkip?.(file, 'encrypted', 'no passphrase source');
        continue;
      }
      const passphrase = (attempt: number): Promise<string> => ask(file, attempt);
      const unlock = { passphrase, name: file, ...(config.passphraseAttempts !== undefined ? { passphraseAttempts: config.passphraseAttempts } : {}), ...toAgent(file) };
      if (certificate) providers.push(privateKey(text, { ...unlock, certificate }));
      providers.push(privateKey(text, unlock));
      used.push(file);
      continue;
    }
    try {
      const plain = privateKey(text, toAgent(file));
      if (certificate) providers.push(privateKey(text, { certificate, ...toAgent(file) }));
      providers.push(plain);
      used.push(file);
    } catch (err) {
      if (given) throw new TypeError(`${file}: ${(err as Error).message}`, { cause: err });
      config.onSkip?.(file, 'unreadable', (err as Error).message);
    }
  }
  return { providers, agent: useAgent, files, used };
}

/** An identity file's bytes, or undefined when it is passed over (missing, too open, unreadable: said through `onSkip`); one given that is missing or unreadable throws. */
function identityText(file: string, given: boolean, config: CredentialsForConfig): Buffer | undefined {
  if (!existsSync(file)) {
    if (given) throw new TypeError(`${file}: no such file`);
    return undefined;
  }
  // As ssh (sshkey_perm_ok): a key file of the user's own that others may read is not used.
  const open = tooOpen(file);
  if (open) return void config.onSkip?.(file, 'permissions', open);
  try {
    return readFileSync(file);
  } catch (err) {
    if (given) throw new TypeError(`${file}: ${(err as Error).message}`, { cause: err });
    return void config.onSkip?.(file, 'unreadable', (err as Error).message);
  }
}

/**
 * ssh's refusal of a private key file of the user's own that its group or others may read
 * ("Permissions 0644 for 'FILE' are too open"), or undefined when the file may be used (a file of
 * another user's is not checked, as in ssh; nor where there are no POSIX user ids).
 */
function tooOpen(file: string): string | undefined {
  const uid = process.getuid?.();
  let st;
  try {
    st = statSync(file);
  } catch {
    return undefined; // reading it says why
  }
  if (uid === undefined || st.uid !== uid || (st.mode & 0o077) === 0) return undefined;
  return `Permissions 0${(st.mode & 0o777).toString(8)} for '${file}' are too open: private key files must not be accessible by others (chmod 600), as ssh requires; not used`;
}

/** The RSA modulus size of an identity (from the key, or for an encrypted one its `.pub`), or undefined. */
function rsaBitsOfIdentity(file: string, text: Buffer): number | undefined {
  for (const candidate of [text, readOptional(`${file}.pub`)]) {
    if (candidate === undefined) continue;
    const parsed = utils.parseKey(candidate);
    const key = Array.isArray(parsed) ? parsed[0] : parsed;
    if (key && !(key instanceof Error)) return rsaBitsOf(key.getPublicSSH());
  }
  return undefined;
}

function isEncryptedKey(text: Buffer): boolean {
  const parsed = utils.parseKey(text);
  return parsed instanceof Error && /encrypted|passphrase/i.test(parsed.message);
}

/** The certificate among `files` for an identity: its public key from the key itself, or (encrypted) from `IDENTITY.pub`. */
function identityCertificate(file: string, text: Buffer, files: readonly string[]): string | undefined {
  for (const candidate of [text, readOptional(`${file}.pub`)]) {
    if (candidate === undefined) continue;
    const parsed = utils.parseKey(candidate);
    const key = Array.isArray(parsed) ? parsed[0] : parsed;
    if (key && !(key instanceof Error)) return certificateFor(key.getPublicSSH(), files, (f) => readOptional(f)?.toString('utf8'));
  }
  return undefined;
}

function readOptional(file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch {
    return undefined;
  }
}
