/**
 * One connection to the test server: sessions (exec, shell, the `echo` subsystem) up to
 * `maxSessions` at once as sshd counts them, env, pty, signals, commands run as scripts or as
 * real local commands; `direct-tcpip` to loopback destinations only.
 */
import { createConnection, type Socket } from 'node:net';
import { noop } from 'rxjs';
import { allowRequestsAfterEof, type AuthContext, type ServerChannel, type Ssh2ServerConnection } from '../ssh2/index.js';
import { runScript, type ScriptContext } from './scripts.js';
import { runLocal } from './local-command.js';
import { isLoopback } from './loopback.js';

/** What a connection shares with its server. */
export interface ServerWorld {
  readonly config: { readonly commands?: 'scripted' | 'local' | undefined };
  readonly maxSessions: number;
  readonly stats: { connections: number; openConnections: number; execs: string[]; signals: string[]; openSessions: number; refusedSessions: number };
  readonly clients: Set<Ssh2ServerConnection>;
  readonly children: Set<{ kill(): void }>;
  readonly forwards: Set<Socket>;
  readonly onAuth: (ctx: AuthContext) => void;
}

/** Serves one client connection. */
// eslint-disable-next-line max-lines-per-function -- Long by design: one connection's handlers (sessions and their requests, direct-tcpip) share its session count.
export function serveConnection(client: Ssh2ServerConnection, w: ServerWorld): void {
  w.clients.add(client);
  w.stats.connections++;
  w.stats.openConnections++;
  let sessionsHere = 0; // sshd's MaxSessions counts per connection
  client.on('error', noop);
  client.on('close', () => {
    w.clients.delete(client);
    w.stats.openConnections--;
    w.stats.openSessions -= sessionsHere;
    sessionsHere = 0;
  });
  client.on('authentication', w.onAuth);
  // eslint-disable-next-line max-lines-per-function -- the closure of the function it is in: the same reason
  client.on('ready', () => {
    // direct-tcpip (ssh -W, ProxyJump): only to loopback destinations.
    client.on('tcpip', (acceptTcp, rejectTcp, info) => {
      if (!isLoopback(info.destIP) && info.destIP !== 'localhost') return rejectTcp();
      const upstream = createConnection({ host: info.destIP, port: info.destPort });
      upstream.on('error', () => {
        if (!channel) rejectTcp();
        else channel.destroy();
      });
      let channel: ReturnType<typeof acceptTcp> | undefined;
      upstream.once('connect', () => {
        channel = acceptTcp();
        channel.on('error', noop);
        channel.pipe(upstream).pipe(channel);
        channel.on('close', () => upstream.destroy());
      });
      w.forwards.add(upstream);
      upstream.on('close', () => w.forwards.delete(upstream));
    });
    client.on('session', (accept, reject) => {
      if (sessionsHere >= w.maxSessions) {
        w.stats.refusedSessions++;
        reject();
        return;
      }
      sessionsHere++;
      w.stats.openSessions++;
      const session = accept();
      let closed = false;
      const onSessionClose = (): void => {
        if (closed || sessionsHere === 0) return;
        closed = true;
        sessionsHere--;
        w.stats.openSessions--;
      };
      session.on('close', onSessionClose);
      allowRequestsAfterEof(session);
      const env: Record<string, string> = {};
      const signals = new Set<(name: string) => void>();
      session.on('env', (acceptEnv, _rejectEnv, info) => {
        env[info.key] = info.val;
        acceptEnv?.();
      });
      session.on('pty', (acceptPty) => acceptPty?.());
      session.on('window-change', (acceptWc) => acceptWc?.());
      session.on('signal', (acceptSignal, _rejectSignal, info) => {
        w.stats.signals.push(info.name);
        acceptSignal?.();
        for (const deliver of signals) deliver(info.name);
      });
      const start = (stream: ServerChannel, command: string): void => {
        stream.on('error', noop);
        stream.stderr.on('error', noop);
        stream.on('close', onSessionClose);
        const ctx: ScriptContext = { stream, env, onSignal: (fn) => void signals.add(fn) };
        if (w.config.commands === 'local') {
          const handle = runLocal(ctx, command, () => w.children.delete(handle));
          w.children.add(handle);
        } else {
          runScript(ctx, command);
        }
      };
      session.on('exec', (acceptExec, _rejectExec, info) => {
        w.stats.execs.push(info.command);
        start(acceptExec(), info.command);
      });
      session.on('shell', (acceptShell) => start(acceptShell(), 'cat'));
      session.on('subsystem', (acceptSub, rejectSub, info) => {
        if (info.name === 'echo') start(acceptSub(), 'cat');
        else rejectSub();
      });
    });
  });
}
