/**
 * Reading the output of many hosts as ClusterShell's `clubak -b` does: hosts whose results are
 * the same (status, exit status, stdout and stderr) are one group, named by their folded host
 * list (`web[01-40,45].example`).
 */
import { Observable, type OperatorFunction } from 'rxjs';
import { foldHosts } from '../config/host-range.js';
import type { HostResult, HostStatus } from './types.js';

/**
 * Hosts with the same result.
 *
 * @example
 * ```ts
 * const group: FoldedResult = { hosts: ['web1', 'web2'], folded: 'web[1-2]', status: 'ok', exitCode: 0, signal: null, stdout: 'ok\n', stderr: '', sample: result };
 * ```
 */
export interface FoldedResult<T = unknown> {
  /** The hosts' labels, in the order their results came. */
  readonly hosts: readonly string[];
  /** The labels folded into ranges (`web[01-40,45].example`). */
  readonly folded: string;
  /** The status the group's hosts ended with. */
  readonly status: HostStatus;
  /** Their remote exit status, when known. */
  readonly exitCode: number | null;
  /** The signal that ended their command, or null. */
  readonly signal: string | null;
  /** Their stdout (the same on every host of the group). */
  readonly stdout: string;
  /** Their stderr (the same on every host of the group). */
  readonly stderr: string;
  /** The first of the group's results (its error, timings, value). */
  readonly sample: HostResult<T>;
}

/**
 * {@link foldResults} for results at hand: one {@link FoldedResult} per distinct result, the
 * largest group first (then in order of first arrival).
 *
 * @example
 * ```ts
 * import { groupResults } from 'rxssh/fleet';
 *
 * for (const g of groupResults(results)) console.log(g.folded, g.hosts.length, g.stdout);
 * ```
 */
export function groupResults<T>(results: Iterable<HostResult<T>>): FoldedResult<T>[] {
  const groups = grouping<T>();
  for (const r of results) groups.add(r);
  return groups.folded();
}

/** Groups as results come: one sample and the host names per distinct result, nothing more kept. */
function grouping<T>(): { add(r: HostResult<T>): void; folded(): FoldedResult<T>[] } {
  const groups = new Map<string, { hosts: string[]; sample: HostResult<T> }>();
  return {
    add: (r) => {
      const key = JSON.stringify([r.status, r.exitCode, r.signal, r.stdout, r.stderr]);
      const group = groups.get(key);
      if (group) group.hosts.push(r.host);
      else groups.set(key, { hosts: [r.host], sample: r });
    },
    folded: () =>
      [...groups.values()]
        .map((g, i) => ({ ...g, i }))
        .sort((a, b) => b.hosts.length - a.hosts.length || a.i - b.i)
        .map(({ hosts, sample }) => ({ hosts, folded: foldHosts(hosts), status: sample.status, exitCode: sample.exitCode, signal: sample.signal, stdout: sample.stdout, stderr: sample.stderr, sample })),
  };
}

/**
 * Groups a fan-out's results by what they say: once the fan-out completes, emits one
 * {@link FoldedResult} per distinct result, the largest group first (then in order of first
 * arrival). Two hosts are in one group when status, exit status, signal, stdout and stderr are
 * all equal; errors that name their host (an unreachable address) do not split a group, since
 * only the status is compared.
 *
 * @example
 * ```ts
 * import { fanOut, foldResults } from 'rxssh/fleet';
 *
 * fanOut(hosts, (t) => pipeline(t)).pipe(foldResults()).subscribe((g) => {
 *   console.log(`---- ${g.folded} (${g.hosts.length})`);
 *   process.stdout.write(g.stdout);
 * });
 * ```
 */
export function foldResults<T>(): OperatorFunction<HostResult<T>, FoldedResult<T>> {
  return (source) =>
    new Observable<FoldedResult<T>>((subscriber) => {
      const groups = grouping<T>();
      return source.subscribe({
        next: (r) => groups.add(r),
        error: (err: unknown) => subscriber.error(err),
        complete: () => {
          for (const group of groups.folded()) subscriber.next(group);
          subscriber.complete();
        },
      });
    });
}
