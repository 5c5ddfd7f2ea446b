/**
 * Where a session's byte stream comes from: a jump host's `direct-tcpip` channel (ProxyJump), a
 * command's stdin and stdout (ProxyCommand), or a TCP socket — each reporting to the session
 * through the same hooks.
 */
import type { Duplex } from 'node:stream';
import { noop, type Subscription } from 'rxjs';
import { openSocket, throughHop, type StreamPlan } from './socket.js';
import { throughCommand, type ProxyExit } from './proxy-command.js';
import type { SessionSettings } from './session-settings.js';

/** What a session hears of its stream. */
export interface StreamHooks {
  /** How the server is reached when not directly (`jump host HOST:PORT`, `ProxyCommand "…"`). */
  route(route: string): void;
  /** The stream is there (connected, or connecting); `detach` removes what was added to it. */
  stream(stream: Duplex, detach: () => void): void;
  /** The jump host failed. */
  error(err: unknown): void;
  /** The jump host's connection closed (` HOST:PORT`, or empty when unknown). */
  hopClosed(which: string): void;
  /** The ProxyCommand ended by itself. */
  proxyEnded(command: string, exit: ProxyExit): void;
}

/** Opens the stream `s` asks for; returns what to unsubscribe to let go of a hop or command. */
export function openStream(s: Pick<SessionSettings, 'via' | 'proxy'>, plan: StreamPlan, hooks: StreamHooks): Subscription | undefined {
  if (s.via) {
    return throughHop(s.via, plan, {
      stream: (stream, hop) => {
        hooks.route(`jump host ${hop.host}:${hop.port}`);
        hooks.stream(stream, noop);
      },
      error: (err) => hooks.error(err),
      closed: (hop) => hooks.hopClosed(hop ? ` ${hop.host}:${hop.port}` : ''),
    });
  }
  const proxy = s.proxy;
  if (proxy) {
    hooks.route(`ProxyCommand ${JSON.stringify(proxy.command)}`);
    return throughCommand(proxy.command, plan, { stream: (stream) => hooks.stream(stream, noop), ended: (exit) => hooks.proxyEnded(proxy.command, exit) }, proxy.stderr);
  }
  const { socket, detach } = openSocket(plan);
  hooks.stream(socket, detach);
  return undefined;
}
