/**
 * One host as every subcommand reaches it: the options that resolve and authenticate it
 * (`-F`, `-O`, `-x`, `-l`, `-i`, known hosts, passwords and passphrases), its connection through
 * ssh_config, and its pipeline. Also what worker threads and queue runners run per host.
 */
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { type Readable } from 'node:stream';
import { catchError, defer, tap, throwError, type Observable } from 'rxjs';
import { roomForBulkData } from './heap.js';
import { connectAlias, exec, fromSshConfig, parseHostSpec, SshConfigError, SYSTEM_SSH_CONFIG, type CommandLineForwards, type Connection, type ExecChunk, type FanOutTarget, type OutputFlow, type ResolveAliasConfig, type SshConfigHost } from '../index.js';
import { configLine, PSSH_ENV, shellWords, sshArgs } from './args.js';
import { explainAuthFailure, hostCredentials, type Secrets, type SecretSources } from './credentials.js';
import { type Io } from './io.js';
import { UsageError } from './usage.js';

/** How hosts are resolved and authenticated; shared by every subcommand. */
export interface HostOptions {
  /** The ssh_config to read (`~/.ssh/config` by default, `-F` overrides; `null`: none). */
  readonly configFile: string | null;
  /** `configFile` was given (`-F`): it must exist, as with ssh; the default one may be missing. */
  readonly configFileGiven?: boolean;
  /** A pseudo-terminal for each command (`-x -tt`, or `-x -t` on a terminal). */
  readonly pty?: boolean;
  /** The system-wide ssh_config read after it (`/etc/ssh/ssh_config`; none with `-F`, as ssh). */
  readonly systemConfigFile: string | null;
  /** ssh_config lines that override the file (from `-O`, `-x`/`-X`, `-l` and the trust flags). */
  readonly configLines: readonly string[];
  /** The local user (`%u`, and the user when nothing else names one). */
  readonly localUser: string;
  /** The home directory (`~`, and where `.ssh/` is). */
  readonly home: string;
  /** Where secrets come from. */
  readonly secrets: SecretSources;
  /** `-v`: say more about failures on stderr. */
  readonly verbose: boolean;
  /** `--match-exec`: run the config's `Match exec` commands, as ssh does. */
  readonly matchExec?: boolean;
  /** `rxssh exec`'s forwards: the config's LocalForward, RemoteForward and DynamicForward are read beside them. */
  readonly forwards?: CommandLineForwards;
  /** `--sudo` (`--sudo-user`, `--become-method`): run commands as another user; the password comes from the secrets. */
  readonly become?: { readonly method: 'sudo' | 'su' | 'doas'; readonly user: string };
  /** Where a ProxyCommand's stderr goes (`rxssh exec`: this stderr, as ssh); otherwise only into its errors. */
  readonly proxyStderr?: (chunk: Buffer) => void;
}

export const HOST_OPTIONS = {
  'ssh-config': { type: 'string', short: 'F' },
  user: { type: 'string', short: 'l' },
  option: { type: 'string', short: 'O', multiple: true },
  'extra-args': { type: 'string', short: 'x', multiple: true },
  'extra-arg': { type: 'string', short: 'X', multiple: true },
  identity: { type: 'string', multiple: true },
  certificate: { type: 'string', multiple: true },
  'known-hosts': { type: 'string' },
  'accept-new': { type: 'boolean' },
  'password-env': { type: 'string' },
  'passphrase-env': { type: 'string' },
  askpass: { type: 'boolean', short: 'A' },
  verbose: { type: 'boolean', short: 'v' },
  'match-exec': { type: 'boolean' },
  sudo: { type: 'boolean' },
  'sudo-user': { type: 'string' },
  'become-method': { type: 'string' },
  'become-password-env': { type: 'string' },
  'ask-become-pass': { type: 'boolean' },
  timeout: { type: 'string', short: 't' },
  json: { type: 'boolean' },
  help: { type: 'boolean' },
} as const;

export type Values = Record<string, string | boolean | string[] | undefined>;

/** pssh's environment variables fill in options not given on the command line. */
export function withPsshEnv(values: Values, io: Io, known: readonly string[]): Values {
  const out: Values = { ...values };
  for (const [option, variable] of PSSH_ENV) {
    const value = io.env[variable];
    if (!value || !known.includes(option) || out[option] !== undefined) continue;
    if (option === 'option' || option === 'hosts') out[option] = [value];
    else if (['verbose', 'print', 'askpass', 'inline', 'no-progress'].includes(option)) out[option] = true;
    else out[option] = value;
  }
  return out;
}

export function hostOptions(values: Values, io: Io, becomeFromJobs = false, readsForwards = false): HostOptions {
  const lines: string[] = [];
  for (const o of (values['option'] as string[] | undefined) ?? []) lines.push(configLine(o, '-O', readsForwards));
  const extra = [...((values['extra-args'] as string[] | undefined) ?? []).flatMap(shellWords), ...((values['extra-arg'] as string[] | undefined) ?? [])];
  const ssh = sshArgs(extra, readsForwards);
  lines.push(...ssh.lines);
  const user = values['user'] as string | undefined;
  if (user) lines.push(`User ${user}`);
  const knownHosts = values['known-hosts'] as string | undefined;
  if (knownHosts) lines.push(`UserKnownHostsFile ${knownHosts}`);
  if (values['accept-new'] === true) lines.push('StrictHostKeyChecking accept-new');
  const home = io.env['HOME'] || homedir();
  const given = (values['ssh-config'] as string | undefined) ?? ssh.configFile;
  const configFile = given ?? join(home, '.ssh', 'config');
  return {
    configFile,
    configFileGiven: given !== undefined,
    systemConfigFile: given === undefined ? SYSTEM_SSH_CONFIG : null,
    // Undefined when no -t/-T was given: the host's RequestTTY decides then.
    ...(ssh.tty === 0 ? {} : { pty: ssh.tty >= 2 || (ssh.tty === 1 && io.stdinIsTTY) }),
    configLines: lines,
    localUser: io.env['USER'] ?? userInfo().username,
    home,
    secrets: {
      identities: (values['identity'] as string[] | undefined) ?? [],
      passwordEnv: values['password-env'] as string | undefined,
      passphraseEnv: values['passphrase-env'] as string | undefined,
      askPassword: values['askpass'] === true,
      becomePasswordEnv: values['become-password-env'] as string | undefined,
      askBecomePassword: values['ask-become-pass'] === true,
      certificates: (values['certificate'] as string[] | undefined) ?? [],
    },
    verbose: values['verbose'] === true,
    matchExec: values['match-exec'] === true,
    ...becomeOf(values, becomeFromJobs),
  };
}

/** `--sudo`, `--sudo-user USER`, `--become-method sudo|su`: whom commands run as. */
function becomeOf(values: Values, fromJobs: boolean): Pick<HostOptions, 'become'> {
  const user = values['sudo-user'] as string | undefined;
  const method = (values['become-method'] as string | undefined) ?? 'sudo';
  const wanted = values['sudo'] === true || user !== undefined || values['become-method'] !== undefined;
  if (!wanted) {
    // A queue worker becomes whom each job says, with its own password: the source alone is enough there.
    if (!fromJobs && (values['become-password-env'] !== undefined || values['ask-become-pass'] === true)) throw new UsageError('--become-password-env and --ask-become-pass need --sudo');
    return {};
  }
  if (method !== 'sudo' && method !== 'su' && method !== 'doas') throw new UsageError(`--become-method takes sudo, su or doas, not ${JSON.stringify(method)}`);
  if (user !== undefined && !/^[A-Za-z0-9_.][A-Za-z0-9_.-]*\$?$/.test(user)) throw new UsageError(`--sudo-user ${JSON.stringify(user)}: not a user name`);
  return { become: { method, user: user ?? 'root' } };
}

export function timeoutOf(values: Values): number {
  const raw = values['timeout'] as string | undefined;
  const seconds = raw === undefined ? 0 : Number(raw);
  if (!Number.isFinite(seconds) || seconds < 0) throw new UsageError('-t/--timeout takes seconds (0 = none, the default)');
  return seconds;
}

/**
 * A host's connection, as `ssh host` makes it: resolved through the ssh_config (HostName, Port,
 * User, IdentityFile, ProxyJump, StrictHostKeyChecking, UserKnownHostsFile, …), a user or port
 * in the host spec overriding the config's; credentials from {@link hostCredentials}. An
 * authentication failure with nothing offered says what was looked for.
 */
export function hostConnection(target: FanOutTarget, o: HostOptions, secrets: Secrets): Observable<Connection> {
  let lookedFor = '';
  return connectAlias(target.alias ?? target.host, {
    ...resolveOptions(target, o),
    ...(target.port ? { port: target.port } : {}),
    ...(o.proxyStderr ? { proxyStderr: o.proxyStderr } : {}),
    credentialsFor: (host) => {
      const found = hostCredentials(host, secrets);
      lookedFor = found.lookedFor;
      return found.providers;
    },
  }).pipe(
    tap(roomForBulkData),
    catchError((err: unknown) => throwError(() => explainAuthFailure(err, lookedFor))),
  );
}

/** The user's ssh_config as `fromSshConfig` takes it: a file given with -F must exist; the default (`HOME/.ssh/config`) may be missing. */
export function configFileOf(o: HostOptions): { file?: string | null } {
  return o.configFileGiven || o.configFile === null ? { file: o.configFile } : {};
}

/** How a host is resolved from ssh_config: the files, the -O lines, the user given with it. */
function resolveOptions(target: FanOutTarget, o: HostOptions): ResolveAliasConfig {
  return {
    ...configFileOf(o),
    systemFile: o.systemConfigFile,
    extra: o.configLines,
    localUser: o.localUser,
    home: o.home,
    ...(target.username ? { user: target.username } : {}),
    ...(o.matchExec ? { matchExec: true } : {}),
    ...(o.forwards ? { forwards: o.forwards } : {}),
  };
}

/** The host as ssh_config resolves it (for what the CLI does with it beyond connecting: RemoteCommand, RequestTTY). */
export function resolveHost(target: FanOutTarget, o: HostOptions): SshConfigHost {
  return fromSshConfig(target.alias ?? target.host, resolveOptions(target, o));
}

/**
 * Whether a host's command gets a pseudo-terminal: the command line's choice when it made one
 * (`pty`), else `RequestTTY` (`force`; `yes` when stdin is a terminal), as ssh decides.
 */
export function wantsTty(host: SshConfigHost, pty: boolean | undefined, stdinIsTTY: boolean): boolean {
  if (pty !== undefined) return pty;
  return host.requestTty === 'force' || (host.requestTty === 'yes' && stdinIsTTY);
}

/** ssh's refusal of a command given beside a configured RemoteCommand. */
export function remoteCommandClash(host: SshConfigHost): SshConfigError {
  return new SshConfigError('Cannot execute command-line and remote command.', 'remotecommand', 'ssh_config', { host: host.host, port: host.port ?? 22, phase: 'config' });
}

/** When each host's connection was ready (authenticated), by its target: the report's timeline. */
export const readyAt = new WeakMap<object, number>();

/** One host's pipeline: its connection, then the command (output as exec chunks). */
export function hostPipeline(
  target: FanOutTarget,
  command: string,
  o: HostOptions,
  secrets: Secrets,
  stdin: Buffer | NodeJS.ReadableStream | undefined,
  env?: Readonly<Record<string, string>>,
  pty?: boolean,
  flow?: OutputFlow,
): Observable<ExecChunk> {
  // The host's own RemoteCommand, RequestTTY and StdinNull, read when the host's turn comes (a config error is that host's).
  return defer(() => {
    const host = resolveHost(target, o);
    const input = stdin === undefined || host.stdinNull ? {} : Buffer.isBuffer(stdin) ? { stdin: [stdin] } : { stdin: stdin as Readable };
    if (host.remoteCommand !== undefined) return throwError(() => remoteCommandClash(host));
    const tty = wantsTty(host, pty, false);
    const become = o.become ? { become: secrets.becomeConfig(o.become) } : {};
    return hostConnection(target, o, secrets).pipe(
      tap(() => readyAt.set(target, Date.now())),
      exec(command, { ...input, ...(env ? { env } : {}), ...(tty ? { pty: sshPty() } : {}), ...(flow ? { flow } : {}), ...become }),
    );
  });
}

/** The terminal `ssh -tt` asks for without one of its own, as pssh's ssh does for each host: 0x0 and `$TERM` (ssh2's vt100 without it). */
function sshPty(): { rows: number; cols: number; term?: string } {
  const term = process.env['TERM'];
  return { rows: 0, cols: 0, ...(term ? { term } : {}) };
}

/** Parses a host spec given on the command line; a malformed one is a usage error (exit 2). */
export function usageSpec(spec: string): FanOutTarget {
  try {
    return parseHostSpec(spec);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}
