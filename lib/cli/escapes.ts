/**
 * ssh's escape sequences on `rxssh exec`'s input, for a session with a pseudo-terminal: the
 * escape character (`EscapeChar`, `-e`; `~` by default) typed at the start of a line, then one
 * more key. `~.` ends the session (the way out of a hung one), `~^Z` suspends rxssh, `~?` lists
 * them, `~~` sends one `~`. The escapes ssh has and rxssh does not (`~B ~R ~V ~v ~# ~& ~C`)
 * say so on the terminal and send nothing: a key that asked for something never silently
 * becomes another. Any other key after the escape character sends both, as ssh does.
 */
import { Transform, type TransformCallback } from 'node:stream';

/** What the escapes do, given by `rxssh exec`. */
export interface EscapeActions {
  /** `~.`: end the session (the connection is closed; rxssh exits 255, as ssh). */
  readonly end: () => void;
  /** `~^Z`: stop rxssh until it is continued (`fg`), the terminal out of raw mode meanwhile. */
  readonly suspend: () => void;
  /** Writes to the terminal (raw mode: lines end in `\r\n`). */
  readonly say: (text: string) => void;
}

/** ssh's escapes rxssh does not have, and why: the key is refused, never sent. */
const UNSUPPORTED: Readonly<Record<string, string>> = {
  B: 'rxssh cannot send a BREAK',
  R: 'rxssh renews keys only after RekeyLimit',
  V: 'rxssh has no log levels to change',
  v: 'rxssh has no log levels to change',
  '#': 'rxssh does not list forwarded connections',
  '&': 'rxssh cannot go to the background',
  C: 'rxssh has no escape command line',
};

/** How an escape character is written: `~`, or `^]` for a control character. */
function shown(char: string): string {
  const code = char.charCodeAt(0);
  return code < 32 ? `^${String.fromCharCode(code + 64)}` : char;
}

/** The `~?` help, for `char`. */
export function escapeHelp(char: string): string {
  const e = shown(char);
  return [
    'Supported escape sequences:',
    ` ${e}.   - terminate connection`,
    ` ${e}^Z  - suspend rxssh`,
    ` ${e}?   - this message`,
    ` ${e}${e}   - send the escape character by typing it twice`,
    '(Note that escapes are only recognized immediately after newline.)',
    '',
  ].join('\r\n');
}

/**
 * Input with ssh's escapes taken out and acted on, as OpenSSH's process_escapes reads it (byte
 * by byte; the escape character counts at the start of the input and after `\r` or `\n`).
 *
 * @example
 * ```ts
 * process.stdin.pipe(new EscapeFilter('~', { end, suspend, say })).pipe(channelStdin);
 * ```
 */
export class EscapeFilter extends Transform {
  readonly #char: number;
  readonly #actions: EscapeActions;
  #lineStart = true;
  #pending = false;
  #ended = false;

  constructor(char: string, actions: EscapeActions) {
    super();
    this.#char = char.charCodeAt(0);
    this.#actions = actions;
  }

  override _transform(chunk: Buffer | string, _encoding: BufferEncoding, done: TransformCallback): void {
    if (this.#ended) return done();
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    const out: number[] = [];
    for (const ch of bytes) {
      if (this.#pending) {
        this.#pending = false;
        if (this.#escape(ch, out)) {
          if (this.#ended) break;
          continue; // acted on; the key is not sent
        }
      } else if (this.#lineStart && ch === this.#char) {
        this.#pending = true;
        continue;
      }
      this.#lineStart = ch === 0x0d || ch === 0x0a;
      out.push(ch);
    }
    if (out.length > 0) this.push(Buffer.from(out));
    done();
  }

  /** Acts on the key after the escape character; true when it was an escape (nothing to send). */
  #escape(ch: number, out: number[]): boolean {
    const key = String.fromCharCode(ch);
    const e = shown(String.fromCharCode(this.#char));
    if (key === '.') {
      this.#ended = true;
      if (out.length > 0) this.push(Buffer.from(out)); // what was typed before it still goes
      out.length = 0;
      this.#actions.end();
      return true;
    }
    if (ch === 0x1a) {
      this.#actions.say(`${e}^Z [suspend rxssh]\r\n`);
      this.#actions.suspend();
      return true;
    }
    if (key === '?') {
      this.#actions.say(`${e}?\r\n${escapeHelp(String.fromCharCode(this.#char))}`);
      return true;
    }
    const why = UNSUPPORTED[key];
    if (why !== undefined) {
      this.#actions.say(`${e}${key}\r\nrxssh: ${e}${key} is not supported: ${why} (${e}? lists the escapes)\r\n`);
      return true;
    }
    // Any other key: the escape character goes too, unless the key is the escape character itself.
    if (ch !== this.#char) out.push(this.#char);
    return false;
  }
}
