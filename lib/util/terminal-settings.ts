/**
 * The ssh_config keywords of an interactive session's terminal, read as OpenSSH 9.2's readconf.c
 * reads them: `EscapeChar` (the character `rxssh exec` watches for at the start of a line on a
 * session with a pseudo-terminal) and `LogLevel` (below INFO, `rxssh exec` prints none of its
 * own notices, as `ssh -q`).
 */

/** An ssh_config `LogLevel`, as ssh names it once read (`DEBUG1` is `DEBUG`, `SILENT` is `QUIET`). */
export type LogLevel = 'QUIET' | 'FATAL' | 'ERROR' | 'INFO' | 'VERBOSE' | 'DEBUG' | 'DEBUG2' | 'DEBUG3';

/** ssh's log levels, in order; `QUIET` is what `ssh -G` prints as `SILENT`. */
const LOG_LEVELS: readonly LogLevel[] = ['QUIET', 'FATAL', 'ERROR', 'INFO', 'VERBOSE', 'DEBUG', 'DEBUG2', 'DEBUG3'];

/** `LogLevel`'s value as ssh reads it (any case; `silent`, `debug1` too), or undefined for one ssh refuses. */
export function logLevelOf(text: string): LogLevel | undefined {
  const upper = text.toUpperCase();
  if (upper === 'SILENT') return 'QUIET';
  if (upper === 'DEBUG1') return 'DEBUG';
  return LOG_LEVELS.find((level) => level === upper);
}

/** Whether rxssh's own notices are quiet at `level` (below INFO), as ssh's logit() is. */
export function quietAt(level: LogLevel): boolean {
  return LOG_LEVELS.indexOf(level) < LOG_LEVELS.indexOf('INFO');
}

/**
 * `EscapeChar` (and `ssh -e`) as ssh reads it: one character (one byte), `^X` for the control
 * character (X from `@` to DEL), or `none` (exact case); null for none, undefined for a value ssh
 * refuses ("Bad escape character").
 */
export function escapeCharOf(text: string): string | null | undefined {
  if (text === 'none') return null;
  if (Buffer.byteLength(text) === 1) return text;
  if (text.length === 2 && text[0] === '^') {
    const code = text.charCodeAt(1);
    if (code >= 64 && code < 128) return String.fromCharCode(code & 31);
  }
  return undefined;
}
