/** Shared plumbing of the benchmarks: timing, statistics, the sshd under test, reports. */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { readFileSync } from 'node:fs';
import { startSshd, type SshdInfo } from '../spec/integration/sshd.js';

export type { SshdInfo };

export interface Row {
  readonly part: string;
  readonly case: string;
  readonly client: string;
  /** Median of the repetitions, in the row's unit. */
  readonly median: number;
  readonly unit: string;
  readonly runs: readonly number[];
  /** Optional note (e.g. throughput). */
  readonly note?: string;
}

export interface Ratio {
  readonly part: string;
  readonly what: string;
  readonly value: number;
  readonly goal: string;
  readonly met: boolean;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] ?? NaN) : ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
}

/** Runs `fn` `reps` times (after `warmup` unmeasured runs); returns the durations in ms. */
export async function time(reps: number, fn: () => Promise<unknown>, warmup = 1): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const out: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await fn();
    out.push(performance.now() - t0);
  }
  return out;
}

export function machine(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  const ssh = execFileSync('ssh', ['-V'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim() || 'ssh';
  let sshVersion = ssh;
  try {
    sshVersion = execFileSync('sh', ['-c', 'ssh -V 2>&1'], { encoding: 'utf8' }).trim();
  } catch {
    /* keep */
  }
  const ssh2 = JSON.parse(readFileSync(new URL('../node_modules/ssh2/package.json', import.meta.url), 'utf8')) as { version: string };
  const binding = (() => {
    try {
      execFileSync('node', ['-e', "process.exit(require('ssh2/lib/protocol/crypto.js').bindingAvailable ? 0 : 1)"]);
      return 'built';
    } catch {
      return 'missing';
    }
  })();
  return `${cpus().length} × ${cpu}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; Node ${process.version}; ${sshVersion}; ssh2 ${ssh2.version} (native crypto binding ${binding}); loopback`;
}

export async function withSshd<T>(extra: readonly string[], use: (info: SshdInfo) => Promise<T>): Promise<T> {
  const { info, stop } = await startSshd({ extra });
  try {
    return await use(info);
  } finally {
    await stop();
  }
}

/**
 * Instructions a whole Node process runs: `node --single-threaded ARGS` under valgrind's
 * callgrind (the collector on the main thread, so that it is counted too). Returns the count
 * and the process's stdout.
 */
export function countInstructions(args: readonly string[], env: NodeJS.ProcessEnv = process.env): { instructions: number; stdout: string } {
  const out = spawnSync('valgrind', ['--tool=callgrind', '--callgrind-out-file=/dev/null', '--smc-check=all-non-file', process.execPath, '--single-threaded', ...args], {
    encoding: 'utf8',
    env,
    maxBuffer: 64 * 1024 * 1024,
  });
  const collected = /Collected : (\d+)/.exec(out.stderr)?.[1];
  if (out.status !== 0 || collected === undefined) throw new Error(`valgrind node ${args.join(' ')} failed: ${out.stderr.slice(-600)}`);
  return { instructions: Number(collected), stdout: out.stdout };
}

let built = false;

/** Builds dist/ (what users run, as `npm pack` would) once per bench run, for the parts that run it. */
export function buildDist(): void {
  if (built) return;
  execFileSync('npm', ['run', '--silent', 'build'], { stdio: 'inherit' });
  built = true;
}

export function fmt(n: number, digits = 1): string {
  return Number.isFinite(n) ? n.toFixed(digits) : 'n/a';
}

export function log(line: string): void {
  process.stderr.write(`${line}\n`);
}
