/**
 * Runs inside a network namespace of the spec's own (spec/integration/gateway-ports.spec.ts:
 * `unshare -n`, its loopback carrying one more address, OTHER below) and tells, for each
 * forwarder command, which of the namespace's addresses its local port listens on: starts a
 * real sshd there, starts the forwarder (`rxssh exec -L …` or `ssh -N -L …`), waits until the
 * port answers on 127.0.0.1, then tries OTHER, and stops the forwarder.
 * `node --import tsx spec/helpers/forward-driver.ts JOB.json` writes RESULT.json.
 */
import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { knownHostsName } from '../../lib/index.js';
import { hostKeyLine, startSshd, type TestAccount } from '../integration/sshd.js';

/** What the spec asks: forwarders whose `{port}`, `{key}` and `{known}` are filled in here, each with the local port it opens. */
export interface ForwardJob {
  readonly account: TestAccount;
  readonly other: string;
  readonly forwarders: ReadonlyArray<{ readonly argv: readonly string[]; readonly localPort: number }>;
  readonly result: string;
}

/** Per forwarder: whether its port took a connection on 127.0.0.1 and on the other address, and what it said on stderr. */
export interface ForwardResult {
  readonly loopback: boolean;
  readonly other: boolean;
  readonly stderr: string;
}

/** Whether a TCP connection to host:port is accepted within a second. */
function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const timer = setTimeout(() => done(false), 1000);
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

const job = JSON.parse(readFileSync(process.argv[2] as string, 'utf8')) as ForwardJob;
const { info, stop } = await startSshd({ account: job.account });
const results: ForwardResult[] = [];
try {
  const known = join(info.dir, 'known_hosts.forward');
  writeFileSync(known, `${knownHostsName('127.0.0.1', info.port)} ${hostKeyLine(info.dir)}\n`);
  const fill = (arg: string): string => arg.replaceAll('{port}', String(info.port)).replaceAll('{key}', info.keys['ed25519'] ?? '').replaceAll('{known}', known);
  for (const { argv, localPort } of job.forwarders) {
    const [cmd, ...args] = argv.map(fill);
    const child = spawn(cmd as string, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, SSH_AUTH_SOCK: '' } });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise((resolve) => child.once('close', resolve));
    let loopback = false;
    for (let i = 0; i < 100 && !loopback && child.exitCode === null; i++) {
      loopback = await accepts('127.0.0.1', localPort);
      if (!loopback) await new Promise((r) => setTimeout(r, 100));
    }
    const other = loopback && (await accepts(job.other, localPort));
    child.kill('SIGTERM');
    await exited;
    results.push({ loopback, other, stderr });
  }
} finally {
  await stop();
}
writeFileSync(job.result, JSON.stringify(results));
