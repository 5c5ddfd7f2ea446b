/**
 * Every fenced `ts` block of the README and the guide type-checks as written (strict, against
 * the library's own types): each block is a module of its own, with only the reader's values
 * (a host, a key, a prompt…) declared by spec/fixtures/docs-prelude.d.ts.txt. (Issue 22 #10.)
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = new URL('..', import.meta.url).pathname;

/** The `ts` blocks of a Markdown file, with the line each starts on. */
function blocks(file: string): Array<{ code: string; line: number }> {
  const text = readFileSync(join(root, file), 'utf8');
  const found: Array<{ code: string; line: number }> = [];
  for (const m of text.matchAll(/```ts\n([\s\S]*?)```/g)) found.push({ code: m[1] ?? '', line: text.slice(0, m.index).split('\n').length + 1 });
  return found;
}

describe('the code in the docs compiles', () => {
  it('every ts block of README.md and docs/guide.md type-checks (tsc --strict, exactOptionalPropertyTypes)', () => {
    const dir = mkdtempSync(join(root, '.docs-check-'));
    try {
      const where = new Map<string, string>();
      for (const file of ['README.md', 'docs/guide.md']) {
        blocks(file).forEach((b, i) => {
          const name = `${file.replace(/\W/g, '_')}_${i + 1}.ts`;
          where.set(name, `${file}:${b.line}`);
          writeFileSync(join(dir, name), `${b.code}\nexport {};\n`);
        });
      }
      expect(where.size).toBeGreaterThanOrEqual(20);
      // Kept as .txt so that the project's own type check never sees these globals.
      copyFileSync(join(root, 'spec/fixtures/docs-prelude.d.ts.txt'), join(dir, 'prelude.d.ts'));
      writeFileSync(
        join(dir, 'tsconfig.json'),
        JSON.stringify({ extends: '../tsconfig.json', compilerOptions: { noEmit: true, paths: { rxssh: ['../lib/index.ts'], 'rxssh/fleet': ['../lib/fleet/index.ts'], 'rxssh/queue': ['../lib/queue/index.ts'], 'rxssh/testing': ['../lib/testing/index.ts'] } }, include: ['./*.ts'] }),
      );
      let output = '';
      try {
        execFileSync(join(root, 'node_modules/.bin/tsc'), ['-p', join(dir, 'tsconfig.json')], { encoding: 'utf8', stdio: 'pipe' });
      } catch (err) {
        output = String((err as { stdout?: string }).stdout ?? err);
      }
      // Name each error by the Markdown file and line of its block.
      const errors = output.split('\n').filter((l) => /error TS/.test(l)).map((l) => l.replace(/^.*?([\w.]+\.ts)\(/, (_m, f: string) => `${where.get(f) ?? f} (`));
      expect(errors).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
