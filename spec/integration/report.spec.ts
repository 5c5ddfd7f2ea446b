/**
 * The run report (`rxssh run --report`, `rxssh report RUN.ndjson`) in a real headless browser:
 * Debian's chromium driven by playwright-core. A 1,000-host run against a real sshd on ten
 * loopback addresses, one host answering with hostile output (`<script>`, terminal escapes).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { knownHostsName } from '../../lib/index.js';
import { sshd } from '../helpers/index.js';
import { hostKeyLine, startSshd, type SshdInfo } from './sshd.js';

const CHROMIUM = '/usr/bin/chromium';
const ADDRESSES = Array.from({ length: 10 }, (_, i) => `127.0.0.${i + 2}`);
let server: { info: SshdInfo; stop: () => Promise<void> };
let work: string;
let ndjson: string;

const cli = (args: string[], input?: string) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'lib/cli/bin.ts', ...args], { encoding: 'utf8', env: { ...process.env, SSH_AUTH_SOCK: '' }, timeout: 300_000, maxBuffer: 256 * 1024 * 1024, ...(input !== undefined ? { input } : {}) });

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium)`);
  server = await startSshd({ account: sshd(), extra: [...ADDRESSES.map((a) => `ListenAddress ${a}:{port}`), 'MaxStartups 200:30:400'] });
  const s = server.info;
  work = mkdtempSync(join(tmpdir(), 'rxssh-report-'));
  chmodSync(work, 0o755);
  const kh = join(work, 'known_hosts');
  writeFileSync(kh, ADDRESSES.map((a) => `${knownHostsName(a, s.port)} ${hostKeyLine(s.dir)}\n`).join(''));
  const hostsFile = join(work, 'hosts');
  // 1,000 hosts: each address a hundred times (distinct labels through the user part).
  writeFileSync(hostsFile, Array.from({ length: 1000 }, (_, i) => `${s.username}@${ADDRESSES[i % 10]}:${s.port}`).join('\n') + '\n');
  // The server address decides: .2 answers with hostile output, .3 fails, the rest say ok.
  const command = `case $(echo $SSH_CONNECTION | cut -d" " -f3) in 127.0.0.2) printf '<script>window.pwned=1</script>\\033[31mred\\033[0m <img src=x onerror=window.pwned=2>\\n';; 127.0.0.3) echo broken >&2; exit 2;; *) echo ok;; esac`;
  const r = cli(['run', '--json', '-h', hostsFile, '-p', '64', '--identity', s.keys['ed25519'] ?? '', '--known-hosts', kh, '--report', join(work, 'direct.html'), '--', command]);
  ndjson = join(work, 'run.ndjson');
  writeFileSync(ndjson, r.stdout);
  if (!r.stdout.includes('"type":"summary"')) throw new Error(`the run failed: ${r.stderr}`);
}, 300_000);
afterAll(async () => {
  await server?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the run report in a real browser', () => {
  it('rxssh report RUN.ndjson writes one self-contained page; --report wrote the same hosts', () => {
    const r = cli(['report', ndjson]);
    expect(r.status, r.stderr).toBe(0);
    writeFileSync(join(work, 'report.html'), r.stdout);
    for (const page of [r.stdout, readFileSync(join(work, 'direct.html'), 'utf8')]) {
      expect(page).not.toMatch(/<script[^>]+src=|<link[^>]+href=|https?:\/\//); // nothing fetched from anywhere
      expect(page).not.toContain('<script>window.pwned'); // remote output never as markup
    }
    const bad = cli(['report', join(work, 'missing.ndjson')]);
    expect(bad.status).toBe(2);
  });

  it('loads without console errors or requests, one cell per host, filters and search work, hostile output is text', async () => {
    const { chromium } = await import('playwright-core');
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
      const problems: string[] = [];
      const requests: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(m.text());
      });
      page.on('pageerror', (e) => problems.push(String(e)));
      page.on('request', (req) => requests.push(req.url()));
      const url = `file://${join(work, 'report.html')}`;
      await page.goto(url);
      expect(await page.locator('#grid .cell').count()).toBe(1000);
      expect(await page.textContent('#summary')).toMatch(/^1000 hosts: /);
      // Filter: only the failed hosts (the hundred on 127.0.0.3) stay.
      for (const status of ['ok']) await page.click(`#filters button[data-status="${status}"]`);
      expect(await page.locator('#grid .cell:not([hidden])').count()).toBe(100);
      await page.click('#filters button[data-status="ok"]');
      await page.fill('#search', '127.0.0.4:');
      expect(await page.locator('#grid .cell:not([hidden])').count()).toBe(100);
      await page.fill('#search', '');
      // The hostile host: shown as text, nothing ran.
      await page.locator('#grid .cell[title^="' + server.info.username + '@127.0.0.2:"]').first().click();
      const shown = (await page.textContent('#d-stdout')) ?? '';
      expect(shown).toContain('<script>window.pwned=1</script>');
      expect(shown).toContain('\\x1b[31mred');
      expect(await page.evaluate(() => (globalThis as unknown as { pwned?: number }).pwned)).toBeUndefined();
      expect(await page.locator('#details img').count()).toBe(0);
      expect(await page.locator('#timeline .row').count()).toBe(1000);
      expect(await page.locator('#groups .group').count()).toBeGreaterThanOrEqual(3);
      expect(problems).toEqual([]);
      expect(requests).toEqual([url]);
      const shot = process.env['RXSSH_REPORT_SCREENSHOT'] ?? join(work, 'report.png');
      await page.screenshot({ path: shot, fullPage: false });
      expect(readFileSync(shot).subarray(1, 4).toString()).toBe('PNG');
    } finally {
      await browser.close();
    }
  });
});
