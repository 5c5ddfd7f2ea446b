/**
 * One fan-out client run, in its own process so that its CPU and memory can be measured:
 *   node --import tsx bench/fanout-client.ts rxssh|ssh2 HOSTS_FILE KEY USER WIDTH
 * Prints a JSON line { ok, failed, wallMs, cpuMs } (in-process: start-up excluded).
 */
import { readFileSync } from 'node:fs';
import { lastValueFrom, toArray } from 'rxjs';
import { authenticate, connect, fanOut, insecureAcceptAnyHostKey, parseHostsFile, privateKey, run, verifyHostKey } from '../lib/index.js';
import { Client } from '../lib/internal/ssh2.js';

const [kind, hostsFile = '', keyFile = '', user = '', widthText = '32'] = process.argv.slice(2);
const targets = parseHostsFile(readFileSync(hostsFile, 'utf8'));
const key = readFileSync(keyFile);
const width = Number(widthText);

async function viaRxssh(): Promise<{ ok: number; failed: number }> {
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

function one(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const client = new Client();
    client.on('error', () => resolve(false));
    client.on('ready', () =>
      client.exec('true', (err, stream) => {
        if (err) return resolve(false);
        stream.resume();
        stream.stderr.resume();
        stream.on('close', (code: number) => {
          client.end();
          resolve(code === 0);
        });
        stream.end();
      }),
    );
    client.connect({ host, port, username: user, privateKey: key, hostVerifier: () => true });
  });
}

async function viaSsh2(): Promise<{ ok: number; failed: number }> {
  let next = 0;
  let ok = 0;
  const worker = async (): Promise<void> => {
    while (next < targets.length) {
      const t = targets[next++];
      if (t && (await one(t.host, t.port ?? 22))) ok++;
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
  return { ok, failed: targets.length - ok };
}

// In-process figures: from the first connection to the last result, excluding start-up.
const t0 = performance.now();
const c0 = process.cpuUsage();
const result = kind === 'rxssh' ? await viaRxssh() : await viaSsh2();
const cpu = process.cpuUsage(c0);
process.stdout.write(`${JSON.stringify({ ...result, wallMs: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000 })}\n`);
