/**
 * How a Session drives its ssh2 Client: the client config (rxssh's own deadlines instead of
 * ssh2's one, the host-key gate as verifier, the user-auth loop as auth handler, host-key
 * algorithms of the types already known first), the guards of lib/ssh2/ installed on a live
 * client, and the client's events handed to the session — every listener removed again by the
 * detach, save a no-op 'error' listener for the client's whole life (ssh2 may still emit late).
 */
import type { Duplex } from 'node:stream';
import { noop } from 'rxjs';
import {
  guardChannelOpens,
  offerHostCertificates,
  orderHostKeyAlgorithms,
  policeChannels,
  signalsReachable,
  signPublicKeyAtOnce,
  skipHostKeyProofs,
  steerSignatureAlgorithms,
  type AuthenticationType,
  type Client,
  type Ssh2ConnectConfig,
} from '../ssh2/index.js';
import type { NextAuth } from '../auth/userauth.js';
import type { SignatureChoice } from '../auth/signature-algorithms.js';
import type { SessionSettings } from './session-settings.js';

type Algorithms = NonNullable<Ssh2ConnectConfig['algorithms']>;
type SshClient = InstanceType<typeof Client>;

/** ssh2's client config for one session over `socket`. */
export function clientConfig(
  socket: Duplex,
  s: SessionSettings,
  knownHostKeyTypes: readonly string[],
  hooks: {
    readonly hostKey: (key: Buffer, verify: (ok: boolean) => void) => void;
    readonly authAsks: (methodsLeft: string[] | null, partialSuccess: boolean, next: NextAuth) => void;
  },
): Ssh2ConnectConfig {
  const ordered = orderHostKeyAlgorithms(s.algorithms?.serverHostKey, knownHostKeyTypes);
  const algorithms = ordered ? { ...s.algorithms, serverHostKey: ordered as NonNullable<Algorithms['serverHostKey']> } : s.algorithms;
  return {
    sock: socket as unknown as NonNullable<Ssh2ConnectConfig['sock']>,
    username: s.username,
    readyTimeout: 0, // rxssh's own per-phase deadlines replace ssh2's single one
    keepaliveInterval: s.keepaliveInterval,
    keepaliveCountMax: s.keepaliveCountMax,
    hostVerifier: (key: Buffer, verify: (ok: boolean) => void): void => hooks.hostKey(key, verify),
    authHandler: ((methodsLeft: AuthenticationType[] | null, partialSuccess: boolean | null, next: NextAuth) =>
      hooks.authAsks(methodsLeft, partialSuccess === true, next)) as unknown as NonNullable<Ssh2ConnectConfig['authHandler']>,
    ...(algorithms ? { algorithms } : {}),
    ...(s.forwardAgent ? { agent: s.forwardAgent, agentForward: true } : {}),
  };
}

/** What a session hears from its client. */
export interface ClientEvents {
  readonly error: (err: unknown) => void;
  readonly close: () => void;
  readonly ready: () => void;
  readonly banner: (message: string) => void;
  readonly handshake: () => void;
  /** The host's keys that proved themselves after login (asked for only when learning). */
  readonly hostKeys: (keys: Buffer[]) => void;
}

/** Listens to the client; returns the detach. */
export function listenToClient(client: SshClient, on: ClientEvents): () => void {
  const onHostKeys = (keys: Array<{ getPublicSSH(): Buffer }>): void => {
    try {
      on.hostKeys(keys.map((k) => k.getPublicSSH()));
    } catch {
      // learning is best effort: the connection is not its business
    }
  };
  client.on('handshake', on.handshake);
  client.on('error', on.error);
  client.on('close', on.close);
  client.on('ready', on.ready);
  client.on('banner', on.banner);
  client.on('hostkeys', onHostKeys as never);
  return () => {
    client.off('hostkeys', onHostKeys as never);
    client.on('error', noop);
    client.off('error', on.error);
    client.off('ready', on.ready);
    client.off('banner', on.banner);
    client.off('close', on.close);
    client.off('handshake', on.handshake);
  };
}

/** The guards of lib/ssh2/ on a live client: all in place, or false (nothing may run then). */
export function installGuards(
  client: SshClient,
  g: {
    readonly knownHostKeyTypes: readonly string[];
    readonly learning: () => boolean;
    readonly signatures: SignatureChoice;
    readonly channelFault: (channel: object, what: string) => void;
  },
): boolean {
  const certificateAlgorithms = g.knownHostKeyTypes.filter((t) => t.endsWith('-cert-v01@openssh.com'));
  return (
    (certificateAlgorithms.length === 0 || offerHostCertificates(client, certificateAlgorithms)) &&
    guardChannelOpens(client) &&
    skipHostKeyProofs(client, g.learning) &&
    steerSignatureAlgorithms(client, g.signatures) &&
    signPublicKeyAtOnce(client, g.signatures) &&
    signalsReachable(client) &&
    policeChannels(client, g.channelFault)
  );
}
