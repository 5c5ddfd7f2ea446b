/**
 * `ssh -G` and rxssh's resolution side by side, for the parity specs: a seeded generator, ssh's
 * output read into keyword → values, and a resolved host written in ssh -G's words.
 */
import { execFileSync } from 'node:child_process';
import { sshConfigValues, type SshConfigHost } from '../../lib/index.js';

/** A config to resolve: the file, and `-o` lines. */
export interface Generated {
  readonly file: string;
  readonly extra: string[];
  readonly text: string;
}

/** A small seeded generator (mulberry32). */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `ssh -G` for an alias: keyword → values (lines in order), or the error it stopped with. */
export function sshG(g: Generated, alias: string): Map<string, string[]> | Error {
  const args = ['-G', '-F', g.file, ...g.extra.flatMap((l) => ['-o', l.replace(' ', '=')]), alias];
  let out: string;
  try {
    out = execFileSync('ssh', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    return new Error(String((err as { stderr?: string }).stderr ?? err));
  }
  const map = new Map<string, string[]>();
  for (const line of out.split('\n')) {
    const at = line.indexOf(' ');
    if (at > 0) map.set(line.slice(0, at).toLowerCase(), [...(map.get(line.slice(0, at).toLowerCase()) ?? []), line.slice(at + 1)]);
  }
  return map;
}

/** What rxssh resolved, in ssh -G's words, for the keywords both know (the library's own `sshConfigValues`). */
export function ours(h: SshConfigHost): Record<string, string[]> {
  return Object.fromEntries(sshConfigValues(h).map(([keyword, values]) => [keyword, [...values]]));
}
