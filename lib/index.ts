/**
 * rxssh: the SSH client lifecycle as RxJS stages over ssh2.
 *
 * ```text
 * connect(config)          → HostKeyOffer   (transport: the server offered its key)
 *   verifyHostKey(policy)  → Transport      (key accepted; user auth next)
 *   authenticate(...creds) → Connection     (authenticated)
 *   exec / run / shell / subsystem          (channels)
 * ```
 *
 * Many hosts at once (`fanOut`, worker threads, inventories) are `rxssh/fleet`; a fleet run on a
 * BullMQ queue is `rxssh/queue`; the in-process test server is `rxssh/testing`.
 *
 * @module rxssh
 */

// ── transport ──────────────────────────────────────────────────────────────────────────────
export { connect, type ConnectConfig, type TimeoutsConfig, type KeepaliveConfig, type RekeyLimitConfig, type AlgorithmsConfig, type AlgorithmListEdit } from './transport/connect.js';
export type { ProxyStderr } from './transport/proxy-command.js';
export { HostKeyOffer, Transport, type HostKeyInfo } from './transport/transport.js';
export { hostCertificateAuthority } from './transport/host-certificates.js';
export { HopPool, defaultHopPool, type HopPoolConfig, type HopPoolStats } from './transport/hop-pool.js';
export {
  verifyHostKey,
  pinned,
  insecureAcceptAnyHostKey,
  sha256Fingerprint,
  type HostKeyPolicy,
} from './transport/host-key.js';
export {
  knownHosts,
  acceptNew,
  parseKnownHosts,
  lookupKnownHost,
  hostMatches,
  hashHostName,
  knownHostsName,
  recordHostKey,
  type KnownHostsEntry,
  type KnownHostsVerdict,
  type KnownHostVerdict,
  type BadHostVerdict,
  type UnknownHostVerdict,
  type KnownHostsConfig,
  type AcceptNewConfig,
  type CheckHostIpConfig,
} from './transport/known-hosts.js';
export { fromSshConfig, SYSTEM_SSH_CONFIG, type SshConfigHost, type ResolveAliasConfig, type StrictHostKeyChecking } from './config/ssh-config.js';
export type { LogLevel } from './util/terminal-settings.js';
export { sshConfigValues } from './config/ssh-g.js';
export type { SshForward, CommandLineForwards, ForwardPort, ForwardSocket } from './config/forwards.js';
export { hostKeyPolicyFor } from './config/host-key-policy.js';
export { sshConfigAliases, type SshConfigTargetsConfig } from './config/aliases.js';
export { credentialsFor, scanCredentials, type CredentialScan, type CredentialsForConfig } from './config/credentials.js';
export { connectAlias, type ConnectAliasConfig } from './config/connect-alias.js';
export { sshConfigRefusal } from './config/keywords.js';
export { systemNameLookup, type NameLookup } from './config/name-lookup.js';
export { DEFAULT_PUBKEY_ALGORITHMS } from './auth/signature-algorithms.js';

// ── user auth ──────────────────────────────────────────────────────────────────────────────
export {
  authenticate,
  password,
  privateKey,
  agent,
  agentCertificate,
  keyboardInteractive,
  type AuthProvider,
  type AuthEvent,
  type AuthAttemptEvent,
  type AuthBannerEvent,
  type AuthPromptEvent,
  type AuthSkippedEvent,
  type CertificateSummary,
  type AuthPrompt,
  type KeyboardInteractiveChallenge,
  type PrivateKeyConfig,
  type AddToAgentConfig,
  type AgentKeyConstraints,
  type Lazy,
} from './auth/auth.js';

// ── connection ─────────────────────────────────────────────────────────────────────────────
export { Connection } from './connection/connection.js';
export { shareConnection } from './connection/share.js';
export type { SftpConfig } from './connection/sftp-channel.js';
export type { ChannelEvent, ChannelOpenEvent, ChannelCloseEvent } from './connection/channel-events.js';
export type {
  BindAddress,
  LocalForwardConfig,
  RemoteForwardConfig,
  DynamicForwardConfig,
  ForwardEvent,
  DynamicForwardEvent,
  RemoteForwardEvent,
  ForwardListening,
  LocalForwardConnection,
  DynamicForwardConnection,
  RemoteForwardConnection,
} from './forward/forwarding.js';

// ── channels ───────────────────────────────────────────────────────────────────────────────
export {
  ChannelSubject,
  type TerminalSize,
  SIGNALS,
  normalizeSignal,
  type ChannelConfig,
  type ChannelInfo,
  type ChannelKind,
  type ExecChunk,
  type ExitInfo,
  type PtyConfig,
  type StdinChunk,
  type StdinSource,
} from './channel/channel.js';
export { OutputFlow } from './channel/flow.js';
export {
  exec,
  run,
  shell,
  subsystem,
  withConnection,
  selectStream,
  decodeText,
  splitLines,
  type SplitLinesConfig,
  type ExecResult,
  type RunConfig,
  type ExecConfig,
} from './channel/exec.js';
export type { BecomeConfig } from './channel/become.js';

// ── SFTP ───────────────────────────────────────────────────────────────────────────────────
export { SftpSession } from './sftp/sftp.js';
export { remotePath, uploadPath } from './sftp/paths.js';
export {
  MAX_TREE_DEPTH,
  SFTP_STATUS,
  type MkdirConfig,
  type RemoveConfig,
  type WriteFileConfig,
  type SftpStats,
  type SftpEntry,
  type TransferProgress,
  type TransferConfig,
  type ReadChunksConfig,
  type TreeTransferConfig,
  type TreeProgress,
} from './sftp/types.js';

// ── targets ────────────────────────────────────────────────────────────────────────────────
export { parseHostSpec, type FanOutTarget, type LabelledTarget } from './config/target.js';
export { expandHostRange, foldHosts } from './config/host-range.js';

// ── errors ─────────────────────────────────────────────────────────────────────────────────
export {
  SshError,
  errorFromData,
  type ErrorData,
  type ErrorCauseData,
  ConnectError,
  TimeoutError,
  HostKeyRejectedError,
  AuthenticationError,
  ChannelOpenError,
  ExitStatusError,
  BecomeError,
  ConnectionLostError,
  ProtocolError,
  ProxyCommandError,
  SshConfigError,
  Ssh2CompatibilityError,
  HostKeyUnknownError,
  HostKeyMismatchError,
  HostKeyRevokedError,
  HostCertificateError,
  ChannelClosedError,
  WorkerLostError,
  QueueError,
  HostSkippedError,
  MissingPeerError,
  SftpError,
  StdinOverflowError,
  type SshPhase,
  type SshErrorContext,
  type KnownHostsLocation,
  type AuthAttemptSummary,
} from './errors.js';

// ── async/await ─────────────────────────────────────────────────────────────────────────────
export { openConnection, ConnectionHandle, type OpenConnectionTarget } from './promise/handle.js';
