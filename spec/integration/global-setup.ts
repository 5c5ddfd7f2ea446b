/**
 * vitest globalSetup: starts one real OpenSSH sshd for the whole run and hands its address,
 * keys and credentials to the specs with `inject('sshd')`. When sshd cannot run, the reason is
 * handed instead, so every integration spec fails loudly with it (never a silent pass).
 */
import type { TestProject } from 'vitest/node';
import { startSshd, sshdUnavailable, type SshdInfo } from './sshd.js';

declare module 'vitest' {
  export interface ProvidedContext {
    sshd: SshdInfo | { readonly unavailable: string };
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const why = sshdUnavailable();
  if (why) {
    const banner = `\n*** rxssh: the real-sshd integration specs cannot run: ${why} ***\n`;
    process.stderr.write(banner);
    project.provide('sshd', { unavailable: why });
    return async () => undefined;
  }
  try {
    const { info, stop } = await startSshd();
    project.provide('sshd', info);
    return stop;
  } catch (err) {
    const why2 = `sshd failed to start: ${String(err)}`;
    process.stderr.write(`\n*** rxssh: ${why2} ***\n`);
    project.provide('sshd', { unavailable: why2 });
    return async () => undefined;
  }
}
