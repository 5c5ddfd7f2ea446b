/** foldResults / groupResults: results grouped by what they say, largest group first. */
import { lastValueFrom, of, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { foldResults, groupResults, type HostResult, type HostStatus } from '../../lib/fleet/index.js';

const result = (host: string, status: HostStatus, stdout: string, exitCode: number | null = status === 'ok' ? 0 : 1, stderr = ''): HostResult<unknown> => ({
  type: 'result',
  target: { host, label: host },
  host,
  status,
  value: undefined,
  exitCode,
  signal: null,
  stdout,
  stderr,
  truncated: false,
  error: status === 'ok' ? undefined : new Error(`${host} failed`),
  attempts: 1,
  timings: { startedAt: 0, endedAt: 1, durationMs: 1 },
});

describe('foldResults', () => {
  it('groups hosts with the same status, exit status, stdout and stderr; the largest group first', async () => {
    const results = [
      result('web03', 'failed', 'disk full\n'),
      ...Array.from({ length: 5 }, (_, i) => result(`web0${i + 4}`, 'ok', 'up 3 days\n')),
      result('web01', 'ok', 'up 3 days\n'),
      result('web02', 'unreachable', '', null),
      result('web10', 'unreachable', '', null),
      result('web11', 'ok', 'up 3 days\n', 0, 'warning\n'),
    ];
    const groups = await lastValueFrom(of(...results).pipe(foldResults(), toArray()));
    expect(groups.map((g) => [g.folded, g.hosts.length, g.status, g.stdout])).toEqual([
      ['web[01,04-08]', 6, 'ok', 'up 3 days\n'],
      ['web[02,10]', 2, 'unreachable', ''],
      ['web03', 1, 'failed', 'disk full\n'],
      ['web11', 1, 'ok', 'up 3 days\n'],
    ]);
    expect(groups[0]?.hosts).toEqual(['web04', 'web05', 'web06', 'web07', 'web08', 'web01']);
    expect(groupResults(results).map((g) => g.folded)).toEqual(groups.map((g) => g.folded));
  });

  it('emits nothing before the fan-out completes, and passes an error on', async () => {
    const seen: unknown[] = [];
    const { Subject } = await import('rxjs');
    const source = new Subject<HostResult<unknown>>();
    source.pipe(foldResults()).subscribe({ next: (g) => seen.push(g.folded), error: (e: unknown) => seen.push(String(e)) });
    source.next(result('a1', 'ok', 'x'));
    expect(seen).toEqual([]);
    source.error(new Error('run failed'));
    expect(seen).toEqual(['Error: run failed']);
  });
});
