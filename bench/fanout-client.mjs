/* global process, performance, URL */
// One fan-out client run, in its own process, on the compiled library (dist/, as users run it):
//   node bench/fanout-client.mjs rxssh|workers HOSTS_FILE KEY USER WIDTH
// The raw ssh2 baseline is bench/fanout-ssh2.mjs (a process that loads nothing of rxssh's).
// Prints a JSON line { ok, failed, wallMs, cpuMs } (in-process: start-up excluded).
import { readFileSync } from 'node:fs';
import { lastValueFrom, toArray } from 'rxjs';
import { authenticate, connect, insecureAcceptAnyHostKey, privateKey, run, verifyHostKey } from '../dist/index.js';
import { fanOut, fanOutInWorkers, parseHostsFile } from '../dist/fleet/index.js';

const [kind, hostsFile = '', keyFile = '', user = '', widthText = '32'] = process.argv.slice(2);
const targets = parseHostsFile(readFileSync(hostsFile, 'utf8'));
const key = readFileSync(keyFile);
const width = Number(widthText);

async function viaRxssh() {
  const results = await lastValueFrom(
    fanOut(
      targets,
      (t) =>
        connect({ host: t.host, port: t.port ?? 22, username: user }).pipe(
          verifyHostKey(insecureAcceptAnyHostKey()), // the other clients do not verify either
          authenticate(privateKey(key)),
          run('true'),
        ),
      { concurrency: width },
    ).pipe(toArray()),
  );
  const ok = results.filter((r) => r.status === 'ok').length;
  return { ok, failed: results.length - ok };
}

async function viaWorkers() {
  const pipeline = { module: new URL('./fanout-pipeline.mjs', import.meta.url), export: 'exec', args: { keyFile, user } };
  const results = await lastValueFrom(fanOutInWorkers(targets, pipeline, { concurrency: width, threads: 2 }).pipe(toArray()));
  const ok = results.filter((r) => r.status === 'ok').length;
  return { ok, failed: results.length - ok };
}

const t0 = performance.now();
const c0 = process.cpuUsage();
const result = kind === 'workers' ? await viaWorkers() : await viaRxssh();
const cpu = process.cpuUsage(c0);
process.stdout.write(`${JSON.stringify({ ...result, wallMs: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000 })}\n`);
