/** `rxssh report RUN.ndjson`: a run saved with `rxssh run --json` as one HTML page on stdout. */
import { readFileSync } from 'node:fs';
import { htmlReport, reportHostsFromNdjson } from './html-report.js';
import type { Io } from './io.js';
import { EXIT, UsageError } from './usage.js';

const REPORT_HELP = `usage: rxssh report RUN.ndjson > run.html      ('-' reads stdin)

Writes one self-contained HTML page of a run saved with 'rxssh run --json': a status grid of
every host (filter, search), a timeline, a histogram of durations, the folded outputs, and each
host's output and error on click. It loads nothing from anywhere.
`;

export async function reportCommand(args: readonly string[], io: Io): Promise<number> {
  if (args.includes('--help')) {
    io.stdout.write(REPORT_HELP);
    return EXIT.ok;
  }
  const [file, ...extra] = args;
  if (!file || extra.length > 0) throw new UsageError('usage: rxssh report RUN.ndjson');
  let text: string;
  try {
    text = file === '-' ? (await io.readStdin()).toString('utf8') : readFileSync(file, 'utf8');
  } catch (err) {
    throw new UsageError(`${file}: ${(err as Error).message}`);
  }
  let hosts;
  try {
    hosts = reportHostsFromNdjson(text);
  } catch (err) {
    throw new UsageError(`${file}: ${(err as Error).message}`);
  }
  io.stdout.write(htmlReport(hosts, `rxssh run (${file})`));
  return EXIT.ok;
}
