/**
 * A throwaway Redis for the queue specs: Debian's `redis-server` on a free loopback port, no
 * persistence, `noeviction` (BullMQ needs it), optionally with a password. Fails loudly when
 * `redis-server` is missing (`.ci/run` installs it).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { freeClosedPort } from './index.js';

export const REDIS_SERVER = '/usr/bin/redis-server';

export interface TestRedis {
  readonly port: number;
  /** `redis://127.0.0.1:PORT`. */
  readonly url: string;
  readonly process: ChildProcess;
  /** Stops it (SIGTERM) and waits for the exit. */
  stop(): Promise<void>;
}

export interface TestRedisOptions {
  /** `requirepass` (the default user's password). */
  readonly password?: string;
  /** Serve TLS only, with this certificate and key (PEM files). */
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
  /** An ACL user (with every right); the default user is then turned off. */
  readonly user?: { readonly name: string; readonly password: string };
}

export async function startRedis(options: TestRedisOptions = {}): Promise<TestRedis> {
  if (!existsSync(REDIS_SERVER)) throw new Error(`${REDIS_SERVER} is missing: install the Debian package redis-server (.ci/run does)`);
  for (let attempt = 0; ; attempt++) {
    const port = await freeClosedPort();
    const listen = options.tls
      ? ['--port', '0', '--tls-port', String(port), '--tls-cert-file', options.tls.certFile, '--tls-key-file', options.tls.keyFile, '--tls-auth-clients', 'no']
      : ['--port', String(port)];
    const args = [...listen, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--maxmemory-policy', 'noeviction', '--daemonize', 'no', '--loglevel', 'warning'];
    if (options.password !== undefined) args.push('--requirepass', options.password);
    if (options.user) args.push('--user', options.user.name, 'on', `>${options.user.password}`, '~*', '&*', '+@all', '--user', 'default', 'off');
    const child = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const up = await new Promise<boolean>((resolve) => {
      const net = import('node:net');
      const deadline = Date.now() + 10_000;
      const probe = (): void => {
        if (child.exitCode !== null) return resolve(false);
        if (Date.now() > deadline) return resolve(false);
        void net.then(({ connect }) => {
          const s = connect(port, '127.0.0.1');
          s.once('connect', () => {
            s.destroy();
            resolve(true);
          });
          s.once('error', () => setTimeout(probe, 50));
        });
      };
      probe();
    });
    if (!up) {
      child.kill('SIGKILL');
      if (attempt < 3) continue; // the port was taken meanwhile
      throw new Error(`redis-server did not start: ${output}`);
    }
    return {
      port,
      url: `${options.tls ? 'rediss' : 'redis'}://127.0.0.1:${port}`,
      process: child,
      stop: () =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
        }),
    };
  }
}
