// A worker thread for spec/forward/forwarding.spec.ts: binds a Unix socket listener with
// lib/forward/local.ts's listenOnSocket (tsx registered here, as lib/fleet/worker-host.ts does)
// and posts the socket's mode as seen at 'listening'.
import { statSync } from 'node:fs';
import { createServer } from 'node:net';
import { isMainThread, parentPort, workerData } from 'node:worker_threads';

const { register } = await import('tsx/esm/api');
register();
const { listenOnSocket } = await import('../../lib/forward/local.ts');
const server = createServer();
listenOnSocket(
  server,
  workerData.path,
  { mask: workerData.mask ?? 0o177, unlink: false },
  () => {
    parentPort.postMessage({ isMainThread, mode: statSync(workerData.path).mode & 0o777 });
    server.close();
  },
  (doing, err) => parentPort.postMessage({ error: `${doing}: ${err.message}` }),
);
