/**
 * What `rxssh run` writes as hosts finish: a status line per host (or NDJSON), the output files
 * (-o/-e), the folded groups (--fold), the HTML report rows (--report), and at the end the
 * summary and the exit code.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ExitStatusError } from '../index.js';
import { groupResults, type HostResult, type HostStatus } from '../fleet/index.js';
import type { Io } from './io.js';
import { EXIT } from './usage.js';
import { causes, clock, errorText, exitCodeOf, foldedText, outputName, resultJson, statusText, summaryTable, terminalSafe } from './report.js';
import { htmlReport, reportHostOf, type ReportHost } from './html-report.js';
import type { FleetOptions } from './fleet-options.js';
import type { HostOptions } from './host.js';

/** What the reporter reads of `rxssh run`'s options. */
export interface ReporterOptions extends FleetOptions, Pick<HostOptions, 'localUser' | 'verbose'> {
  readonly command: string;
  readonly summary?: boolean;
  readonly showOutput?: boolean;
}

/** Where terminal text goes (through the progress bar when it is up). */
export type TerminalWrite = (stream: 'stdout' | 'stderr', text: string | Uint8Array) => void;

/** One run's reporting. */
export class RunReporter {
  readonly #statuses: HostStatus[] = [];
  readonly #durations: number[] = [];
  readonly #startedAt = Date.now();
  readonly #fileNames = new Map<string, number>();
  readonly #folding: HostResult<unknown>[] = [];
  readonly #reportRows: ReportHost[] = [];
  #writeFailures = 0;
  #n = 0;

  readonly #opts: ReporterOptions;
  readonly #io: Io;
  readonly #write: TerminalWrite;

  constructor(opts: ReporterOptions, io: Io, write: TerminalWrite) {
    this.#opts = opts;
    this.#io = io;
    this.#write = write;
  }

  /** Writes one host's output files; a failure is that host's (reported), never the run's. */
  #writeOutputs(r: HostResult<unknown>): string | undefined {
    if (!this.#opts.outdir && !this.#opts.errdir) return undefined;
    const base = outputName(r.target, this.#opts.localUser);
    const count = this.#fileNames.get(base) ?? 0;
    this.#fileNames.set(base, count + 1);
    const name = count ? `${base}.${count}` : base;
    const problems: string[] = [];
    for (const [dir, data] of [[this.#opts.outdir, r.stdout], [this.#opts.errdir, r.stderr]] as const) {
      if (!dir) continue;
      try {
        writeFileSync(join(dir, name), data);
      } catch (err) {
        problems.push(`${join(dir, name)}: ${(err as Error).message}`);
      }
    }
    if (problems.length === 0) return undefined;
    this.#writeFailures++;
    return problems.join('; ');
  }

  /** Prints one host's result (status line, output, files) and counts it. */
  report(r: HostResult<unknown>): void {
    this.#statuses.push(r.status);
    this.#n++;
    const row = this.#opts.report ? reportHostOf(resultJson(r)) : undefined;
    if (row) this.#reportRows.push(row);
    const writeError = this.#writeOutputs(r);
    if (this.#opts.json) {
      this.#io.stdout.write(`${JSON.stringify({ ...resultJson(r), ...(writeError ? { outputError: writeError } : {}) })}\n`);
      return;
    }
    this.#durations.push(r.timings.durationMs);
    if (this.#opts.fold) {
      this.#folding.push(r);
      if (writeError) this.#write('stderr', `rxssh: ${terminalSafe(r.host)}: output not written: ${terminalSafe(writeError)}\n`);
      return;
    }
    // Output that is shown or written and was cut (more than a host's result can hold) says so.
    const cut = r.truncated && (this.#opts.outdir || this.#opts.errdir || this.#opts.inline || this.#opts.inlineStdout) ? ' (output cut: more than rxssh could keep)' : '';
    const line = `[${this.#n}] ${clock(r.timings.endedAt)} [${r.status === 'ok' ? 'SUCCESS' : r.status === 'skipped' ? 'SKIPPED' : 'FAILURE'}] ${terminalSafe(r.host)}${terminalSafe(statusText(r))}${cut}${writeError ? ` (output not written: ${terminalSafe(writeError)})` : ''}\n`;
    this.#write('stdout', line);
    if (this.#opts.verbose && r.error !== undefined && !(r.error instanceof ExitStatusError)) this.#write('stderr', `rxssh: ${terminalSafe(r.host)}: ${terminalSafe(errorText(r.error) + causes(r.error))}\n`);
    if (this.#opts.inline || this.#opts.inlineStdout) {
      this.#write('stdout', r.stdout);
      if (this.#opts.inline && r.stderr) this.#write('stdout', `Stderr: ${r.stderr}`);
    } else if (this.#opts.showOutput && r.stdout) {
      this.#write('stdout', `      ${terminalSafe(r.stdout.split('\n')[0] ?? '')}\n`);
    }
  }

  /** After the last host: the folded groups, the HTML report, the summary; returns the exit code. */
  finish(interrupted: boolean): number {
    if (this.#opts.fold && !this.#opts.json) this.#io.stdout.write(foldedText(groupResults(this.#folding)));
    if (this.#opts.report) {
      try {
        writeFileSync(this.#opts.report, htmlReport(this.#reportRows, this.#opts.command));
      } catch (err) {
        this.#io.stderr.write(`rxssh: --report ${this.#opts.report}: ${(err as Error).message}\n`);
        this.#writeFailures++;
      }
    }
    const code = exitCodeOf(this.#statuses) || (this.#writeFailures > 0 ? EXIT.misc : EXIT.ok);
    if (this.#opts.summary && !this.#opts.json) this.#io.stdout.write(summaryTable(this.#statuses, this.#durations, Date.now() - this.#startedAt));
    if (this.#opts.json) {
      const counts: Record<string, number> = {};
      for (const s of this.#statuses) counts[s] = (counts[s] ?? 0) + 1;
      this.#io.stdout.write(`${JSON.stringify({ type: 'summary', total: this.#statuses.length, ok: counts['ok'] ?? 0, statuses: counts, exitCode: code })}\n`);
    } else if (interrupted && !this.#opts.summary) {
      this.#io.stdout.write(summaryTable(this.#statuses, this.#durations, Date.now() - this.#startedAt));
    }
    return code;
  }
}
