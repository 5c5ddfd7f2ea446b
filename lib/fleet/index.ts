/**
 * `rxssh/fleet`: many hosts at once. `fanOut` runs one pipeline per host with bounded
 * concurrency, per-host results, timeouts, retries, live lines and progress;
 * `fanOutInWorkers` does the same on worker threads (it needs the optional peer `piscina`);
 * inventories read the hosts from a pssh-style file or an ssh_config.
 *
 * ```text
 * fanOut(targets, host => pipeline) ─┬─ results: one HostResult per host, then complete
 *                                    ├─ lines$:  [host] line …   (live, framed)
 *                                    └─ progress$: done / running / failed counts
 * ```
 *
 * @module rxssh/fleet
 */
export {
  fanOut,
  FanOut,
  statusOf,
  type FanOutConfig,
  type FanOutEvent,
  type FanOutProgress,
  type HostLine,
  type HostResult,
  type HostStatus,
  type HostTimings,
} from './fan-out.js';
export { parseHostsFile, sshConfigTargets } from './inventory.js';
export { foldResults, groupResults, type FoldedResult } from './fold.js';
export type { HostAmount } from './rollout.js';
export { fanOutInWorkers, type WorkerContext, type WorkerPipeline, type WorkerFanOutConfig } from './workers.js';
