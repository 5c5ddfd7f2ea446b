/* global process, performance, Buffer */
// One bulk-exec client run, in its own process, on the compiled library (dist/, as users run it):
//   [BULK_MIB=256] node bench/bulk-client.mjs rxssh|ssh2 MODE HOST PORT USER KEY FINGERPRINT CIPHER
// MODE: roundtrip (256 MiB through `cat`), upload (`cat > /dev/null`), download (`head -c`).
// Both clients send the same 256 KiB block 1024 times and count what comes back; nothing else.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { lastValueFrom, tap } from 'rxjs';
import { authenticate, connect, pinned, privateKey, verifyHostKey, withConnection } from '../dist/index.js';
import { Client } from '../dist/ssh2/index.js';

const [kind, mode, host, port, user, keyFile, fingerprint, cipher] = process.argv.slice(2);
const SIZE = Number(process.env.BULK_MIB ?? 256) * 1024 * 1024; // BULK_MIB: another size (counting instructions)
const BLOCK = Buffer.alloc(256 * 1024, 0x61);
const COMMAND = { roundtrip: 'cat', upload: 'cat > /dev/null', download: `head -c ${SIZE} /dev/zero` }[mode];
const key = readFileSync(keyFile);
const algorithms = cipher ? { cipher: [cipher] } : undefined;

async function* blocks() {
  for (let i = 0; i < SIZE / BLOCK.length; i++) yield BLOCK;
}

async function viaRxssh() {
  let received = 0;
  await lastValueFrom(
    connect({ host, port: Number(port), username: user, ...(algorithms ? { algorithms } : {}) }).pipe(
      verifyHostKey(pinned(fingerprint)),
      authenticate(privateKey(key)),
      withConnection((c) => c.exec(COMMAND, { stdin: mode === 'download' ? [] : blocks() }).pipe(tap((chunk) => (received += chunk.data.length)))),
    ),
    { defaultValue: undefined },
  );
  return received;
}

function viaSsh2() {
  return new Promise((resolve, reject) => {
    const client = new Client();
    let received = 0;
    client.on('error', reject);
    client.on('ready', () => {
      client.exec(COMMAND, (err, stream) => {
        if (err) return reject(err);
        stream.on('data', (d) => (received += d.length));
        stream.stderr.resume();
        stream.on('close', () => {
          client.end();
          resolve(received);
        });
        if (mode === 'download') return stream.end();
        let sent = 0;
        const pump = () => {
          while (sent < SIZE) {
            sent += BLOCK.length;
            if (!stream.write(BLOCK)) return stream.once('drain', pump);
          }
          stream.end();
        };
        pump();
      });
    });
    client.connect({ host, port: Number(port), username: user, privateKey: key, ...(algorithms ? { algorithms } : {}), hostVerifier: (k) => `SHA256:${createHash('sha256').update(k).digest('base64').replace(/=+$/, '')}` === fingerprint });
  });
}

// In-process figures too (start-up excluded): from here, after every module has loaded.
const t0 = performance.now();
const c0 = process.cpuUsage();
const received = kind === 'rxssh' ? await viaRxssh() : await viaSsh2();
const cpu = process.cpuUsage(c0);
if (mode !== 'upload' && received !== SIZE) {
  process.stderr.write(`received ${received} of ${SIZE}\n`);
  process.exit(1);
}
process.stdout.write(`${JSON.stringify({ ok: 1, failed: 0, wallMs: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000 })}\n`);
