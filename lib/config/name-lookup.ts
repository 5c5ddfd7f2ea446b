/**
 * A synchronous "does this name resolve?" for `CanonicalizeHostname`, which ssh answers with
 * getaddrinfo while it reads its config. Reading a config is synchronous in rxssh too
 * (`fromSshConfig`), so one helper thread does the lookups (`dns.lookup`: getaddrinfo, the same
 * resolver ssh asks) while the caller waits on a shared flag: about a millisecond each once the
 * thread is up (its start, once per process, about 25 ms). The thread is unref'd: it never keeps
 * a process alive.
 */
import { Worker } from 'node:worker_threads';

/**
 * Whether `name` resolves to an address of `family` (0: any), as ssh's resolve_host asks.
 *
 * @example
 * ```ts
 * import { fromSshConfig, type NameLookup } from 'rxssh';
 *
 * const hosts = new Set(['web1.example.org.']);
 * const lookup: NameLookup = (name) => hosts.has(name);
 * fromSshConfig('web1', { lookup });
 * ```
 */
export type NameLookup = (name: string, family: 0 | 4 | 6) => boolean;

/** How long one lookup may take before it counts as not resolved (getaddrinfo's own retries are within it). */
const LOOKUP_TIMEOUT_MS = 30_000;

const HELPER = `
const { parentPort } = require('node:worker_threads');
const { lookup } = require('node:dns');
parentPort.on('message', ({ name, family, flag }) => {
  const cell = new Int32Array(flag);
  lookup(name, { family, all: true }, (err, addresses) => {
    Atomics.store(cell, 0, !err && addresses.length > 0 ? 1 : 2);
    Atomics.notify(cell, 0);
  });
});`;

let helper: Worker | undefined;

function helperThread(): Worker {
  if (!helper) {
    const worker = new Worker(HELPER, { eval: true });
    worker.unref();
    // A helper that fails is started again for the next lookup; this one's waiter times out.
    worker.on('error', () => {
      if (helper === worker) helper = undefined;
    });
    worker.on('exit', () => {
      if (helper === worker) helper = undefined;
    });
    helper = worker;
  }
  return helper;
}

/**
 * The default {@link NameLookup}: the system resolver (getaddrinfo through `dns.lookup`), waited
 * for synchronously. A lookup that takes longer than 30 s counts as not resolved.
 *
 * @example
 * ```ts
 * import { systemNameLookup } from 'rxssh';
 *
 * systemNameLookup('localhost', 0); // true
 * ```
 */
export const systemNameLookup: NameLookup = (name, family) => {
  const flag = new SharedArrayBuffer(4);
  const cell = new Int32Array(flag);
  helperThread().postMessage({ name, family, flag });
  return Atomics.wait(cell, 0, 0, LOOKUP_TIMEOUT_MS) !== 'timed-out' && Atomics.load(cell, 0) === 1;
};
