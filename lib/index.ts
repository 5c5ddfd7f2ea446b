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
 * @module rxssh
 */

// ── transport ──────────────────────────────────────────────────────────────────────────────
export { connect, type ConnectConfig, type TimeoutsConfig, type KeepaliveConfig, type AlgorithmsConfig, type AlgorithmListEdit } from './transport/connect.js';
export { HostKeyOffer, Transport, type HostKeyInfo } from './transport/transport.js';
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
  hostCertificateAuthority,
  parseKnownHosts,
  lookupKnownHost,
  hostMatches,
  hashHostName,
  knownHostsName,
  type KnownHostsEntry,
  type KnownHostsVerdict,
  type KnownHostVerdict,
  type BadHostVerdict,
  type UnknownHostVerdict,
  type KnownHostsConfig,
  type AcceptNewConfig,
} from './transport/known-hosts.js';
export {
  fromSshConfig,
  connectAlias,
  sshConfigAliases,
  sshConfigTargets,
  type SshConfigTargetsConfig,
  hostKeyPolicyFor,
  credentialsFor,
  type CredentialsForConfig,
  type SshConfigHost,
  type ResolveAliasConfig,
  type ConnectAliasConfig,
  type StrictHostKeyChecking,
} from './config/ssh-config.js';

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
  type Lazy,
} from './auth/auth.js';

// ── connection ─────────────────────────────────────────────────────────────────────────────
export {
  Connection,
  shareConnection,
  type ChannelEvent,
  type ChannelOpenEvent,
  type ChannelCloseEvent,
} from './connection/connection.js';
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
export {
  exec,
  run,
  shell,
  subsystem,
  withConnection,
  selectStream,
  decodeText,
  splitLines,
  type ExecResult,
  type RunConfig,
} from './channel/exec.js';

// ── SFTP ───────────────────────────────────────────────────────────────────────────────────
export {
  SftpSession,
  remotePath,
  uploadPath,
  MAX_TREE_DEPTH,
  SFTP_STATUS,
  type SftpStats,
  type SftpEntry,
  type TransferProgress,
  type TransferConfig,
  type ReadChunksConfig,
  type TreeTransferConfig,
  type TreeProgress,
} from './sftp/sftp.js';

// ── many hosts ─────────────────────────────────────────────────────────────────────────────
export {
  fanOut,
  FanOut,
  parseHostSpec,
  parseHostsFile,
  statusOf,
  type FanOutTarget,
  type LabelledTarget,
  type FanOutConfig,
  type FanOutEvent,
  type FanOutProgress,
  type HostLine,
  type HostResult,
  type HostStatus,
  type HostTimings,
} from './fleet/fan-out.js';

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
  ConnectionLostError,
  ProtocolError,
  SshConfigError,
  Ssh2CompatibilityError,
  HostKeyUnknownError,
  HostKeyMismatchError,
  HostKeyRevokedError,
  HostCertificateError,
  ChannelClosedError,
  WorkerLostError,
  QueueError,
  SftpError,
  StdinOverflowError,
  type SshPhase,
  type SshErrorContext,
  type KnownHostsLocation,
  type AuthAttemptSummary,
} from './errors.js';

// ── async/await ─────────────────────────────────────────────────────────────────────────────
export { openConnection, ConnectionHandle, type HandleRunConfig, type OpenConnectionTarget, type RunOutput } from './promise/handle.js';

// ── fan-out past one core ───────────────────────────────────────────────────────────────────
export { fanOutInWorkers, type WorkerPipeline, type WorkerFanOutConfig } from './fleet/workers.js';
export { fanOutOnQueue, queueWorker, redisOptions, type QueueConfig, type QueueJob, type QueueFanOutConfig, type QueueHostPipeline, type QueueWorkerConfig, type QueueWorkerEvent, type QueueWorker } from './queue/queue.js';
