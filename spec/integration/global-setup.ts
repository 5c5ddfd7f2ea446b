/**
 * vitest globalSetup: starts one real OpenSSH sshd for the whole run and hands its address,
 * keys and credentials to the specs with `inject('sshd')` (one sshd for every project of the run). When sshd cannot run, the reason is
 * handed instead, so every integration spec fails loudly with it (never a silent pass).
 */
import type { TestProject } from 'vitest/node';
import { startSshd, sshdUnavailable, type SshdInfo } from './sshd.js';

declare module 'vitest' {
  export interface ProvidedContext {
    sshd: SshdInfo | { readonly unavailable: string };
  }
}

/** The suite's sshd, shared by every project of the run (each one's globalSetup asks for it). */
const suite = globalThis as { rxsshSuiteSshd?: Promise<SshdInfo | { readonly unavailable: string }>; rxsshSuiteStop?: () => Promise<void>; rxsshSuiteUsers?: number };

/** Starts the sshd once; the reason it cannot run otherwise. */
async function start(): Promise<SshdInfo | { readonly unavailable: string }> {
  const why = sshdUnavailable();
  if (why) {
    process.stderr.write(`\n*** rxssh: the real-sshd integration specs cannot run: ${why} ***\n`);
    return { unavailable: why };
  }
  try {
    const { info, stop } = await startSshd();
    suite.rxsshSuiteStop = stop;
    return info;
  } catch (err) {
    const why2 = `sshd failed to start: ${String(err)}`;
    process.stderr.write(`\n*** rxssh: ${why2} ***\n`);
    return { unavailable: why2 };
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  suite.rxsshSuiteSshd ??= start();
  suite.rxsshSuiteUsers = (suite.rxsshSuiteUsers ?? 0) + 1;
  project.provide('sshd', await suite.rxsshSuiteSshd);
  return async () => {
    suite.rxsshSuiteUsers = (suite.rxsshSuiteUsers ?? 1) - 1;
    if (suite.rxsshSuiteUsers > 0) return;
    const stop = suite.rxsshSuiteStop;
    delete suite.rxsshSuiteSshd;
    delete suite.rxsshSuiteStop;
    await stop?.();
  };
}
