/** `privateKey()`: a key (OpenSSH or PEM, encrypted or not) and its certificate as a provider. */
import { EMPTY, map, type Observable, of, switchMap, type ObservableInput } from 'rxjs';
import { utils, type ParsedKey } from '../ssh2/index.js';
import { CERTIFICATE, certificateValidity, parseCertificate, summarize } from './certificate.js';
import { type AuthContext, type AuthProvider, type Lazy, resolve } from './providers.js';
import { agentAddKey, type AgentKeyConstraints } from './agent-add.js';
import { checkOptions, optionNames } from '../util/check.js';

/**
 * Options of {@link privateKey}.
 *
 * @example
 * ```ts
 * import { privateKey } from 'rxssh';
 *
 * privateKey(readFileSync('id_ed25519'), { passphrase: () => ask('Passphrase: ') });
 * ```
 */
export interface PrivateKeyConfig {
  /**
   * The passphrase of an encrypted key, or a function producing it (given the attempt number,
   * 1, 2, …, when {@link PrivateKeyConfig.passphraseAttempts} allows asking again).
   */
  readonly passphrase?: string | Buffer | ((attempt: number) => ObservableInput<string | Buffer> | string | Buffer);
  /**
   * An OpenSSH certificate for this key (the `-cert.pub` text, or a function producing it):
   * offered instead of the plain key (`ssh-ed25519-cert-v01@openssh.com`, …, RSA as
   * `rsa-sha2-256/512-cert-v01`). A certificate that is expired, not yet valid or for another
   * key is skipped before it is offered (an `auth$` event says why).
   */
  readonly certificate?: Lazy<string | Buffer>;
  /**
   * How often a passphrase given as a function is asked for when it is wrong (default 1; `ssh`
   * asks 3 times on a terminal). The function gets the attempt number (1, 2, …). A key whose
   * passphrase stays wrong is skipped with a `skipped` event (`bad-passphrase`) and the next
   * credential is tried, as `ssh` does.
   */
  readonly passphraseAttempts?: number;
  /** The key's name in messages and events (its file, say). */
  readonly name?: string;
  /**
   * ssh_config `AddKeysToAgent`: once the server accepted this key, it is added to the agent at
   * `socket` (with the constraints given), so that the next connection finds it there without
   * asking for its passphrase again. In the background: the connection does not wait;
   * `added` is told how it went.
   */
  readonly addToAgent?: AddToAgentConfig;
}

const PRIVATE_KEY_NAMES = optionNames<PrivateKeyConfig>()(['passphrase', 'certificate', 'passphraseAttempts', 'name', 'addToAgent']);

/**
 * Where and how {@link privateKey} adds its key to an agent after a login it made.
 *
 * @example
 * ```ts
 * privateKey(text, { addToAgent: { socket: process.env.SSH_AUTH_SOCK ?? '', lifetime: 3600, added: (err) => err && console.warn(err.message) } });
 * ```
 */
export interface AddToAgentConfig extends AgentKeyConstraints {
  /** The agent's socket. */
  readonly socket: string;
  /** Told once the agent answered: no error when the key was added. */
  readonly added?: (error?: Error) => void;
}

const ADD_TO_AGENT_NAMES = optionNames<AddToAgentConfig>()(['socket', 'added', 'lifetime', 'confirm']);

/** Whether a key failed to parse because of its passphrase (ssh2's messages for it). */
function badPassphrase(err: unknown): boolean {
  const cause = (err as { cause?: unknown }).cause ?? err;
  return /passphrase|decrypt|bad key|integrity|checkint/i.test(String((cause as Error)?.message ?? cause));
}

/**
 * Public-key authentication with a private key (OpenSSH or PEM format; ed25519, ecdsa, rsa —
 * signed with rsa-sha2-256/512 when the server announces them).
 *
 * @remarks
 * A key given as a value is parsed at call time: a corrupt key, or an encrypted one without a
 * passphrase, throws `TypeError` there. A key given as a function is parsed when used.
 *
 * @param key - the key text or bytes, or a function producing them.
 * @param config - the passphrase, for encrypted keys.
 * @example
 * ```ts
 * import { readFileSync } from 'node:fs';
 * import { privateKey } from 'rxssh';
 *
 * privateKey(readFileSync(`${process.env.HOME}/.ssh/id_ed25519`));
 * privateKey(readFileSync('deploy_key'), { passphrase: () => ask('Passphrase: ') });
 * ```
 */
// eslint-disable-next-line max-lines-per-function -- Long by design: the key's parse, its passphrase prompts (three tries) and the provider share the key's closure.
export function privateKey(key: Lazy<string | Buffer>, config: PrivateKeyConfig = {}): AuthProvider {
  checkOptions('privateKey()', config, PRIVATE_KEY_NAMES);
  checkOptions('privateKey(): addToAgent', config.addToAgent, ADD_TO_AGENT_NAMES);
  const parse = (text: string | Buffer, passphrase: string | Buffer | undefined): ParsedKey => {
    const parsed = utils.parseKey(text, passphrase);
    if (parsed instanceof Error) throw new TypeError(`privateKey(): ${parsed.message}`, { cause: parsed });
    const first = Array.isArray(parsed) ? (parsed[0] as ParsedKey | undefined) : parsed;
    if (!first || !first.isPrivateKey()) throw new TypeError('privateKey(): not a private key');
    return first;
  };
  let eager: ParsedKey | undefined;
  if (typeof key === 'string' || Buffer.isBuffer(key)) {
    const pass = config.passphrase;
    if (pass === undefined || typeof pass === 'string' || Buffer.isBuffer(pass)) eager = parse(key, pass);
  } else if (typeof key !== 'function') {
    throw new TypeError('privateKey() takes key text, a Buffer or a function returning one');
  }
  const certificate = config.certificate;
  /** The key as offered: with its certificate attached when there is one and it may be offered. */
  const withCertificate = (parsed: ParsedKey, report: AuthContext['report']): Observable<ParsedKey> => {
    if (certificate === undefined) return of(parsed);
    return resolve(certificate).pipe(
      switchMap((text) => {
        const cert = parseCertificate(text);
        const summary = summarize(cert);
        const reason = !cert.publicKey.equals(parsed.getPublicSSH()) ? 'wrong-key' : certificateValidity(cert);
        if (reason !== 'valid') {
          report({ type: 'skipped', provider: 'privateKey', reason, certificate: summary });
          return EMPTY;
        }
        // A copy per offer: the same parsed key may also be offered without the certificate.
        return of(Object.assign(Object.create(parsed) as ParsedKey, { [CERTIFICATE]: cert }));
      }),
    );
  };
  return {
    method: 'publickey',
    label: certificate === undefined ? 'privateKey' : 'privateKey (certificate)',
    credential: ({ username, report, whenAccepted }) => {
      const attempts = Math.max(1, config.passphraseAttempts ?? 1);
      const name = config.name ?? 'the key';
      /** Asks for the passphrase (again, when it was wrong) up to `attempts` times, then skips the key. */
      const unlock = (text: string | Buffer, attempt: number): Observable<ParsedKey> => {
        const passphrase = config.passphrase;
        const asked = typeof passphrase === 'function' ? resolve(() => passphrase(attempt)) : resolve(passphrase as string | Buffer);
        return asked.pipe(
          switchMap((pass) => {
            try {
              return of(parse(text, pass));
            } catch (err) {
              if (!badPassphrase(err)) throw err;
              if (attempt < attempts && typeof passphrase === 'function') return unlock(text, attempt + 1);
              report({ type: 'skipped', provider: 'privateKey', reason: 'bad-passphrase', detail: `bad passphrase for ${name}` });
              return EMPTY;
            }
          }),
        );
      };
      const parsed$ = eager
        ? of(eager)
        : resolve(key).pipe(switchMap((text) => (config.passphrase === undefined ? of(parse(text, undefined)) : unlock(text, 1))));
      const add = config.addToAgent;
      return parsed$.pipe(
        switchMap((parsed) => withCertificate(parsed, report)),
        map((parsed) => {
          if (add) whenAccepted?.(() => void agentAddKey(add.socket, parsed, add).then(() => add.added?.(), (err: Error) => add.added?.(err)));
          return { type: 'publickey' as const, username, key: parsed };
        }),
      );
    },
  };
}
