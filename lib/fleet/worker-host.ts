/**
 * Runs inside a fan-out worker thread (a piscina task per host): loads the user's pipeline
 * module once per thread, runs it for one host, and reports values, the error or the completion
 * on the task's MessagePort; a `cancel` message unsubscribes (the remote command is signalled,
 * as in the main thread); `pause`, `resume` and `ack` work the host's `OutputFlow` (worker-valve.ts).
 */
import type { MessagePort } from 'node:worker_threads';
import { from, type ObservableInput, type Subscription } from 'rxjs';
import { encodeError, type HostControl, type WorkerMessage } from './worker-wire.js';
import type { OutputFlow } from '../channel/flow.js';
import { WorkerValve } from './worker-valve.js';

interface Task {
  readonly module: string;
  readonly exportName: string;
  readonly target: unknown;
  readonly args: unknown;
  readonly port: MessagePort;
}

type Project = (target: unknown, args: unknown, context: { readonly flow: OutputFlow }) => ObservableInput<unknown>;
const modules = new Map<string, Promise<Project>>();

let typescript: Promise<unknown> | undefined;

/** A TypeScript pipeline module (a checkout, specs): tsx's loader, registered once per thread. */
function loaderFor(module: string): Promise<unknown> {
  if (!/\.[cm]?ts$/.test(module)) return Promise.resolve();
  const api = 'tsx/esm/api';
  typescript ??= import(api).then((tsx: { register: () => unknown }) => tsx.register());
  return typescript;
}

function load(module: string, exportName: string): Promise<Project> {
  const key = `${module}#${exportName}`;
  let project = modules.get(key);
  if (!project) {
    project = loaderFor(module).then(() => import(module)).then((m: Record<string, unknown>) => {
      const fn = m[exportName];
      if (typeof fn !== 'function') throw new TypeError(`${module} has no function export ${JSON.stringify(exportName)}`);
      return fn as Project;
    });
    modules.set(key, project);
  }
  return project;
}

export default async function runHost(task: Task): Promise<void> {
  const { port } = task;
  const post = (message: WorkerMessage): void => port.postMessage(message);
  let project: Project;
  try {
    project = await load(task.module, task.exportName);
  } catch (err) {
    post({ type: 'error', error: encodeError(err) });
    return;
  }
  await new Promise<void>((resolve) => {
    let subscription: Subscription | undefined;
    let finished = false;
    // The main thread closes the port once it has read the end (closing it here could drop
    // the last messages still on their way).
    const finish = (): void => {
      if (finished) return;
      finished = true;
      resolve();
    };
    // The host's flow: paused by the main thread (WorkerFanOutConfig.flow) or while too much
    // output waits there unacknowledged.
    const valve = new WorkerValve();
    port.on('message', (message: HostControl) => {
      if (message?.type === 'pause' || message?.type === 'resume') valve.main(message.type === 'pause');
      else if (message?.type === 'ack') valve.acked(message.bytes);
      else if (message?.type === 'cancel') {
        subscription?.unsubscribe();
        finish();
      }
    });
    try {
      subscription = from(project(task.target, task.args, { flow: valve.flow })).subscribe({
        next: (value) => {
          post({ type: 'next', value });
          valve.sent(value);
        },
        error: (err: unknown) => {
          post({ type: 'error', error: encodeError(err) });
          finish();
        },
        complete: () => {
          post({ type: 'complete' });
          finish();
        },
      });
    } catch (err) {
      post({ type: 'error', error: encodeError(err) });
      finish();
    }
    if (finished) subscription?.unsubscribe();
  });
}
