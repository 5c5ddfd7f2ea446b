/**
 * Running a command as another user (`become`), as Ansible does it over a plain exec channel:
 * `sudo -S -p MARKER` (or `su` on a pseudo-terminal) runs `sh -c 'echo OK; eval "$1"'`; the
 * password is written to stdin only after the method's prompt appears, and only once — a second
 * prompt means it was wrong, and the run stops there with `BecomeError` instead of waiting. The
 * markers (random per channel) are taken out of the output; what the method said before the
 * command started is kept for the error, never passed on as the command's output. The password
 * travels only on the channel's stdin: never in argv, the environment, output or errors.
 */
import { randomBytes } from 'node:crypto';
import { concat, defer, EMPTY, from, Observable, Subject, type ObservableInput } from 'rxjs';
import { BecomeError, ExitStatusError } from '../errors.js';
import { checkOptions, checkString, optionNames } from '../util/check.js';
import { shellQuote } from '../util/shell.js';
import type { ChannelConfig, ExecChunk, StdinChunk } from './types.js';

/**
 * Whom a command runs as, and how to get there.
 *
 * @example
 * ```ts
 * import type { BecomeConfig } from 'rxssh';
 *
 * const asPostgres: BecomeConfig = { method: 'sudo', user: 'postgres', password: () => askOnce('sudo password: ') };
 * ```
 */
export interface BecomeConfig {
  /** `sudo` (default; no pseudo-terminal needed), or `su` and `doas` (always on a pseudo-terminal: they read passwords only from one). */
  readonly method?: 'sudo' | 'su' | 'doas';
  /** The user to become (default `root`). */
  readonly user?: string;
  /**
   * The password the method asks for (sudo: the login user's; su: the target user's), or a
   * function asked once per channel when the method prompts. Without one, a prompt fails the
   * command with `BecomeError` (`password-required`) at once.
   */
  readonly password?: string | (() => string | Promise<string>);
}

const BECOME_NAMES = optionNames<BecomeConfig>()(['method', 'user', 'password']);

/** A channel opener (the `exec` of a connection), as `run` takes it. */
export type ChannelOpener = (command: string, config: ChannelConfig) => Observable<ExecChunk>;

/** The stream a method's words appear on before the command starts, and the bytes they are kept as. */
const TAIL = 2048;

/** A become config checked (TypeError for a bad one), with its defaults. @internal */
export function checkBecome(become: BecomeConfig): { method: 'sudo' | 'su' | 'doas'; user: string; password: BecomeConfig['password'] } {
  checkOptions('become', become, BECOME_NAMES);
  const method = become.method ?? 'sudo';
  if (method !== 'sudo' && method !== 'su' && method !== 'doas') throw new TypeError(`become: method must be 'sudo', 'su' or 'doas', not ${JSON.stringify(method)}`);
  const user = become.user ?? 'root';
  checkString('become: user', user);
  const password = become.password;
  if (password !== undefined && typeof password !== 'string' && typeof password !== 'function') throw new TypeError('become: password must be a string or a function');
  return { method, user, password };
}

/** A channel's markers: sudo's prompt (`-p`) and the line that says the command starts; random per channel. @internal */
export function becomeMarkers(): { prompt: string; ok: string } {
  const tag = randomBytes(8).toString('hex');
  return { prompt: `[rxssh-become:${tag}] `, ok: `RXSSH-BECOME-OK-${tag}` };
}

/**
 * The sudo command line that runs `/bin/sh -c SCRIPT rxssh ARGS…` as `user`: password on stdin
 * (`-S`) unless on a terminal, `-n` without a password, `prompt` as sudo's prompt. @internal
 */
export function sudoLine(user: string, prompt: string, options: { readonly pty?: boolean | undefined; readonly password: boolean }, script: string, args: readonly string[] = []): string {
  const flags = `${options.pty ? '' : '-S '}${options.password ? '' : '-n '}`;
  return `sudo ${flags}-p ${shellQuote(prompt)} -u ${shellQuote(user)} -- /bin/sh -c ${shellQuote(script)}${args.map((a) => ` ${shellQuote(a)}`).join('')}`;
}

/**
 * `open` with every command run as `become` says. Checks `become` at call time. @internal
 */
// eslint-disable-next-line max-lines-per-function -- Long by design: one channel's prompt watch (the markers, the password written once, the method's own words kept for its error) shares the channel's closure and teardown.
export function becoming(open: ChannelOpener, become: BecomeConfig, where: { readonly host: string; readonly port: number }): ChannelOpener {
  const { method, user, password } = checkBecome(become);

  // eslint-disable-next-line max-lines-per-function -- the closure of the function it is in: the same reason
  return (command, config) =>
    // eslint-disable-next-line max-lines-per-function -- the closure of the function it is in: the same reason
    defer(() => {
      const { prompt, ok } = becomeMarkers();
      // su and doas read the password from a terminal only; sudo takes it on stdin (-S) without one.
      const pty = method === 'sudo' ? config.pty : config.pty ?? true;
      const script = pty ? `echo ${ok}; eval "$1"` : `echo ${ok}; echo ${ok} >&2; eval "$1"`;
      const wrapped =
        method === 'sudo'
          ? sudoLine(user, prompt, { pty: pty !== undefined && pty !== false, password: password !== undefined }, script, ['rxssh', command])
          : method === 'su'
            ? `LC_ALL=C su -s /bin/sh ${shellQuote(user)} -c ${shellQuote(script)} rxssh ${shellQuote(command)}`
            : `doas ${password === undefined ? '-n ' : ''}-u ${shellQuote(user)} /bin/sh -c ${shellQuote(script)} rxssh ${shellQuote(command)}`;
      const toStdin = new Subject<StdinChunk>();
      const userStdin = config.stdin;
      const stdin = concat(toStdin, defer(() => (userStdin === undefined ? EMPTY : from(userStdin as ObservableInput<StdinChunk>))));
      // eslint-disable-next-line max-lines-per-function -- the closure of the function it is in: the same reason
      return new Observable<ExecChunk>((subscriber) => {
        const streams = pty ? (['stdout'] as const) : (['stdout', 'stderr'] as const);
        const pending: Record<'stdout' | 'stderr', string> = { stdout: '', stderr: '' };
        const ready: Record<'stdout' | 'stderr', boolean> = { stdout: false, stderr: !streams.includes('stderr' as never) };
        let said = ''; // the method's own words, for the error
        let prompts = 0;
        let ended = false;
        const fail = (reason: BecomeError['reason']): void => {
          if (ended) return;
          ended = true;
          subscriber.error(new BecomeError(reason, method, user, said.slice(-TAIL), { host: where.host, port: where.port, phase: 'exec' }));
        };
        /** The channel ended before the command started: what the method said tells why. */
        const failBefore = (): void => {
          said += pending.stderr + pending.stdout;
          fail(reasonOf(said));
        };
        const answer = (): void => {
          prompts++;
          if (prompts > 1) return fail('incorrect-password');
          if (password === undefined) return fail('password-required');
          Promise.resolve(typeof password === 'function' ? password() : password).then(
            (pw) => toStdin.next(Buffer.from(`${pw}\n`)),
            () => fail('password-required'),
          );
        };
        /** Looks for the prompt and the start marker in what arrived before the command started. */
        const scan = (stream: 'stdout' | 'stderr'): void => {
          let text = pending[stream];
          const promptsHere = stream === 'stderr' || pty;
          for (;;) {
            if (promptsHere) {
              // sudo's prompt is rxssh's marker; su's and doas's are theirs ("Password:", "doas (u@h) password:").
              const at = method === 'sudo' ? text.indexOf(prompt) : text.search(/[Pp]assword: *$/);
              if (at >= 0) {
                said += text.slice(0, at);
                text = method === 'sudo' ? text.slice(at + prompt.length) : '';
                answer();
                if (ended) return;
                continue;
              }
            }
            const start = text.indexOf(ok);
            if (start >= 0) {
              const lineEnd = text.indexOf('\n', start);
              if (lineEnd < 0) break; // the rest of the marker line is still to come
              said += text.slice(0, start);
              ready[stream] = true;
              if (stream === 'stdout') toStdin.complete(); // the user's stdin follows the password
              const rest = text.slice(lineEnd + 1);
              pending[stream] = '';
              if (rest) subscriber.next({ type: 'chunk', stream, data: Buffer.from(rest, 'latin1') });
              return;
            }
            break;
          }
          pending[stream] = text.slice(-64 * 1024);
        };
        const inner = open(wrapped, { ...config, ...(pty ? { pty } : {}), stdin }).subscribe({
          next: (chunk) => {
            if (ended) return;
            if (ready[chunk.stream]) return subscriber.next(chunk);
            pending[chunk.stream] += chunk.data.toString('latin1');
            scan(chunk.stream);
          },
          error: (err: unknown) => {
            if (ended) return;
            if (!ready.stdout) return failBefore();
            ended = true;
            subscriber.error(err instanceof ExitStatusError ? new ExitStatusError(command, err.exitCode, err.signal, withoutMarkers(err.stderrTail, ok, prompt), { host: err.host, port: err.port, phase: err.phase }) : err);
          },
          complete: () => {
            if (ended) return;
            if (!ready.stdout) return failBefore();
            ended = true;
            subscriber.complete();
          },
        });
        return () => {
          ended = true;
          inner.unsubscribe();
        };
      });
    });
}

/** A stderr tail without rxssh's marker line and prompt. */
function withoutMarkers(text: string, ok: string, prompt: string): string {
  return text.split(prompt).join('').split('\n').filter((line) => !line.includes(ok)).join('\n');
}

/** Why a method ended before the command started, from its words. @internal */
export function reasonOf(words: string): BecomeError['reason'] {
  if (/password is required|a terminal is required|authorization required|authentication required/i.test(words)) return 'password-required';
  if (/incorrect password|sorry, try again|authentication failure|authentication failed/i.test(words)) return 'incorrect-password';
  if (/not in the sudoers|not allowed|may not run|operation not permitted/i.test(words)) return 'not-allowed';
  return 'failed';
}
