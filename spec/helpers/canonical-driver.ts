/**
 * Runs inside a resolver namespace (resolver-ns.ts) for spec/integration/canonicalize.spec.ts:
 * resolves each job with `ssh -G` and with rxssh's `fromSshConfig` (both asking the namespace's
 * resolver), then, when asked, starts a real sshd on the namespace's loopback and runs commands
 * against it. `node --import tsx spec/helpers/canonical-driver.ts JOB.json` writes RESULT.json.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fromSshConfig } from '../../lib/index.js';
import { hostKeyLine, startSshd, type TestAccount } from '../integration/sshd.js';
import { sshG, type Generated } from './ssh-g.js';

/** What the spec asks the driver to do. */
export interface DriverJob {
  readonly parity: ReadonlyArray<{ readonly generated: Generated; readonly alias: string; readonly home: string; readonly localUser: string }>;
  readonly sshd?: {
    readonly account: TestAccount;
    /** Files written once sshd listens: `{port}` becomes its port, `{hostkey}` its ed25519 host key line, `{key}` its ed25519 client key's path. */
    readonly files: ReadonlyArray<{ readonly path: string; readonly text: string }>;
    readonly commands: ReadonlyArray<readonly string[]>;
  };
  readonly result: string;
}

/** What comes back: per job ssh's keyword → values or its error, rxssh's host or its error; each command's outcome. */
export interface DriverResult {
  readonly parity: ReadonlyArray<{ readonly ssh: Array<[string, string[]]> | { error: string }; readonly ours: unknown }>;
  readonly commands: ReadonlyArray<{ readonly status: number | null; readonly stdout: string; readonly stderr: string }>;
}

const job = JSON.parse(readFileSync(process.argv[2] as string, 'utf8')) as DriverJob;
const parity = job.parity.map(({ generated, alias, home, localUser }) => {
  const theirs = sshG(generated, alias);
  let ours: unknown;
  try {
    ours = fromSshConfig(alias, { file: generated.file, systemFile: null, extra: generated.extra, home, localUser });
  } catch (err) {
    ours = { error: (err as Error).message };
  }
  return { ssh: theirs instanceof Error ? { error: theirs.message } : [...theirs], ours };
});
const commands: DriverResult['commands'][number][] = [];
if (job.sshd) {
  const { info, stop } = await startSshd({ account: job.sshd.account });
  try {
    for (const { path, text } of job.sshd.files) writeFileSync(path, text.replaceAll('{port}', String(info.port)).replaceAll('{hostkey}', hostKeyLine(info.dir)).replaceAll('{key}', info.keys['ed25519'] ?? ''));
    for (const argv of job.sshd.commands) {
      const r = spawnSync(argv[0] as string, argv.slice(1), { encoding: 'utf8', timeout: 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
      commands.push({ status: r.status, stdout: r.stdout, stderr: r.stderr });
    }
  } finally {
    await stop();
  }
}
writeFileSync(job.result, JSON.stringify({ parity, commands } satisfies DriverResult));
