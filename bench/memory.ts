/**
 * Part 4 — memory: RSS per idle connection at 1,000 connections (against the embedded server,
 * run in a child process), and RSS growth while a deliberately slow consumer reads 1 GiB of
 * command output from sshd (for await, real demand) — next to a naive push consumer.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { concatMap, from, lastValueFrom, mergeMap, range, take, type Subscription } from 'rxjs';
import { authenticate, connect, password, pinned, privateKey, verifyHostKey, withConnection, type Connection } from '../lib/index.js';
import { readFileSync } from 'node:fs';
import { fmt, log, type Ratio, type Row, type SshdInfo } from './lib.js';

const gc = (): void => (globalThis as { gc?: () => void }).gc?.();
const settle = async (): Promise<void> => {
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 100));
  }
};

interface ChildServer {
  host: string;
  port: number;
  username: string;
  password: string;
  fingerprint: string;
}

async function startChildServer(): Promise<{ info: ChildServer; stop: () => void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', new URL('./server-child.ts', import.meta.url).pathname], { stdio: ['pipe', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve) => createInterface({ input: child.stdout }).once('line', resolve));
  return { info: JSON.parse(line) as ChildServer, stop: () => child.stdin.end() };
}

export async function idleConnections(n: number): Promise<{ rows: Row[]; ratios: Ratio[] }> {
  const { info, stop } = await startChildServer();
  const subs: Subscription[] = [];
  try {
    await settle();
    const before = process.memoryUsage().rss;
    const connections: Connection[] = [];
    await lastValueFrom(
      range(0, n).pipe(
        mergeMap(
          () =>
            new Promise<void>((resolve, reject) => {
              subs.push(
                connect({ host: info.host, port: info.port, username: info.username, timeouts: { handshake: 60_000, auth: 60_000 } })
                  .pipe(verifyHostKey(pinned(info.fingerprint)), authenticate(password(info.password)))
                  .subscribe({
                    next: (c) => {
                      connections.push(c);
                      resolve();
                    },
                    error: reject,
                  }),
              );
            }),
          50,
        ),
      ),
      { defaultValue: undefined },
    );
    await settle();
    const after = process.memoryUsage().rss;
    const perConnection = (after - before) / n / 1024;
    log(`idle: ${connections.length} connections, ${fmt(perConnection)} KiB RSS each`);
    return {
      rows: [{ part: 'memory', case: `${n} idle connections (embedded server in a child process)`, client: 'rxssh', median: perConnection, unit: 'KiB RSS each', runs: [perConnection] }],
      ratios: [{ part: 'memory', what: `RSS per idle connection at ${n}`, value: perConnection, goal: '≤ 100 KiB', met: perConnection <= 100 }],
    };
  } finally {
    for (const s of subs) s.unsubscribe();
    stop();
  }
}

export async function slowConsumer(s: SshdInfo, bytes: number): Promise<{ rows: Row[]; ratios: Ratio[] }> {
  const key = readFileSync(s.keys['ed25519'] ?? '');
  const connection$ = () =>
    connect({ host: s.host, port: s.port, username: s.username }).pipe(
      verifyHostKey(pinned(...Object.values(s.hostFingerprints))),
      authenticate(privateKey(key)),
    );
  const slow = (): Promise<void> => new Promise((r) => setTimeout(r, 1));

  await settle();
  let base = process.memoryUsage().rss;
  let peak = base;
  let received = 0;
  let chunks = 0;
  await lastValueFrom(
    connection$().pipe(
      withConnection((c) =>
        (async () => {
          for await (const { data } of c.exec(`head -c ${bytes} /dev/zero`, { stdin: [] })) {
            received += data.length;
            if (++chunks % 8 === 0) {
              peak = Math.max(peak, process.memoryUsage().rss);
              await slow();
            }
          }
        })(),
      ),
    ),
    { defaultValue: undefined },
  );
  if (received !== bytes) throw new Error(`slow consumer received ${received} of ${bytes}`);
  const growth = (peak - base) / 2 ** 20;
  log(`slow consumer (for await): ${fmt(growth)} MiB RSS growth over ${bytes / 2 ** 20} MiB`);

  // The naive way, for contrast: a push subscription feeding an async consumer through concatMap.
  const naiveBytes = Math.min(bytes, 256 * 1024 * 1024);
  await settle();
  base = process.memoryUsage().rss;
  let naivePeak = base;
  let naiveReceived = 0;
  let naiveChunks = 0;
  await lastValueFrom(
    connection$().pipe(
      withConnection((c) => c.exec(`head -c ${naiveBytes} /dev/zero`, { stdin: [] })),
      concatMap((chunk) =>
        from(
          (async () => {
            naiveReceived += chunk.data.length;
            if (++naiveChunks % 8 === 0) {
              naivePeak = Math.max(naivePeak, process.memoryUsage().rss);
              await slow();
            }
          })(),
        ),
      ),
      take(Number.MAX_SAFE_INTEGER),
    ),
    { defaultValue: undefined },
  );
  const naiveGrowth = (naivePeak - base) / 2 ** 20;
  log(`slow consumer (naive concatMap): ${fmt(naiveGrowth)} MiB RSS growth over ${naiveBytes / 2 ** 20} MiB`);
  return {
    rows: [
      { part: 'memory', case: `slow consumer, ${bytes / 2 ** 20} MiB from sshd`, client: 'rxssh for await (demand)', median: growth, unit: 'MiB RSS growth', runs: [growth], note: `${received} bytes, all received` },
      { part: 'memory', case: `slow consumer, ${naiveBytes / 2 ** 20} MiB from sshd`, client: 'naive push + concatMap', median: naiveGrowth, unit: 'MiB RSS growth', runs: [naiveGrowth], note: `${naiveReceived} bytes` },
    ],
    ratios: [{ part: 'memory', what: `RSS growth, slow consumer of ${bytes / 2 ** 20} MiB`, value: growth, goal: '≤ 64 MiB', met: growth <= 64 }],
  };
}

/** Both memory measurements, as one part. */
export async function memoryPart(s: SshdInfo, connections: number, bytes: number): Promise<{ rows: Row[]; ratios: Ratio[] }> {
  const idle = await idleConnections(connections);
  const slow = await slowConsumer(s, bytes);
  return { rows: [...idle.rows, ...slow.rows], ratios: [...idle.ratios, ...slow.ratios] };
}
