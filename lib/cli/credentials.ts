/**
 * The CLI's credentials for one resolved host, as `ssh` finds them: the agent (unless
 * `IdentitiesOnly`), the identity files (`--identity`, then the config's, or ssh's defaults),
 * then a password source. Encrypted keys are never skipped silently: their passphrase comes from
 * `--passphrase-env`, a prompt on the terminal, or `SSH_ASKPASS`; with none of these the key is
 * skipped with a warning.
 */
import { execFile } from 'node:child_process';
import { homedir } from 'node:os';
import { keyboardInteractive, password, type AuthProvider, AuthenticationError, scanCredentials, type BecomeConfig, type CredentialScan, type SshConfigHost } from '../index.js';
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
  /** `--become-password-env VAR`: the sudo/su password from a variable. */
  readonly becomePasswordEnv?: string | undefined;
  /** `--ask-become-pass`: ask for the sudo/su password once (no echo). */
  readonly askBecomePassword?: boolean;
  /**
   * `rxssh exec`: with no password source given, ask on the terminal as ssh does when the
   * server wants a password or keyboard-interactive answers (`NumberOfPasswordPrompts` times;
   * never under `BatchMode`).
   */
  readonly interactive?: boolean;
}

/** Asks each question once per run, however many hosts need the answer. */
export class Secrets {
  readonly #asked = new Map<string, Promise<string>>();
  readonly #warned = new Set<string>();
  /** Credentials per set of identity settings: a run reads and parses each key once, not once per host. */
  readonly credentials = new Map<string, { providers: AuthProvider[]; lookedFor: string }>();

  constructor(
    readonly sources: SecretSources,
    readonly io: Io,
    /** A password already asked for (`-A` on the main thread, for `--workers`): used instead of asking. */
    readonly knownPassword?: string,
    /** A become password already asked for (on the main thread, for `--workers`). */
    readonly knownBecomePassword?: string,
  ) {}

  /** Whether a become (sudo/su) password source was given; without one, a method that asks fails at once. */
  get hasBecomePassword(): boolean {
    return this.knownBecomePassword !== undefined || this.sources.becomePasswordEnv !== undefined || this.sources.askBecomePassword === true;
  }

  /** Whom to become with this run's password source (none given: a method that asks fails at once). */
  becomeConfig(who: { readonly method: 'sudo' | 'su' | 'doas'; readonly user: string }): BecomeConfig {
    return { ...who, ...(this.hasBecomePassword ? { password: () => this.becomePassword() } : {}) };
  }

  /** The become password: from its variable, or asked once for the whole run. */
  becomePassword(): Promise<string> {
    if (this.knownBecomePassword !== undefined) return Promise.resolve(this.knownBecomePassword);
    const env = this.sources.becomePasswordEnv;
    if (env !== undefined) {
      const value = this.io.env[env];
      return value === undefined ? Promise.reject(new UsageError(`--become-password-env ${env}: the variable is not set`)) : Promise.resolve(value);
    }
    return this.#once('become', 'BECOME password: ');
  }

  /** Whether a passphrase can be had at all (an env variable, a terminal, or SSH_ASKPASS). */
  get canAskPassphrase(): boolean {
    return this.sources.passphraseEnv !== undefined || this.io.stdinIsTTY || this.#askpass() !== undefined;
  }

  /** Asks for a key's passphrase; again, as ssh words it, after a wrong one (`attempt` > 1). */
  passphrase(file: string, attempt = 1): Promise<string> {
    const env = this.sources.passphraseEnv;
    if (env !== undefined) {
      const value = this.io.env[env];
      if (value === undefined) return Promise.reject(new UsageError(`--passphrase-env ${env}: the variable is not set`));
      return Promise.resolve(value);
    }
    return this.#once(`passphrase:${file}:${attempt}`, attempt === 1 ? `Enter passphrase for key '${file}': ` : `Bad passphrase, try again for ${file}: `);
  }

  /**
   * How often a key's passphrase is asked for: `NumberOfPasswordPrompts` times on a terminal
   * (ssh's default 3; 0: never, the key is passed over), once from a variable or askpass.
   */
  passphraseAttempts(host: SshConfigHost): number {
    return this.sources.passphraseEnv === undefined && this.io.stdinIsTTY ? host.numberOfPasswordPrompts : 1;
  }

  password(): Promise<string> {
    return this.knownPassword !== undefined ? Promise.resolve(this.knownPassword) : this.#once('password', 'Password: ');
  }

  /** Asks `prompt` on the terminal (or through SSH_ASKPASS), once per `key`. */
  ask(key: string, prompt: string): Promise<string> {
    return this.#once(key, prompt);
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

/**
 * The credential providers for a host (`credentialsFor` with the command line's identities,
 * certificates and passphrase sources), then a password source; and a description of what was
 * looked for.
 */
export function hostCredentials(host: SshConfigHost, secrets: Secrets): { providers: AuthProvider[]; lookedFor: string } {
  // Everything of the host the providers depend on (its terminal prompts name it, in exec).
  const asked = secrets.sources.interactive ? [host.username, host.host] : [];
  const key = JSON.stringify([host.identityFiles, host.certificateFiles, host.identitiesOnly, host.identityAgent === undefined ? 'SSH_AUTH_SOCK' : host.identityAgent, host.addKeysToAgent ?? null, host.batchMode, host.numberOfPasswordPrompts, ...asked]);
  let found = secrets.credentials.get(key);
  if (!found) {
    found = scanHost(host, secrets);
    if (secrets.credentials.size > 1000) secrets.credentials.clear();
    secrets.credentials.set(key, found);
  }
  return found;
}

function scanHost(host: SshConfigHost, secrets: Secrets): { providers: AuthProvider[]; lookedFor: string } {
  const { sources, io } = secrets;
  let scan: CredentialScan;
  try {
    scan = scanCredentials(host, {
      identities: sources.identities,
      certificates: sources.certificates ?? [],
      agentSocket: io.env['SSH_AUTH_SOCK'] || null,
      // BatchMode: no question on the terminal; a passphrase from --passphrase-env is no question.
      ...(secrets.canAskPassphrase && (!host.batchMode || sources.passphraseEnv !== undefined) && secrets.passphraseAttempts(host) > 0
        ? { passphrase: (file: string, attempt: number) => secrets.passphrase(file, attempt), passphraseAttempts: secrets.passphraseAttempts(host) }
        : {}),
      // AddKeysToAgent: a refusal is said (ssh: "could not add identity to agent"), a success is not.
      onAgentAdd: (file, error) => error && secrets.warn(`could not add ${file} to the agent: ${error.message}`),
      onSkip: (file, why, detail) =>
        secrets.warn(
          why === 'encrypted'
            ? `skipping encrypted key ${file}: no passphrase source (give --passphrase-env VAR, run on a terminal, or set SSH_ASKPASS)`
            : `skipping ${file}: ${detail}`,
        ),
    });
  } catch (err) {
    throw new UsageError(`--identity ${(err as Error).message}`, { cause: err });
  }
  const providers = [...scan.providers];
  // A password given answers keyboard-interactive prompts too (PAM's "Password:"), as pssh's askpass does.
  const answering = (value: () => Promise<string> | string): AuthProvider[] => [keyboardInteractive(async ({ prompts }) => Promise.all(prompts.map(async () => value()))), password(value)];
  if (sources.passwordEnv !== undefined) {
    const value = io.env[sources.passwordEnv];
    if (value === undefined) throw new UsageError(`--password-env ${sources.passwordEnv}: the variable is not set`);
    providers.push(...answering(() => value));
  } else if (sources.askPassword) {
    providers.push(...answering(() => secrets.password()));
  } else if (sources.interactive && !host.batchMode && secrets.canAskPassphrase) {
    providers.push(...askedOnTerminal(host, secrets));
  }
  const home = io.env['HOME'] || homedir();
  const shown = (f: string): string => (f.startsWith(`${home}/`) ? `~${f.slice(home.length)}` : f);
  const sshDir = `${home}/.ssh/`;
  const { files, used } = scan;
  const missing = files.every((f) => f.startsWith(sshDir))
    ? `no identity files in ~/.ssh (${files.map((f) => f.slice(sshDir.length)).join(', ')})`
    : `no identity files (looked for ${files.map(shown).join(', ')})`;
  const lookedFor = [
    scan.agent ? 'the agent had no key the server took' : host.identitiesOnly ? 'no agent (IdentitiesOnly)' : 'no agent (SSH_AUTH_SOCK unset)',
    used.length ? `identity files ${used.map(shown).join(', ')}` : missing,
    sources.passwordEnv !== undefined || sources.askPassword ? 'a password' : 'no password source (--password-env VAR or -A)',
  ].join(', ');
  return { providers, lookedFor };
}

/**
 * `rxssh exec` on a terminal, as ssh: keyboard-interactive prompts shown (`(user@host) PROMPT`)
 * and answered, then `user@host's password: `, each up to `NumberOfPasswordPrompts` times (a
 * password asked again after "Permission denied, please try again."). Asked only if the server
 * gets to it.
 */
function askedOnTerminal(host: SshConfigHost, secrets: Secrets): AuthProvider[] {
  const who = `${host.username}@${host.host}`;
  const again = (attempt: number): void => void (attempt > 1 && secrets.io.stderr.write('Permission denied, please try again.\n'));
  const attempts = Array.from({ length: host.numberOfPasswordPrompts }, (_, i) => i + 1);
  return [
    ...attempts.map((attempt) =>
      keyboardInteractive(async ({ name, instructions, prompts }) => {
        for (const text of [name, instructions]) if (text) secrets.io.stderr.write(`${text}\n`);
        const answers: string[] = [];
        for (const [i, p] of prompts.entries()) answers.push(await secrets.ask(`kbd:${who}:${attempt}:${i}`, `(${who}) ${p.prompt}`));
        return answers;
      }),
    ),
    ...attempts.map((attempt) =>
      password(() => {
        again(attempt);
        return secrets.ask(`password:${who}:${attempt}`, `${who}'s password: `);
      }),
    ),
  ];
}

/**
 * An authentication failure made honest: when nothing at all could be offered, it says what
 * was looked for; the server's allowed methods stay in the message either way.
 */
export function explainAuthFailure(err: unknown, lookedFor: string): unknown {
  if (!(err instanceof AuthenticationError) || err.methodsTried.length > 0) return err;
  // Keys that were found but passed over (a passphrase that stayed wrong, an expired
  // certificate) are said, never hidden behind "no credentials".
  return new AuthenticationError(`no credentials: ${lookedFor}`, [], err.methodsLeft, { host: err.host, port: err.port, phase: err.phase, cause: err }, err.skipped);
}
