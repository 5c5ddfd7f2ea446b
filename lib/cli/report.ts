/**
 * What a run reports: the exit code of a set of results (pssh's), status lines, the NDJSON
 * form of a result, output file names, the summary table, and server text made safe for a
 * terminal.
 */
import { ExitStatusError, SshError, type FanOutTarget } from '../index.js';
import { type FoldedResult, type HostResult, type HostStatus } from '../fleet/index.js';
import { unknownHostAdvice } from './host-keys.js';
import { EXIT } from './usage.js';
import { readyAt } from './host.js';

/** The exit code for a set of results, in pssh's order of precedence. */
export function exitCodeOf(statuses: Iterable<HostStatus>): number {
  const all = new Set(statuses);
  // pssh: 3 = a process was killed or timed out (a Ctrl-C'd run's hosts are cancelled).
  if (all.has('timeout') || all.has('cancelled') || all.has('lost')) return EXIT.timeout;
  if (all.has('unreachable') || all.has('auth-failed') || all.has('host-key-rejected') || all.has('connection-error')) return EXIT.connection;
  if (all.has('failed')) return EXIT.remote;
  return EXIT.ok;
}


export function statusText(r: HostResult<unknown>): string {
  switch (r.status) {
    case 'ok':
      return '';
    case 'failed':
      return r.signal ? ` Killed by signal ${r.signal}` : r.exitCode !== null ? ` Exited with error code ${r.exitCode}` : ` ${errorText(r.error)}`;
    case 'timeout':
      return ' Timed out';
    case 'cancelled':
      return ' Interrupted';
    case 'lost':
      return ` Lost: ${errorText(r.error)}`;
    default:
      return ` ${errorText(r.error)}`;
  }
}

/**
 * `--fold`: each group of hosts with the same result once, as ClusterShell's `clubak -b` prints
 * them: a rule, the folded host names with their count (and the status when it is not a
 * success), a rule, then the output (stdout, then stderr after "Stderr:").
 */
export function foldedText(groups: readonly FoldedResult<unknown>[]): string {
  let out = '';
  for (const g of groups) {
    const title = `${terminalSafe(g.folded)} (${g.hosts.length})${g.status === 'ok' ? '' : ` [FAILURE]${terminalSafe(statusText(g.sample))}`}`;
    const rule = '-'.repeat(Math.min(Math.max(15, title.length), 78));
    out += `${rule}\n${title}\n${rule}\n${g.stdout}`;
    if (g.stdout && !g.stdout.endsWith('\n')) out += '\n';
    if (g.stderr) out += `Stderr: ${g.stderr}${g.stderr.endsWith('\n') ? '' : '\n'}`;
  }
  return out;
}

export function errorText(error: unknown): string {
  if (error instanceof ExitStatusError) return `Exited with error code ${error.exitCode}`;
  return error instanceof Error ? error.message + unknownHostAdvice(error) : String(error);
}

export function causes(error: unknown): string {
  const out: string[] = [];
  for (let e = (error as { cause?: unknown } | undefined)?.cause; e !== undefined && out.length < 5; e = (e as { cause?: unknown }).cause) {
    out.push(e instanceof Error ? e.message : String(e));
  }
  return out.length ? ` (cause: ${out.join(' <- ')})` : '';
}

export function clock(ms: number): string {
  return new Date(ms).toTimeString().slice(0, 8);
}

/**
 * Text a server chose (error descriptions, exit messages, output shown in status lines) made
 * safe for a terminal, as OpenSSH does: control characters (but tab), DEL and C1 become `\xNN`,
 * so a host can neither fake a status line nor send escape sequences. A command's own output in
 * `-i`, `-P`, `-o` and `-e` is left as it is.
 */
export function terminalSafe(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\x00-\x08\x0a-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/**
 * The output file name of a target, as pssh names it: the host, with `user@` when the user
 * differs from the default one and `:port` when a port was given; made safe for a file name (no
 * `/`, no control characters, never `.` or `..`).
 */
export function outputName(target: FanOutTarget, defaultUser: string): string {
  const name = `${target.username && target.username !== defaultUser ? `${target.username}@` : ''}${target.alias ?? target.host}${target.port ? `:${target.port}` : ''}`;
  const safe = name.replace(/[^A-Za-z0-9._@:[\]-]/g, '_');
  return safe === '.' || safe === '..' || safe === '' ? `_${safe}` : safe;
}

/** The JSON form of a result (one NDJSON line). */
export function resultJson(r: HostResult<unknown>): Record<string, unknown> {
  return {
    type: 'result',
    host: r.host,
    status: r.status,
    exitCode: r.exitCode,
    signal: r.signal,
    stdout: r.stdout,
    stderr: r.stderr,
    truncated: r.truncated,
    error: r.error === undefined ? null : { code: r.error instanceof SshError ? r.error.code : null, message: errorText(r.error) },
    attempts: r.attempts,
    durationMs: r.timings.durationMs,
    startedAt: r.timings.startedAt,
    endedAt: r.timings.endedAt,
    ...(readyAt.has(r.target) ? { readyAt: readyAt.get(r.target) } : {}),
  };
}

/** A small table: hosts per status, wall time and per-host duration percentiles. */
export function summaryTable(statuses: readonly HostStatus[], durations: readonly number[], wallMs: number): string {
  const counts = new Map<string, number>();
  for (const s of statuses) counts.set(s, (counts.get(s) ?? 0) + 1);
  const sorted = [...durations].sort((a, b) => a - b);
  const pct = (p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
  const rows = [...counts].map(([s, c]) => `  ${s.padEnd(18)} ${String(c).padStart(6)}`);
  return [
    '',
    '  status              hosts',
    '  ------------------ ------',
    ...rows,
    `  ${'total'.padEnd(18)} ${String(statuses.length).padStart(6)}`,
    '',
    `  wall ${(wallMs / 1000).toFixed(2)} s; per host p50 ${pct(50)} ms, p95 ${pct(95)} ms, max ${pct(100)} ms`,
    '',
  ].join('\n');
}
