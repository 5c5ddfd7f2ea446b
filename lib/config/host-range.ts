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
 * Names folded into ranges, ClusterShell style: names that differ in one number share one
 * `prefix[ranges]suffix` (`web01`…`web40`, `web45` → `web[01-40,45]`; `10.0.0.2:22`…`10.0.0.11:22`
 * → `10.0.0.[2-11]:22`): among names of the same shape the number that varies is folded (the one
 * that folds them into the fewest groups); a number written zero-padded keeps its width (`web10`
 * joins `web01`…`web09`). Other names are listed as they are. Sorted, comma-separated.
 *
 * @example
 * ```ts
 * import { foldHosts } from 'rxssh';
 *
 * foldHosts(['web02.example', 'web01.example', 'web03.example', 'db1']); // 'db1,web[01-03].example'
 * ```
 */
export function foldHosts(names: Iterable<string>): string {
  // Each name as text and number tokens: 'web01.example' → ['web', '01', '.example'].
  const shapes = new Map<string, string[][]>();
  for (const name of new Set(names)) {
    const tokens = name.split(/(\d+)/);
    const shape = tokens.map((t, i) => (i % 2 === 1 ? '#' : t)).join('\u0000');
    const list = shapes.get(shape) ?? [];
    list.push(tokens);
    shapes.set(shape, list);
  }
  const parts: string[] = [];
  for (const members of shapes.values()) {
    const numbers = ((members[0]?.length ?? 1) - 1) / 2;
    if (members.length === 1 || numbers === 0) {
      for (const m of members) parts.push(m.join(''));
      continue;
    }
    // Fold on the number position that leaves the fewest groups (the last one on a tie).
    let best = { position: -1, groups: new Map<string, string[][]>() };
    for (let n = 0; n < numbers; n++) {
      const position = 2 * n + 1;
      const groups = new Map<string, string[][]>();
      for (const m of members) {
        const key = m.map((t, i) => (i === position ? '' : t)).join('\u0000');
        groups.set(key, [...(groups.get(key) ?? []), m]);
      }
      if (best.position < 0 || groups.size <= best.groups.size) best = { position, groups };
    }
    for (const group of best.groups.values()) parts.push(...foldAt(group, best.position));
  }
  return parts.sort((a, b) => a.localeCompare(b, 'en', { numeric: true })).join(',');
}

/** Names equal but for the number at `position`, folded there (one entry per width written). */
function foldAt(group: readonly string[][], position: number): string[] {
  const digits = group.map((m) => m[position] ?? '');
  const padded = new Set(digits.filter((d) => d.length > 1 && d.startsWith('0')).map((d) => d.length));
  const byWidth = new Map<number, number[]>();
  for (const d of digits) {
    const width = padded.has(d.length) ? d.length : 0;
    byWidth.set(width, [...(byWidth.get(width) ?? []), Number(d)]);
  }
  const template = group[0] ?? [];
  const out: string[] = [];
  for (const [width, values] of byWidth) {
    const sorted = [...new Set(values)].sort((a, b) => a - b);
    const pad = (n: number): string => String(n).padStart(width, '0');
    const runs: string[] = [];
    for (let i = 0; i < sorted.length; ) {
      let j = i;
      while (j + 1 < sorted.length && (sorted[j + 1] as number) === (sorted[j] as number) + 1) j++;
      runs.push(j > i ? `${pad(sorted[i] as number)}-${pad(sorted[j] as number)}` : pad(sorted[i] as number));
      i = j + 1;
    }
    const middle = sorted.length === 1 ? pad(sorted[0] as number) : `[${runs.join(',')}]`;
    out.push(template.map((t, i) => (i === position ? middle : t)).join(''));
  }
  return out;
}
