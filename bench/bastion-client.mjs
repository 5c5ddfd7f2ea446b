/* global process, performance */
// One run of N targets behind a bastion (ProxyJump in an ssh_config), in its own process, on the
// compiled library:
//   node bench/bastion-client.mjs shared|per-target CONFIG WIDTH
// shared: connectAlias's default hop pool (one bastion login); per-target: hopPool null (a new
// chain per target, as before the pool). Both retry a refused connection the same way.
// Prints a JSON line { ok, failed, attempts, wallMs, cpuMs } (in-process: start-up excluded).
import { lastValueFrom, toArray } from 'rxjs';
import { connectAlias, run } from '../dist/index.js';
import { fanOut, sshConfigTargets } from '../dist/fleet/index.js';

const [mode = 'shared', file = '', widthText = '50'] = process.argv.slice(2);
const t0 = performance.now();
const c0 = process.cpuUsage();
const targets = sshConfigTargets({ file, systemFile: null, match: 't*' });
const options = { file, systemFile: null, ...(mode === 'per-target' ? { hopPool: null } : {}) };
const results = await lastValueFrom(
  fanOut(targets, (t) => connectAlias(t.alias ?? t.host, options).pipe(run('true')), { concurrency: Number(widthText), retries: 8, retryDelay: 100 }).pipe(toArray()),
);
const cpu = process.cpuUsage(c0);
const ok = results.filter((r) => r.status === 'ok').length;
const attempts = results.reduce((n, r) => n + r.attempts, 0);
process.stdout.write(`${JSON.stringify({ ok, failed: results.length - ok, attempts, wallMs: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000 })}\n`);
