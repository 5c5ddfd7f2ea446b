/**
 * Host ranges as ClusterShell's NodeSet writes them: `web[01-20].example`, `10.0.0.[1-50]`,
 * `db[1,3,5-7]`, several groups in one name (every combination), `[1-9/2]` steps; the widths
 * of zero-padded bounds are kept. And the other way: many names folded back into that form
 * (`web[01-40,45].example`).
 */

/** At most this many names from one spec unless the caller allows more. */
export const MAX_RANGE_EXPANSION = 100_000;

/** A `[...]` group that is a range (digits, commas, dashes, steps), not an IPv6 literal (`[::1]`). */
const GROUP = /\[([0-9,\-/\s]*)\]/;

/**
 * Every name a host spec stands for: itself when it has no range, else each combination of its
 * `[…]` groups in order. Throws `RangeError` naming the spec for a malformed group (`[3-1]`,
 * `[1-]`, `[a-c]`, an unclosed `[`) or an expansion beyond `limit` names.
 *
 * @example
 * ```ts
 * import { expandHostRange } from 'rxssh';
 *
 * expandHostRange('web[01-03].example'); // ['web01.example', 'web02.example', 'web03.example']
 * expandHostRange('deploy@db[1,3]:2222'); // ['deploy@db1:2222', 'deploy@db3:2222']
 * ```
 */
export function expandHostRange(spec: string, limit = MAX_RANGE_EXPANSION): string[] {
  if (typeof spec !== 'string') throw new TypeError('expandHostRange() needs a string');
  const m = GROUP.exec(spec);
  if (!m) {
    // A bracket left once IPv6 literals (`[::1]`, with a colon) are set aside is a mistake.
    const withoutV6 = spec.replace(/\[[^\]]*:[^\]]*\]/g, '');
    if (/[[\]]/.test(withoutV6)) throw new RangeError(`${spec}: a [ ] group that is not a range of numbers (N, N-M, N-M/step, comma-separated)`);
    return [spec];
  }
  const head = spec.slice(0, m.index);
  const tail = spec.slice(m.index + m[0].length);
  const values = rangeValues(m[1] ?? '', spec);
  const rest = expandHostRange(tail, limit);
  if (values.length * rest.length > limit) throw new RangeError(`${spec}: expands to ${values.length * rest.length} names, more than ${limit}`);
  const out: string[] = [];
  for (const v of values) for (const r of rest) out.push(`${head}${v}${r}`);
  return out;
}

/** The values of one group (`01-03,7`), padded as written. */
function rangeValues(body: string, spec: string): string[] {
  const out: string[] = [];
  const items = body.split(',').map((s) => s.trim());
  for (const item of items) {
    const r = /^(\d+)(?:-(\d+)(?:\/(\d+))?)?$/.exec(item);
    if (!r) throw new RangeError(`${spec}: "${item}" is not a number or a range N-M[/step] in [${body}]`);
    const [, lo = '', hi, stepText] = r;
    if (hi === undefined) {
      out.push(lo);
      continue;
    }
    const from = Number(lo);
    const to = Number(hi);
    const step = stepText === undefined ? 1 : Number(stepText);
    if (to < from) throw new RangeError(`${spec}: range ${item} runs backwards`);
    if (step < 1) throw new RangeError(`${spec}: step ${stepText ?? ''} in ${item} must be at least 1`);
    if ((to - from) / step + 1 > MAX_RANGE_EXPANSION) throw new RangeError(`${spec}: range ${item} is larger than ${MAX_RANGE_EXPANSION}`);
    const width = lo.length > 1 && lo.startsWith('0') ? lo.length : 0;
    for (let n = from; n <= to; n += step) out.push(String(n).padStart(width, '0'));
  }
  return out;
}

/**
 * Names folded into ranges, ClusterShell style: names that differ only in their last number
 * share one `prefix[ranges]suffix` (`web01`…`web40`, `web45` → `web[01-40,45]`); numbers of
 * another width stay apart; other names are listed as they are. Sorted, comma-separated.
 *
 * @example
 * ```ts
 * import { foldHosts } from 'rxssh';
 *
 * foldHosts(['web02.example', 'web01.example', 'web03.example', 'db1']); // 'db1,web[01-03].example'
 * ```
 */
export function foldHosts(names: Iterable<string>): string {
  const groups = new Map<string, { head: string; tail: string; width: number; numbers: Set<number> }>();
  const plain = new Set<string>();
  const numbered: Array<{ head: string; tail: string; digits: string }> = [];
  // Widths written zero-padded, per prefix and suffix: `web10` joins `web01`…`web09` (width 2).
  const padded = new Map<string, Set<number>>();
  for (const name of names) {
    const m = /^(.*?)(\d+)(\D*)$/.exec(name);
    if (!m) {
      plain.add(name);
      continue;
    }
    const [, head = '', digits = '', tail = ''] = m;
    numbered.push({ head, tail, digits });
    if (digits.length > 1 && digits.startsWith('0')) {
      const widths = padded.get(`${head}\u0000${tail}`) ?? new Set<number>();
      widths.add(digits.length);
      padded.set(`${head}\u0000${tail}`, widths);
    }
  }
  for (const { head, tail, digits } of numbered) {
    const width = padded.get(`${head}\u0000${tail}`)?.has(digits.length) ? digits.length : 0;
    const key = `${head}\u0000${tail}\u0000${width}`;
    const group = groups.get(key) ?? { head, tail, width, numbers: new Set<number>() };
    group.numbers.add(Number(digits));
    groups.set(key, group);
  }
  const parts: string[] = [...plain];
  for (const g of groups.values()) {
    const sorted = [...g.numbers].sort((a, b) => a - b);
    const pad = (n: number): string => String(n).padStart(g.width, '0');
    if (sorted.length === 1) {
      parts.push(`${g.head}${pad(sorted[0] as number)}${g.tail}`);
      continue;
    }
    const runs: string[] = [];
    for (let i = 0; i < sorted.length; ) {
      let j = i;
      while (j + 1 < sorted.length && (sorted[j + 1] as number) === (sorted[j] as number) + 1) j++;
      runs.push(j > i ? `${pad(sorted[i] as number)}-${pad(sorted[j] as number)}` : pad(sorted[i] as number));
      i = j + 1;
    }
    parts.push(`${g.head}[${runs.join(',')}]${g.tail}`);
  }
  return parts.sort((a, b) => a.localeCompare(b, 'en', { numeric: true })).join(',');
}
