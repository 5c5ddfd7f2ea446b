/* global process, performance, Buffer */
// What every bulk client process shares: its arguments, the bytes it sends and its report.
// Node built-ins only: a baseline that imports this loads nothing of rxssh's (nor rxjs).
//   node bench/bulk-rxssh.mjs|bulk-ssh2.mjs MODE HOST PORT USER KEY FINGERPRINT CIPHER
// MODE: roundtrip (256 MiB through `cat`), upload (`cat > /dev/null`), download (`head -c`).
// BULK_APP_MB=N: the process first makes N MB of objects of its own and keeps them, as a program
// with some state does (both clients alike: V8 sizes its old-generation limit from the heap).
import { readFileSync } from 'node:fs';

const [mode, host, port, user, keyFile, fingerprint, cipher] = process.argv.slice(2);
export const SIZE = Number(process.env.BULK_MIB ?? 256) * 1024 * 1024; // BULK_MIB: another size (counting instructions)
export const BLOCK = Buffer.alloc(256 * 1024, 0x61);
export const COMMAND = { roundtrip: 'cat', upload: 'cat > /dev/null', download: `head -c ${SIZE} /dev/zero` }[mode];
/** The program's own state (BULK_APP_MB): ~80 bytes an object, kept to the end. */
export const appState = Array.from({ length: (Number(process.env.BULK_APP_MB ?? 0) * 1024 * 1024) / 80 }, (_, i) => ({ id: i, name: String(i), next: null }));
export const args = { mode, host, port: Number(port), user, key: readFileSync(keyFile), fingerprint, algorithms: cipher ? { cipher: [cipher] } : undefined };

/** The 1024 blocks of 256 KiB, pulled one at a time. */
export async function* blocks() {
  for (let i = 0; i < SIZE / BLOCK.length; i++) yield BLOCK;
}

/** Runs `transfer` (which resolves with the bytes received) and prints the in-process figures: from here on, every module has loaded. */
export async function report(transfer) {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const received = await transfer();
  const cpu = process.cpuUsage(c0);
  if (mode !== 'upload' && received !== SIZE) {
    process.stderr.write(`received ${received} of ${SIZE}\n`);
    process.exit(1);
  }
  process.stdout.write(`${JSON.stringify({ ok: 1, failed: 0, wallMs: performance.now() - t0, cpuMs: (cpu.user + cpu.system) / 1000 })}\n`);
}
