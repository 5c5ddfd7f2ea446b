/**
 * ssh_config `RekeyLimit BYTES [TIME]` as ssh reads it: BYTES a number with an optional K, M,
 * G, T, P or E (powers of 1024, fractions allowed) or `default`, at least 16 unless 0 (the
 * default); TIME in seconds with optional s, m, h, d or w units, combined (`1h30m`), or `none`.
 */
import type { RekeyLimitConfig } from '../transport/connect-config.js';

const SCALE = 'KMGTPE';

/** BYTES, or undefined for `default` and 0; an Error as ssh words it. */
function bytesOf(text: string): number | undefined | Error {
  if (text.toLowerCase() === 'default') return undefined;
  const m = /^(\d+(?:\.\d+)?)([KMGTPE]?)$/i.exec(text);
  if (!m) return new Error(`Bad number '${text}'`);
  const suffix = (m[2] ?? '').toUpperCase();
  const bytes = Math.floor(Number(m[1]) * 1024 ** (suffix === '' ? 0 : SCALE.indexOf(suffix) + 1));
  if (bytes > 0 && bytes < 16) return new Error('RekeyLimit too small');
  // ssh takes up to 2^64; past 2^53 (8 PiB, which no connection carries) a JS number is not exact.
  return bytes === 0 ? undefined : Math.min(bytes, Number.MAX_SAFE_INTEGER);
}

/** TIME in milliseconds, or undefined for `none` and 0; an Error when ssh would refuse it. */
function intervalOf(text: string): number | undefined | Error {
  if (text.toLowerCase() === 'none') return undefined;
  const units: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 };
  let seconds = 0;
  const parts = text.match(/\d+[smhdw]?/giy);
  if (!parts || parts.join('') !== text) return new Error('invalid time value');
  for (const part of parts) seconds += Number(/^\d+/.exec(part)?.[0]) * (units[part.replace(/^\d+/, '').toLowerCase()] ?? 0);
  return seconds === 0 ? undefined : seconds * 1000;
}

/** A time as ssh's convtime reads it (`90`, `1h30m`), in seconds; an Error for anything else. */
export function sshSeconds(text: string): number | Error {
  const ms = intervalOf(text);
  return ms instanceof Error ? ms : ms === undefined ? (text.toLowerCase() === 'none' ? new Error('invalid time value') : 0) : ms / 1000;
}

/** `RekeyLimit`'s words as `ConnectConfig.rekeyLimit` (undefined when both are defaults), or an Error. */
export function rekeyLimitOf(args: readonly string[]): RekeyLimitConfig | undefined | Error {
  return rekeyLimitFrom([args]);
}

/**
 * Every `RekeyLimit` line that applies, in order, as ssh's readconf.c combines them: BYTES from
 * the first line (`default` counts as set), TIME from the first line that gives one other than
 * `none` (ssh skips `none` without setting it, so `default none` then `1G 1h` is 0 and 3600 s).
 */
export function rekeyLimitFrom(lines: ReadonlyArray<readonly string[]>): RekeyLimitConfig | undefined | Error {
  let bytes: { value: number | undefined } | undefined; // undefined: not set yet
  let interval: { value: number | undefined } | undefined;
  for (const args of lines) {
    const [bytesText = '', timeText, ...rest] = args.join(' ').trim().split(/\s+/);
    if (rest.length > 0) return new Error(`garbage at end of line: ${rest.join(' ')}`);
    const b = bytesOf(bytesText);
    if (b instanceof Error) return b;
    bytes ??= { value: b };
    if (timeText === undefined || timeText.toLowerCase() === 'none') continue;
    const t = intervalOf(timeText);
    if (t instanceof Error) return t;
    interval ??= { value: t };
  }
  const limit = { ...(bytes?.value !== undefined ? { bytes: bytes.value } : {}), ...(interval?.value !== undefined ? { interval: interval.value } : {}) };
  return Object.keys(limit).length ? limit : undefined;
}
