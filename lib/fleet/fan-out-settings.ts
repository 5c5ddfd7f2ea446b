/** `fanOut()`'s config checked, with its defaults: a bad value is a RangeError or TypeError naming it. */
import { checkNumber, MILLISECONDS, NON_NEGATIVE_INTEGER, POSITIVE_INTEGER } from '../util/check.js';
import { hostsOf } from './rollout.js';
import type { FanOutConfig } from './types.js';

/** The numbers a fan-out runs by. */
export interface FanOutSettings {
  readonly concurrency: number;
  readonly timeout: number;
  readonly retries: number;
  readonly retryDelay: number;
  readonly capture: number;
  readonly maxLineLength: number;
  readonly canary: number;
  readonly batch: number | undefined;
  readonly maxFail: number;
}

/** Checks `config` for a run of `hosts` hosts. */
export function fanOutSettings(config: FanOutConfig, hosts: number): FanOutSettings {
  const concurrency = checkNumber('fanOut(): concurrency', config.concurrency ?? 32, POSITIVE_INTEGER);
  const timeout = config.timeout ?? 60_000;
  const retries = config.retries ?? 5;
  const retryDelay = config.retryDelay ?? 100;
  const capture = config.capture ?? 1024 * 1024;
  const maxLineLength = checkNumber('fanOut(): maxLineLength', config.maxLineLength ?? 64 * 1024, POSITIVE_INTEGER);
  for (const [name, v] of [['timeout', timeout], ['retryDelay', retryDelay], ['deadline', config.deadline ?? 0]] as const) checkNumber(`fanOut(): ${name}`, v, MILLISECONDS);
  checkNumber('fanOut(): retries', retries, NON_NEGATIVE_INTEGER);
  checkNumber('fanOut(): capture', capture, { min: 0, expected: 'a non-negative number of bytes' });
  const canary = checkNumber('fanOut(): canary', config.canary ?? 0, NON_NEGATIVE_INTEGER);
  const batch = config.batch === undefined ? undefined : hostsOf(config.batch, hosts, 'fanOut(): batch');
  if (batch === 0) throw new RangeError('fanOut(): batch must be at least one host');
  const maxFail = config.maxFail === undefined ? Infinity : hostsOf(config.maxFail, hosts, 'fanOut(): maxFail', 'exact');
  if (config.rate !== undefined) checkNumber('fanOut(): rate', config.rate, { min: Number.MIN_VALUE, expected: 'a positive number of starts per second' });
  return { concurrency, timeout, retries, retryDelay, capture, maxLineLength, canary, batch, maxFail };
}
