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
