/**
 * The progress bar on a real pseudo-terminal (`script` from util-linux gives the CLI a pty for
 * stdout and stderr): host lines and the summary are never drawn over by the bar, no cursor
 * save/restore is used, and no bar is drawn when stdout is not that terminal or with
 * --no-progress. (Issue 22 #1.)
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { onTerminal } from '../helpers/pty.js';

const CLI = `${process.execPath} --import tsx lib/cli/bin.ts`;
/** Runs `command` on a pty; returns the raw bytes the terminal got. */
const terminal = (command: string): string => onTerminal(command, '', { COLUMNS: '200' }).raw;
/** What a terminal shows for `raw`: carriage return, erase to end of line, new line. */
function screen(raw: string): string[] {
  const lines: string[] = [];
  let line = '';
  let col = 0;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i] as string;
    if (c === '\r') col = 0;
    else if (c === '\n') {
      lines.push(line);
      line = '';
      col = 0;
    } else if (c === '\x1b' && raw.startsWith('[K', i + 1)) {
      line = line.slice(0, col);
      i += 2;
    } else if (c === '\x1b') {
      // eslint-disable-next-line no-control-regex
      const m = /^\x1b\[[0-9;?]*[A-Za-z]/.exec(raw.slice(i));
      i += (m?.[0].length ?? 1) - 1;
    } else {
      line = line.slice(0, col) + c + line.slice(col + 1);
      col++;
    }
  }
  if (line) lines.push(line);
  return lines;
}
const BAR = /[█░]/;

describe('the progress bar on a real terminal', () => {
  it('every host line and the summary stand on lines of their own; no cursor save/restore', () => {
    const raw = terminal(`${CLI} demo --hosts 12 -- echo hi`);
    expect(BAR.test(raw)).toBe(true); // the bar was drawn while the run went on
    for (const saveOrRestore of ['\x1b7', '\x1b8', '\x1b[s', '\x1b[u']) expect(raw).not.toContain(saveOrRestore);
    const shown = screen(raw);
    const hostLines = shown.filter((l) => /\[SUCCESS\]|\[FAILURE\]/.test(l));
    expect(hostLines).toHaveLength(12);
    for (const l of hostLines) expect(l).toMatch(/^\[\d+\] \d\d:\d\d:\d\d \[SUCCESS\] demo@127\.0\.0\.1:\d+$/);
    for (const l of shown) if (BAR.test(l)) expect(l).toMatch(/^ [█░]+ \d+\/12 hosts/); // the bar alone on its line
    expect(shown.some((l) => /^\s+ok\s+12$/.test(l))).toBe(true);
    expect(BAR.test(shown.at(-1) ?? '')).toBe(false); // the bar is gone at the end
  });

  it('no bar when stdout is not the terminal, or with --no-progress / RXSSH_NO_PROGRESS', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rxssh-pty-'));
    const redirected = terminal(`${CLI} demo --hosts 4 -- echo hi > ${join(dir, 'out')}`);
    expect(BAR.test(redirected)).toBe(false);
    expect(readFileSync(join(dir, 'out'), 'utf8').match(/\[SUCCESS\]/g)).toHaveLength(4);
    expect(BAR.test(terminal(`${CLI} demo --hosts 4 --no-progress -- echo hi`))).toBe(false);
    expect(BAR.test(terminal(`RXSSH_NO_PROGRESS=1 ${CLI} demo --hosts 4 -- echo hi`))).toBe(false);
  });
});
