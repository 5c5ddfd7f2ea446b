/** The test server's `local` mode: a real command per channel, its stdio, signals and exit bridged. */
import { spawn } from 'node:child_process';
import { noop } from 'rxjs';
import type { ScriptContext } from './scripts.js';

/** Runs a real local command for the `local` mode, bridging stdio, signals and exit. */
export function runLocal(ctx: ScriptContext, command: string, onDone: () => void): { kill(): void } {
  const { stream } = ctx;
  const child = spawn('/bin/sh', ['-c', command], { env: { ...process.env, ...ctx.env }, stdio: ['pipe', 'pipe', 'pipe'] });
  child.on('error', noop);
  child.stdin.on('error', noop);
  child.stdout.pipe(stream, { end: false });
  child.stderr.pipe(stream.stderr, { end: false });
  stream.pipe(child.stdin);
  ctx.onSignal((name) => child.kill(`SIG${name}` as NodeJS.Signals));
  let outputs = 2;
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const finish = (): void => {
    if (outputs > 0 || !exit) return;
    if (exit.signal) stream.exit(exit.signal.replace(/^SIG/, ''), false, '');
    else stream.exit(exit.code ?? 0);
    stream.end();
    onDone();
  };
  child.stdout.on('end', () => {
    outputs--;
    finish();
  });
  child.stderr.on('end', () => {
    outputs--;
    finish();
  });
  child.on('exit', (code, signal) => {
    exit = { code, signal };
    finish();
  });
  stream.on('close', () => {
    if (!exit) child.kill('SIGHUP');
  });
  return { kill: () => child.kill('SIGKILL') };
}
