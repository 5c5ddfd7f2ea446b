/**
 * Argument checks with one rule (docs/api-conventions.md): a `TypeError` when a value has the
 * wrong type or shape, a `RangeError` when a number is of the right type but not allowed
 * (outside its range, fractional where a count is asked, infinite). Thrown at call time, before
 * anything touches the network. `what` names the argument as the caller wrote it
 * (`connect(): port`).
 */

/** What a number argument may be. */
export interface NumberRule {
  /** The smallest allowed value (inclusive). */
  readonly min?: number;
  /** The largest allowed value (inclusive). */
  readonly max?: number;
  /** Whether it must be a whole number (a count, a port, a size). */
  readonly integer?: boolean;
  /** How the allowed values read in the error: `a positive integer`, `a port 1-65535` (ASCII: one non-Latin-1 character doubles the memory of a whole module's source). */
  readonly expected: string;
}

/** The value as an error message shows it. */
function shown(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : typeof value === 'bigint' ? `${value}n` : String(value);
}

/** Checks a number argument; returns it. */
export function checkNumber(what: string, value: unknown, rule: NumberRule): number {
  if (typeof value !== 'number' || Number.isNaN(value)) throw new TypeError(`${what} must be a number (${rule.expected}), got ${shown(value)}`);
  const fits = Number.isFinite(value) && (!rule.integer || Number.isSafeInteger(value)) && (rule.min === undefined || value >= rule.min) && (rule.max === undefined || value <= rule.max);
  if (!fits) throw new RangeError(`${what} must be ${rule.expected}, got ${shown(value)}`);
  return value;
}

/** A count: a whole number ≥ 1. */
export const POSITIVE_INTEGER: NumberRule = { min: 1, integer: true, expected: 'a positive integer' };
/** A whole number ≥ 0. */
export const NON_NEGATIVE_INTEGER: NumberRule = { min: 0, integer: true, expected: 'a non-negative integer' };
/** Milliseconds, 0 = none. */
export const MILLISECONDS: NumberRule = { min: 0, expected: 'a non-negative number of milliseconds' };
/** A TCP port. */
export const PORT: NumberRule = { min: 1, max: 65535, integer: true, expected: 'a port 1-65535' };

/** Checks a string argument (non-empty unless `allowEmpty`); returns it. */
export function checkString(what: string, value: unknown, allowEmpty = false): string {
  if (typeof value !== 'string' || (!allowEmpty && value === '')) throw new TypeError(`${what} must be a ${allowEmpty ? '' : 'non-empty '}string, got ${shown(value)}`);
  return value;
}

/**
 * The names a config type takes, listed once beside the type: a compile error names any key of
 * `T` the list leaves out (and any name that is not a key of `T`), so the list cannot fall
 * behind the type.
 */
export function optionNames<T>(): <const K extends readonly (keyof T & string)[]>(names: K & ([Exclude<keyof T, K[number]>] extends [never] ? unknown : { readonly missing: Exclude<keyof T, K[number]> })) => ReadonlySet<K[number]> {
  return (names) => new Set(names);
}

/** Edit distance of two short names (insertions, deletions, substitutions, one swap of neighbours). */
function distance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = best;
    }
  }
  return rows[a.length]![b.length]!;
}

/** The known name `key` was most likely meant to be: the same letters in another case, or one or two edits away. */
function nearest(key: string, names: ReadonlySet<string>): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.min(2, Math.floor(key.length / 3));
  for (const name of names) {
    if (name.toLowerCase() === key.toLowerCase()) return name;
    const d = distance(key.toLowerCase(), name.toLowerCase());
    if (d <= bestDistance && (best === undefined || d < bestDistance)) [best, bestDistance] = [name, d];
  }
  return best;
}

/**
 * Refuses an option the config type does not have (a `TypeError` naming it, with the name it
 * was likely meant to be or what to use instead), so that a misspelt or foreign option (ssh2's
 * `readyTimeout`, `privateKey`) is never silently dropped. A key whose value is `undefined`
 * asks for nothing and passes. `hints` maps a foreign name to what to use instead.
 */
export function checkOptions(what: string, config: unknown, names: ReadonlySet<string>, hints: Readonly<Record<string, string>> = {}): void {
  if (typeof config !== 'object' || config === null) return;
  for (const key of Object.keys(config)) {
    if (names.has(key) || (config as Record<string, unknown>)[key] === undefined) continue;
    const foreign = Object.hasOwn(hints, key) ? key : nearest(key, new Set(Object.keys(hints)));
    const hint = foreign !== undefined && foreign !== key ? `${foreign}? ${hints[foreign]}` : foreign !== undefined ? hints[foreign] : undefined;
    const near = hint === undefined ? nearest(key, names) : undefined;
    const why = hint !== undefined ? ` (${hint})` : near !== undefined ? ` (did you mean ${JSON.stringify(near)}?)` : '';
    throw new TypeError(`${what}: unknown option ${JSON.stringify(key)}${why}; it takes ${[...names].join(', ')}`);
  }
}

/** The part of a wider config that a narrower type takes (for passing a checked config on). */
export function pickOptions<T extends object>(config: T, names: ReadonlySet<string>): T {
  return Object.fromEntries(Object.entries(config).filter(([key]) => names.has(key))) as T;
}
