/**
 * Fan-out past one core: the same `fanOut` — one result per host, per-host timeouts, the global
 * deadline, retries, live lines and progress, cancel — with each host's pipeline run in a pool
 * of worker threads (piscina). The main thread schedules and frames output; the workers do the
 * SSH work (key exchange, crypto, auth), which is what costs CPU per host.
 *
 * @module
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { MessageChannel } from 'node:worker_threads';
import type { Piscina } from 'piscina';
import { defer, finalize, from, Observable, share, switchMap } from 'rxjs';
import { WorkerLostError } from '../errors.js';
import type { OutputFlow } from '../channel/flow.js';
import { loadPeer } from '../util/peer.js';
import { checkOptions, optionNames, pickOptions } from '../util/check.js';
import { FAN_OUT_NAMES } from './types.js';
import { shippedFile } from '../util/package-root.js';
import { FanOut, fanOut, type FanOutConfig } from './fan-out.js';
import type { FanOutTarget, LabelledTarget } from '../config/target.js';
import { reviveError, reviveValue, type HostControl, type WorkerMessage } from './worker-wire.js';
import { acknowledger } from './worker-valve.js';
import { checkNumber, POSITIVE_INTEGER } from '../util/check.js';

/**
 * Where the workers find the per-host pipeline: a module (URL or path) and the name of its
 * export, a function `(target, args) => ObservableInput` — the same as `fanOut`'s `project`, but
 * loaded by each worker. `args` is passed to it as a structured clone (no functions).
 *
 * @example
 * ```ts
 * const spec: WorkerPipeline = { module: new URL('./pipeline.js', import.meta.url), export: 'uptime', args: { user: 'ops' } };
 * ```
 */
export interface WorkerPipeline {
  /** The module, as a URL (`new URL('./pipeline.js', import.meta.url)`) or an absolute path. */
  readonly module: string | URL;
  /** The export to call (default `default`). */
  readonly export?: string;
  /** Data for the pipeline (structured-clonable: no functions, no class instances). */
  readonly args?: unknown;
}

/**
 * Options of {@link fanOutInWorkers}: `fanOut`'s, plus the number of threads.
 *
 * @example
 * ```ts
 * const config: WorkerFanOutConfig = { threads: 'auto', concurrency: 500, timeout: 30_000 };
 * ```
 */
export interface WorkerFanOutConfig extends FanOutConfig {
  /** Worker threads (default `'auto'`: the machine's available parallelism). */
  readonly threads?: number | 'auto';
  /**
   * A valve on every running host's output: while it is paused, each worker pauses the
   * `OutputFlow` it gave that host's pipeline (`WorkerContext.flow`), so channels that use it
   * stop being read and their servers wait (for a consumer of `lines$` slower than the hosts).
   */
  readonly flow?: OutputFlow;
}

const WORKER_FAN_OUT_NAMES = optionNames<WorkerFanOutConfig>()([...FAN_OUT_NAMES, 'threads', 'flow']);

/**
 * What a worker gives a host's pipeline beside the target and `args` (its third argument):
 * `(t, args, { flow }) => connection$.pipe(exec('journalctl -b', { flow }))` lets the channel
 * wait while the main thread's flow is paused or the main thread falls behind.
 */
export interface WorkerContext {
  /** Paused and resumed with `WorkerFanOutConfig.flow` on the main thread: give it to the host's channels. */
  readonly flow: OutputFlow;
}

/**
 * Runs a fan-out with each host's pipeline in a pool of worker threads. It behaves as
 * {@link fanOut} does (and is built on it): exactly one result per host, the per-host
 * `timeout` and the global `deadline`, retries, `lines$` and `progress$` live, `signal` and
 * unsubscribing cancel (a running host's pipeline is unsubscribed inside its worker, so its
 * remote command is signalled). The pool starts on subscribe and ends with the run.
 *
 * @remarks
 * The contract of the pipeline module: its export takes `(target, args, context)` (a
 * {@link WorkerContext}: the host's `flow`) and returns an
 * ObservableInput of exec chunks, `run()` results or other structured-clonable values; errors
 * cross back as the same `SshError` classes, so statuses and exit codes are those of `fanOut`.
 * Each worker loads the module once and keeps what it caches (parsed known_hosts, keys) for
 * every host it runs. Values that cannot be cloned (functions, class instances such as a
 * `Connection`) cannot be emitted.
 *
 * @example
 * ```ts
 * // pipeline.ts: export const uptime = (t, args) => connect({ host: t.host, username: args.user }).pipe(…, run('uptime'));
 * import { fanOutInWorkers } from 'rxssh/fleet';
 *
 * fanOutInWorkers(hosts, { module: new URL('./pipeline.js', import.meta.url), export: 'uptime', args: { user: 'ops' } }, { threads: 4, concurrency: 400 })
 *   .subscribe((r) => console.log(r.host, r.status));
 * ```
 */
export function fanOutInWorkers<T = unknown>(targets: Iterable<FanOutTarget | string>, pipeline: WorkerPipeline, config: WorkerFanOutConfig = {}): FanOut<T> {
  checkOptions('fanOutInWorkers()', config, WORKER_FAN_OUT_NAMES);
  const moduleUrl = pipeline.module instanceof URL ? pipeline.module.href : pipeline.module.startsWith('file:') ? pipeline.module : new URL(`file://${pipeline.module}`).href;
  const exportName = pipeline.export ?? 'default';
  const threads = config.threads === undefined || config.threads === 'auto' ? availableParallelism() : config.threads;
  checkNumber('fanOutInWorkers(): threads', threads, { ...POSITIVE_INTEGER, expected: 'a positive integer or "auto"' });
  const concurrency = config.concurrency ?? 32;
  // piscina is loaded when a run starts: a library user who never runs in workers never loads it.
  const events$ = defer(() => from(loadPeer('piscina', 'fanOutInWorkers()', () => import('piscina')))).pipe(
    switchMap(({ Piscina: Pool }) => {
      const pool = new Pool({ ...workerScript(moduleUrl), minThreads: 1, maxThreads: threads, concurrentTasksPerWorker: Math.max(1, Math.ceil(concurrency / threads)), idleTimeout: 1000 });
      const project = (target: LabelledTarget): Observable<T> => dispatch<T>(pool, { module: moduleUrl, exportName, target, args: pipeline.args }, config.flow);
      return fanOut<T>(targets, project, pickOptions(config, FAN_OUT_NAMES)).events$.pipe(finalize(() => void pool.destroy()));
    }),
    // fanOut's own events are shared; this deferred wrapper must be too, or lines$, progress$ and
    // the results would each start their own run (and pool).
    share(),
  );
  return FanOut.create<T>(events$);
}

/** The worker script: the compiled one, or (running from TypeScript sources) the source through tsx. */
function workerScript(moduleUrl: string): { filename: string; execArgv?: string[] } {
  const here = import.meta.url;
  const fromSources = here.endsWith('.ts') || moduleUrl.endsWith('.ts');
  const script = shippedFile(here, './worker-host.ts', 'dist/fleet/worker-host.js');
  return fromSources ? { filename: fileURLToPath(script), execArgv: ['--import', 'tsx'] } : { filename: fileURLToPath(script) };
}

/** One host's pipeline in a worker, as an Observable: values and the end arrive on a MessagePort. */
function dispatch<T>(pool: Piscina, task: { module: string; exportName: string; target: LabelledTarget; args: unknown }, flow: OutputFlow | undefined): Observable<T> {
  return new Observable<T>((subscriber) => {
    const { port1, port2 } = new MessageChannel();
    let ended = false;
    // The main thread's flow, passed on to the host's own flow in its worker.
    const detachFlow = flow?.attach({ pause: () => port1.postMessage({ type: 'pause' } satisfies HostControl), resume: () => port1.postMessage({ type: 'resume' } satisfies HostControl) });
    const took = acknowledger((ack) => port1.postMessage(ack satisfies HostControl));
    const onMessage = (message: WorkerMessage): void => {
      if (ended) return;
      if (message.type === 'next') {
        const value = reviveValue(message.value);
        subscriber.next(value as T);
        took(value); // after the fan-out handled it (synchronously): see worker-valve.ts
      }
      else if (message.type === 'complete') {
        ended = true;
        port1.close();
        subscriber.complete();
      } else {
        ended = true;
        port1.close();
        subscriber.error(reviveError(message.error));
      }
    };
    port1.on('message', onMessage);
    let straggler: ReturnType<typeof setTimeout> | undefined;
    pool.run({ ...task, port: port2 }, { transferList: [port2] }).then(
      () => {
        // The task's end can overtake the last messages on our port (another channel): read
        // them first; a worker that ended without saying how is an error after a moment.
        if (ended) return port1.close();
        straggler = setTimeout(() => {
          port1.close();
          if (!ended) {
            ended = true;
            subscriber.error(lost(task.target, new Error('the worker ended the host without a result')));
          }
        }, 1000);
      },
      (err: unknown) => {
        port1.close();
        if (!ended) {
          ended = true;
          subscriber.error(lost(task.target, err));
        }
      },
    );
    return () => {
      if (straggler) clearTimeout(straggler);
      detachFlow?.();
      port1.off('message', onMessage);
      // Unsubscribed before the end (a timeout, the deadline, a cancel): the worker unsubscribes
      // the host's pipeline, which signals its remote command; the port closes when the task ends.
      if (!ended) {
        port1.postMessage({ type: 'cancel' });
        ended = true;
      } else {
        port1.close();
      }
    };
  });
}

/** The worker thread died (or ended the task) before the host's end was known. */
function lost(target: LabelledTarget, cause: unknown): WorkerLostError {
  const why = cause instanceof Error ? cause.message : String(cause);
  return new WorkerLostError(`the worker thread running ${target.label} died: ${why}; the command may have run and is not run again`, {
    host: target.host,
    port: target.port ?? 22,
    phase: 'connection',
    cause,
  });
}
