/** `RekeyLimit BYTES [TIME]` read as `ssh -G` reads it: the machine's ssh is the oracle. */
import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { rekeyLimitFrom, rekeyLimitOf } from '../../lib/config/rekey-limit.js';

/** What `ssh -G` prints for `-o RekeyLimit=VALUE` (`BYTES SECONDS`), or 'refused'. */
function sshSays(value: string): string {
  const r = spawnSync('ssh', ['-G', '-F', '/dev/null', '-o', `RekeyLimit=${value}`, 'h'], { encoding: 'utf8' });
  if (r.status !== 0) return 'refused';
  return /^rekeylimit (.*)$/m.exec(r.stdout)?.[1] ?? 'missing';
}

describe('rekeyLimitOf', () => {
  it('ssh is here to ask', () => {
    expect(execFileSync('ssh', ['-G', '-F', '/dev/null', 'h'], { encoding: 'utf8' })).toMatch(/^rekeylimit 0 0$/m);
  });

  it.each(['1G 1h', '500M', 'default none', '100K 30m', '1G 1h30m', '10', '16', '4G', '1M 0', 'default 2w', '1G none', '1G default', '1g', '1.5G', '1T', 'none', '1G 1H', '1G 10', '1G 1x', '0', '1G -1', '1k', '4P', '1G 1d2h3m4s', 'x'])(
    'RekeyLimit %s as ssh -G',
    (value) => {
      const ours = rekeyLimitOf(value.split(' '));
      const shown = ours instanceof Error ? 'refused' : `${ours?.bytes ?? 0} ${(ours?.interval ?? 0) / 1000}`;
      expect(shown).toBe(sshSays(value));
    },
  );

  it('past 2^53 bytes (ssh takes up to 2^64) the limit is the largest exact number, which connect() takes', () => {
    expect(sshSays('2E')).toBe('2305843009213693952 0');
    expect(rekeyLimitOf(['2E'])).toEqual({ bytes: Number.MAX_SAFE_INTEGER });
  });

  it.each([
    ['default none', '1G 1h'],
    ['1G none', '2G 30m'],
    ['1G', '2G 30m'],
    ['default', '500M 1h', '1G 2h'],
    ['1M 0', '2M 1h'],
    ['default none', 'default none', '4G 1w'],
  ])('RekeyLimit lines %s, %s… combined part by part as ssh -G combines them', (...lines: string[]) => {
    const r = spawnSync('ssh', ['-G', '-F', '/dev/null', ...lines.flatMap((l) => ['-o', `RekeyLimit=${l}`]), 'h'], { encoding: 'utf8' });
    const theirs = /^rekeylimit (.*)$/m.exec(r.stdout)?.[1] ?? 'missing';
    const ours = rekeyLimitFrom(lines.map((l) => l.split(' ')));
    expect(ours instanceof Error ? 'refused' : `${ours?.bytes ?? 0} ${(ours?.interval ?? 0) / 1000}`).toBe(theirs);
  });
});
