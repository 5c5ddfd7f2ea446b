/** One rule for bad arguments: TypeError for a wrong type, RangeError for a number out of range. */
import { describe, expect, it } from 'vitest';
import { checkNumber, checkString, PORT } from '../../lib/util/check.js';
import { connect, parseHostSpec, splitLines } from '../../lib/index.js';
import { fanOut, fanOutInWorkers } from '../../lib/fleet/index.js';
import { EMPTY } from 'rxjs';

describe('checkNumber / checkString', () => {
  it('a wrong type (or NaN) is a TypeError; a number outside the rule is a RangeError naming what is allowed', () => {
    expect(checkNumber('p', 22, PORT)).toBe(22);
    expect(() => checkNumber('p', '22', PORT)).toThrow(TypeError);
    expect(() => checkNumber('p', Number.NaN, PORT)).toThrow(TypeError);
    expect(() => checkNumber('p', 0, PORT)).toThrow(new RangeError('p must be a port 1-65535, got 0'));
    expect(() => checkNumber('p', 1.5, PORT)).toThrow(RangeError);
    expect(() => checkNumber('n', Infinity, { min: 0, expected: 'ms' })).toThrow(RangeError);
    expect(checkString('s', 'x')).toBe('x');
    expect(() => checkString('s', '')).toThrow(TypeError);
    expect(checkString('s', '', true)).toBe('');
  });
});

describe('the public API follows the rule, at call time', () => {
  const cases: Array<[string, () => unknown, ErrorConstructor]> = [
    ['connect port 0', () => connect({ host: 'h', username: 'u', port: 0 }), RangeError],
    ['connect port "22"', () => connect({ host: 'h', username: 'u', port: '22' as unknown as number }), TypeError],
    ['connect maxChannels 0', () => connect({ host: 'h', username: 'u', maxChannels: 0 }), RangeError],
    ['connect timeouts.connect -1', () => connect({ host: 'h', username: 'u', timeouts: { connect: -1 } }), RangeError],
    ['connect keepalive.countMax 0.5', () => connect({ host: 'h', username: 'u', keepalive: { countMax: 0.5 } }), RangeError],
    ['connect host ""', () => connect({ host: '', username: 'u' }), TypeError],
    ['connect rekeyLimit.bytes 10 (ssh: too small)', () => connect({ host: 'h', username: 'u', rekeyLimit: { bytes: 10 } }), RangeError],
    ['connect rekeyLimit.interval 0', () => connect({ host: 'h', username: 'u', rekeyLimit: { interval: 0 } }), RangeError],
    ['connect rekeyLimit "1G"', () => connect({ host: 'h', username: 'u', rekeyLimit: '1G' as never }), TypeError],
    ['fanOut concurrency 0', () => fanOut([], () => EMPTY, { concurrency: 0 }), RangeError],
    ['fanOut concurrency "4"', () => fanOut([], () => EMPTY, { concurrency: '4' as unknown as number }), TypeError],
    ['fanOut timeout -1', () => fanOut([], () => EMPTY, { timeout: -1 }), RangeError],
    ['fanOutInWorkers threads 0', () => fanOutInWorkers([], { module: '/nowhere.mjs' }, { threads: 0 }), RangeError],
    ['splitLines maxLength 0', () => splitLines({ maxLength: 0 }), RangeError],
    ['parseHostSpec port 70000', () => parseHostSpec('h:70000'), RangeError],
    ['parseHostSpec "a@"', () => parseHostSpec('a@'), TypeError],
  ];
  it.each(cases)('%s', (_name, call, kind) => {
    expect(call).toThrow(kind);
  });
});
