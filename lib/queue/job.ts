/**
 * A queue job's data as it comes out of Redis, checked against a strict shape before a worker
 * acts on it. Anyone who can write to Redis writes these fields, so they are data only: a user
 * is one word, a host a name or an address, a port 1-65535; nothing of a job ever becomes
 * ssh_config text (a `user` holding `deploy\nStrictHostKeyChecking no` once did).
 */
import type { LabelledTarget } from '../config/target.js';
import { unsigned, verifyQueued } from './signing.js';

/** What a submitter puts on the queue for one host (format version 1). */
export interface JobData {
  readonly v: 1;
  readonly runId: string;
  readonly target: LabelledTarget;
  readonly command: string;
  readonly stdin?: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly pty?: boolean;
  readonly user?: string;
  /** Whom the command runs as (no password: a worker has its own). */
  readonly become?: { readonly method: 'sudo' | 'su' | 'doas'; readonly user: string };
  readonly timeout: number;
  readonly capture: number;
  readonly retries: number;
  /** The submitter's signature (with `QueueConfig.secret`): hex HMAC-SHA256 over the rest. */
  readonly sig?: string;
}

/** A job whose data does not have the shape of version 1; the worker refuses it. */
export class BadJobError extends Error {
  override readonly name = 'BadJobError';
}

/** The stdin bound of a job (16 MiB), as base64. */
const MAX_STDIN_BASE64 = Math.ceil((16 * 1024 * 1024) / 3) * 4;
/** A user name: one word of the characters account names use, not an option. */
const USER = /^[A-Za-z0-9._][A-Za-z0-9._@+-]{0,63}$/;
/** A host name (RFC 1123 labels; `_` allowed as ssh_config aliases use it) or an IPv4 address. */
const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62})(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62}))*\.?$/;
/** An IPv6 address (with an optional zone), without brackets. */
const IPV6 = /^[0-9A-Fa-f:.]{2,45}(?:%[A-Za-z0-9_.-]{1,32})?$/;
/** An environment variable's name. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;
/** Control characters (C0 and DEL): never in a label, alias or run id. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

function fail(field: string, why: string): never {
  throw new BadJobError(`not an rxssh job: ${field} ${why}`);
}

function text(value: unknown, field: string, max: number, allowControl = false): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > max) fail(field, `must be a string of 1-${max} characters`);
  if (!allowControl && CONTROL.test(value)) fail(field, 'holds a control character');
  return value;
}

function count(value: unknown, field: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) fail(field, `must be an integer ${min}-${max}`);
  return value;
}

function user(value: unknown, field: string): string {
  if (typeof value !== 'string' || !USER.test(value)) fail(field, 'must be one word (a user name)');
  return value;
}

function target(value: unknown): LabelledTarget {
  if (!isObject(value)) fail('target', 'must be an object');
  const host = value['host'];
  if (typeof host !== 'string' || !(HOST_NAME.test(host) || (host.includes(':') && IPV6.test(host)))) fail('target.host', 'must be a host name or an address');
  const port = value['port'] === undefined ? undefined : count(value['port'], 'target.port', 1, 65535);
  const username = value['username'] === undefined ? undefined : user(value['username'], 'target.username');
  const label = text(value['label'], 'target.label', 1024);
  let alias: string | undefined;
  if (value['alias'] !== undefined) {
    alias = text(value['alias'], 'target.alias', 253);
    if (/\s/.test(alias) || alias.startsWith('-')) fail('target.alias', 'must be one word, not an option');
  }
  return { host, label, ...(port !== undefined ? { port } : {}), ...(username !== undefined ? { username } : {}), ...(alias !== undefined ? { alias } : {}) };
}

function env(value: unknown): Readonly<Record<string, string>> {
  if (!isObject(value)) fail('env', 'must be an object');
  const entries = Object.entries(value);
  if (entries.length > 256) fail('env', 'has more than 256 variables');
  for (const [name, v] of entries) {
    if (!ENV_NAME.test(name)) fail('env', `has a bad variable name ${JSON.stringify(name.slice(0, 64))}`);
    if (typeof v !== 'string' || v.length > 65536 || v.includes('\u0000')) fail(`env.${name}`, 'must be a string without NUL of at most 64 KiB');
  }
  return value as Record<string, string>;
}

function signature(value: unknown): string {
  if (typeof value !== 'string' || !/^[0-9a-f]{64}$/.test(value)) fail('sig', 'must be 64 hex digits');
  return value;
}

/** `become`: a method and a user, nothing else (a password in it is refused, never used). */
function becomeOf(raw: unknown): { method: 'sudo' | 'su' | 'doas'; user: string } {
  if (!isObject(raw)) fail('become', 'must be an object');
  const keys = Object.keys(raw).filter((k) => k !== 'method' && k !== 'user');
  if (keys.length > 0) fail('become', `holds ${keys.join(', ')} (only method and user)`);
  const method = raw['method'];
  if (method !== 'sudo' && method !== 'su' && method !== 'doas') fail('become.method', 'must be sudo, su or doas');
  return { method, user: user(raw['user'], 'become.user') };
}

/**
 * Checks a job's data from Redis and returns it with only the known fields; throws
 * {@link BadJobError} naming the first field that does not fit.
 */
export function parseJobData(raw: unknown): JobData {
  if (!isObject(raw) || raw['v'] !== 1) fail('v', 'must be 1 (format version)');
  const runId = text(raw['runId'], 'runId', 200);
  if (runId.includes(':')) fail('runId', 'holds a ":"');
  const command = text(raw['command'], 'command', 1024 * 1024, true);
  if (command.includes('\u0000')) fail('command', 'holds a NUL');
  const stdin = raw['stdin'];
  if (stdin !== undefined && (typeof stdin !== 'string' || stdin.length > MAX_STDIN_BASE64 || !/^[A-Za-z0-9+/]*={0,2}$/.test(stdin))) fail('stdin', 'must be base64 of at most 16 MiB');
  const pty = raw['pty'];
  if (pty !== undefined && typeof pty !== 'boolean') fail('pty', 'must be a boolean');
  const timeout = raw['timeout'];
  if (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout < 0 || timeout > 2 ** 31 - 1) fail('timeout', 'must be a number of milliseconds');
  return {
    v: 1,
    runId,
    target: target(raw['target']),
    command,
    ...(stdin !== undefined ? { stdin: stdin as string } : {}),
    ...(raw['env'] !== undefined ? { env: env(raw['env']) } : {}),
    ...(pty !== undefined ? { pty: pty as boolean } : {}),
    ...(raw['user'] !== undefined ? { user: user(raw['user'], 'user') } : {}),
    ...(raw['become'] !== undefined ? { become: becomeOf(raw['become']) } : {}),
    timeout: timeout as number,
    capture: count(raw['capture'], 'capture', 0, 2 ** 31 - 1),
    retries: count(raw['retries'], 'retries', 0, 100),
    ...(raw['sig'] !== undefined ? { sig: signature(raw['sig']) } : {}),
  };
}

/** What differs between a job found in Redis and the one this run would submit (`command`, `env`, …), or undefined. */
export function jobDifference(found: unknown, wanted: JobData, signing?: { readonly secret: Buffer; readonly id: string } | undefined): string | undefined {
  let existing: JobData;
  try {
    existing = parseJobData(found);
  } catch {
    return 'shape (not a job of this format)';
  }
  if (signing && !verifyQueued(signing.secret, 'job', signing.id, unsigned(existing), existing.sig)) return 'signature (not signed with this queue secret)';
  const same = (a: unknown, b: unknown): boolean => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
  const sorted = (env: Readonly<Record<string, string>> | undefined) => (env ? Object.entries(env).sort(([a], [b]) => (a < b ? -1 : 1)) : null);
  const fields: Array<[string, unknown, unknown]> = [
    ['host', [existing.target.host, existing.target.port ?? 22, existing.target.username ?? null], [wanted.target.host, wanted.target.port ?? 22, wanted.target.username ?? null]],
    ['command', existing.command, wanted.command],
    ['stdin', existing.stdin, wanted.stdin],
    ['env', sorted(existing.env), sorted(wanted.env)],
    ['pty', existing.pty === true, wanted.pty === true],
    ['user', existing.user, wanted.user],
    ['become', existing.become, wanted.become],
  ];
  const differing = fields.filter(([, a, b]) => !same(a, b)).map(([name]) => name);
  return differing.length ? differing.join(', ') : undefined;
}
