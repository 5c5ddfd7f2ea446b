/* global process, performance */
// The baseline of fanout-client.mjs: `exec true` on every host through plain ssh2 clients in a
// Promise pool, in a process of its own that loads ssh2 and Node's built-ins only (no rxssh,
// no rxjs):   node bench/fanout-ssh2.mjs HOSTS_FILE KEY USER WIDTH
// Prints a JSON line { ok, failed, wallMs, cpuMs } (in-process: start-up excluded).
import { readFileSync } from 'node:fs';
import ssh2 from 'ssh2';

const [hostsFile = '', keyFile = '', user = '', widthText = '32'] = process.argv.slice(2);
// The bench writes one HOST:PORT per line.
const targets = readFileSync(hostsFile, 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((line) => {
    const at = line.lastIndexOf(':');
    return { host: line.slice(0, at), port: Number(line.slice(at + 1)) };
  });
const key = readFileSync(keyFile);
const width = Number(widthText);
const { Client } = ssh2;

function one(host, port) {
  return new Promise((resolve) => {
    const client = new Client();
    client.on('error', () => resolve(false));
    client.on('ready', () =>
      client.exec('true', (err, stream) => {
        if (err) return resolve(false);
        stream.resume();
        stream.stderr.resume();
        stream.on('close', (code) => {
          client.end();
          resolve(code === 0);
        });
        stream.end();
      }),
    );
    client.connect({ host, port, username: user, privateKey: key, hostVerifier: () => true });
  });
}

async function viaSsh2() {
  let next = 0;
  let ok = 0;
  const worker = async () => {
    while (next < targets.length) {
      const t = targets[next++];
      if (t && (await one(t.host, t.port ?? 22))) ok++;
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
  return { ok, failed: targets.length - ok };
}

const t0 = performance.now();
const c0 = process.cpuUsage();
const result = await viaSsh2();
const cpu = process.cpuUsage(c0);
process.stdout.write(`${JSON.stringify({ ...result, wallMs: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000 })}\n`);
