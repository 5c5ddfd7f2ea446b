/**
 * ssh's escapes on `rxssh exec`'s input, byte by byte as OpenSSH's process_escapes reads them:
 * only at the start of the input or of a line, split across chunks, the escape character sent
 * once when typed twice, other keys sent with it, the unsupported ones refused on the terminal.
 */
import { describe, expect, it } from 'vitest';
import { EscapeFilter, escapeHelp } from '../../lib/cli/escapes.js';

/** Feeds `chunks` through a filter for `char`; what went through and what happened. */
async function typed(char: string, chunks: readonly string[]): Promise<{ sent: string; ended: number; suspended: number; said: string }> {
  const happened = { ended: 0, suspended: 0, said: '' };
  const filter = new EscapeFilter(char, { end: () => happened.ended++, suspend: () => happened.suspended++, say: (text) => (happened.said += text) });
  let sent = '';
  filter.on('data', (d: Buffer) => (sent += d.toString('latin1')));
  for (const chunk of chunks) filter.write(Buffer.from(chunk, 'latin1'));
  filter.end();
  await new Promise((resolve) => filter.once('end', resolve));
  return { sent, ...happened };
}

describe('EscapeFilter', () => {
  it('~. at the start of the input or after \\r or \\n ends the session; what was typed before it still goes, nothing after it', async () => {
    expect(await typed('~', ['~.'])).toMatchObject({ sent: '', ended: 1 });
    expect(await typed('~', ['ls\r~.rm -rf /\r'])).toMatchObject({ sent: 'ls\r', ended: 1 });
    expect(await typed('~', ['ls\n', '~', '.', 'more'])).toMatchObject({ sent: 'ls\n', ended: 1 });
  });

  it('in the middle of a line the escape character is data', async () => {
    expect(await typed('~', ['echo a~.b\r'])).toMatchObject({ sent: 'echo a~.b\r', ended: 0 });
    expect(await typed('~', ['x', '~.'])).toMatchObject({ sent: 'x~.', ended: 0 });
  });

  it('~~ sends one ~ (and the line no longer starts); another key goes with the ~ before it', async () => {
    expect((await typed('~', ['~~.'])).sent).toBe('~.');
    expect((await typed('~', ['~x', '\r~y'])).sent).toBe('~x\r~y');
    expect((await typed('~', ['~\r~.'])).ended).toBe(1); // ~ then Enter: both sent, and a line starts again
  });

  it('~? prints the help, ~^Z suspends; neither is sent, and an escape may follow at once', async () => {
    const r = await typed('~', ['~?~\x1a~.']);
    expect(r).toMatchObject({ sent: '', suspended: 1, ended: 1 });
    expect(r.said).toContain('~?\r\nSupported escape sequences:\r\n');
    expect(r.said).toContain('~^Z [suspend rxssh]\r\n');
  });

  it("ssh's escapes that rxssh does not have are refused on the terminal and never sent", async () => {
    for (const key of ['B', 'R', 'V', 'v', '#', '&', 'C']) {
      const r = await typed('~', [`~${key}`]);
      expect(r.sent).toBe('');
      expect(r.said).toContain(`rxssh: ~${key} is not supported: `);
    }
  });

  it('another escape character (%, a control character ^])', async () => {
    expect(await typed('%', ['~.', '\r%.'])).toMatchObject({ sent: '~.\r', ended: 1 });
    expect(await typed('\x1d', ['\x1d.'])).toMatchObject({ sent: '', ended: 1 });
    expect(escapeHelp('\x1d')).toContain(' ^].   - terminate connection');
  });
});
