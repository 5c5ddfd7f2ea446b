/**
 * The CLI's credentials for one resolved host, as `ssh` finds them: the agent (unless
 * `IdentitiesOnly`), the identity files (`--identity`, then the config's, or ssh's defaults),
 * then a password source. Encrypted keys are never skipped silently: their passphrase comes from
 * `--passphrase-env`, a prompt on the terminal, or `SSH_ASKPASS`; with none of these the key is
 * skipped with a warning.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { agent, agentCertificate, password, privateKey, type AuthProvider } from '../auth.js';
import { AuthenticationError } from '../errors.js';
import { certificateFor } from '../internal/certificate.js';
import { utils } from '../internal/ssh2.js';
import type { SshConfigHost } from '../ssh-config.js';
import type { Io } from './io.js';
import { UsageError } from './usage.js';

/** Where secrets come from, as the command line says. */
export interface SecretSources {
  /** `--identity FILE`s: tried first; a file that cannot be read is a usage error. */
  readonly identities: readonly string[];
  /** `--password-env VAR`. */
  readonly passwordEnv: string | undefined;
  /** `--passphrase-env VAR`: the passphrase of encrypted keys. */
  readonly passphraseEnv: string | undefined;
  /** `-A`: ask for a password once (no echo), as pssh does. */
  readonly askPassword: boolean;
  /** `--certificate FILE`s: OpenSSH certificates, each used with the identity it certifies. */
  readonly certificates?: readonly string[];
}

/** Asks each question once per run, however many hosts need the answer. */
export class Secrets {
  readonly #asked = new Map<string, Promise<string>>();
  readonly #warned = new Set<string>();

  constructor(
    readonly sources: SecretSources,
    readonly io: Io,
    /** A password already asked for (`-A` on the main thread, for `--workers`): used instead of asking. */
    readonly knownPassword?: string,
  ) {}

  /** Whether a passphrase can be had at all (an env variable, a terminal, or SSH_ASKPASS). */
  get canAskPassphrase(): boolean {
    return this.sources.passphraseEnv !== undefined || this.io.stdinIsTTY || this.#askpass() !== undefined;
  }

  passphrase(file: string): Promise<string> {
    const env = this.sources.passphraseEnv;
    if (env !== undefined) {
      const value = this.io.env[env];
      if (value === undefined) return Promise.reject(new UsageError(`--passphrase-env ${env}: the variable is not set`));
      return Promise.resolve(value);
    }
    return this.#once(`passphrase:${file}`, `Enter passphrase for key '${file}': `);
  }

  password(): Promise<string> {
    return this.knownPassword !== undefined ? Promise.resolve(this.knownPassword) : this.#once('password', 'Password: ');
  }

  /** Warns once per distinct message. */
  warn(message: string): void {
    if (this.#warned.has(message)) return;
    this.#warned.add(message);
    this.io.stderr.write(`rxssh: ${message}\n`);
  }

  #askpass(): string | undefined {
    const program = this.io.env['SSH_ASKPASS'];
    if (!program) return undefined;
    const require = this.io.env['SSH_ASKPASS_REQUIRE'];
    if (require === 'never') return undefined;
    // As ssh: askpass is used without a terminal when there is a display, or when forced.
    if (require === 'force' || (!this.io.stdinIsTTY && (this.io.env['DISPLAY'] || this.io.env['WAYLAND_DISPLAY']))) return program;
    return undefined;
  }

  #once(key: string, prompt: string): Promise<string> {
    let answer = this.#asked.get(key);
    if (!answer) {
      const program = this.#askpass();
      answer =
        program !== undefined
          ? new Promise<string>((resolve, reject) =>
              execFile(program, [prompt], { env: { ...process.env, ...this.io.env } as NodeJS.ProcessEnv }, (err, stdout) =>
                err ? reject(new Error(`SSH_ASKPASS ${program} failed: ${err.message}`)) : resolve(stdout.replace(/\r?\n$/, '')),
              ),
            )
          : this.io.prompt(prompt);
      this.#asked.set(key, answer);
    }
    return answer;
  }
}

function encrypted(text: Buffer): boolean {
  const parsed = utils.parseKey(text);
  return parsed instanceof Error && /encrypted|passphrase/i.test(parsed.message);
}

/** The credential providers for a host, and a description of what was looked for. */
export function hostCredentials(host: SshConfigHost, secrets: Secrets): { providers: AuthProvider[]; lookedFor: string } {
  const { sources, io } = secrets;
  const providers: AuthProvider[] = [];
  const socket = io.env['SSH_AUTH_SOCK'];
  const useAgent = !host.identitiesOnly && !!socket;
  if (useAgent) providers.push(agentCertificate(socket), agent(socket));
  const files = [...new Set([...sources.identities, ...host.identityFiles])];
  const found: string[] = [];
  for (const file of files) {
    const explicit = sources.identities.includes(file);
    if (!existsSync(file)) {
      if (explicit) throw new UsageError(`--identity ${file}: no such file`);
      continue;
    }
    let text: Buffer;
    try {
      text = readFileSync(file);
    } catch (err) {
      if (explicit) throw new UsageError(`--identity ${file}: ${(err as Error).message}`);
      secrets.warn(`skipping ${file}: ${(err as Error).message}`);
      continue;
    }
    // Its certificate (--certificate, IDENTITY-cert.pub, or a CertificateFile for this key) is
    // offered first, then the key itself, as OpenSSH does.
    const certificate = certificateOfIdentity(file, text, [...(sources.certificates ?? []), `${file}-cert.pub`, ...host.certificateFiles]);
    if (encrypted(text)) {
      if (!secrets.canAskPassphrase) {
        secrets.warn(`skipping encrypted key ${file}: no passphrase source (give --passphrase-env VAR, run on a terminal, or set SSH_ASKPASS)`);
        continue;
      }
      found.push(file);
      const passphrase = (): Promise<string> => secrets.passphrase(file);
      if (certificate) providers.push(privateKey(text, { passphrase, certificate }));
      providers.push(privateKey(text, { passphrase }));
      continue;
    }
    try {
      if (certificate) providers.push(privateKey(text, { certificate }));
      providers.push(privateKey(text));
      found.push(file);
    } catch (err) {
      if (explicit) throw new UsageError(`--identity ${file}: ${(err as Error).message}`);
      secrets.warn(`skipping ${file}: ${(err as Error).message}`);
    }
  }
  if (sources.passwordEnv !== undefined) {
    const value = io.env[sources.passwordEnv];
    if (value === undefined) throw new UsageError(`--password-env ${sources.passwordEnv}: the variable is not set`);
    providers.push(password(value));
  } else if (sources.askPassword) {
    providers.push(password(() => secrets.password()));
  }
  const home = io.env['HOME'] || homedir();
  const shown = (f: string): string => (f.startsWith(`${home}/`) ? `~${f.slice(home.length)}` : f);
  const sshDir = `${home}/.ssh/`;
  const missing = files.every((f) => f.startsWith(sshDir))
    ? `no identity files in ~/.ssh (${files.map((f) => f.slice(sshDir.length)).join(', ')})`
    : `no identity files (looked for ${files.map(shown).join(', ')})`;
  const lookedFor = [
    useAgent ? 'the agent had no key the server took' : host.identitiesOnly ? 'no agent (IdentitiesOnly)' : 'no agent (SSH_AUTH_SOCK unset)',
    found.length ? `identity files ${found.map(shown).join(', ')}` : missing,
    sources.passwordEnv !== undefined || sources.askPassword ? 'a password' : 'no password source (--password-env VAR or -A)',
  ].join(', ');
  return { providers, lookedFor };
}

/**
 * An authentication failure made honest: when nothing at all could be offered, it says what
 * was looked for; the server's allowed methods stay in the message either way.
 */
export function explainAuthFailure(err: unknown, lookedFor: string): unknown {
  if (!(err instanceof AuthenticationError) || err.methodsTried.length > 0) return err;
  return new AuthenticationError(`no credentials: ${lookedFor}`, [], err.methodsLeft, { host: err.host, port: err.port, phase: err.phase, cause: err });
}

/** The public-key blob of an identity: from the key itself, or (encrypted) from `IDENTITY.pub`. */
function publicKeyOf(file: string, text: Buffer): Buffer | undefined {
  for (const candidate of [text, readOptional(`${file}.pub`)]) {
    if (candidate === undefined) continue;
    const parsed = utils.parseKey(candidate);
    const key = Array.isArray(parsed) ? parsed[0] : parsed;
    if (key && !(key instanceof Error)) return key.getPublicSSH();
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

function certificateOfIdentity(file: string, text: Buffer, candidates: readonly string[]): string | undefined {
  const publicKey = publicKeyOf(file, text);
  return publicKey ? certificateFor(publicKey, candidates, (f) => readOptional(f)?.toString('utf8')) : undefined;
}
