/**
 * What travels through Redis between a submitter and its runners besides the job data: a job's
 * return value and its progress messages (numbered output chunks), and the limits both sides keep.
 */
import { type HostStatus } from '../fleet/fan-out.js';
import { type WireError } from '../fleet/worker-wire.js';

/** A finished job's return value. */
export interface JobReturn {
  readonly status: HostStatus;
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly error: WireError | null;
  /** Progress messages sent (the submitter checks it saw them all). */
  readonly sent: number;
  /** The worker's signature, with a queue secret. */
  readonly sig?: string;
}

/** A progress message: numbered output chunks (`0` stdout, `1` stderr; base64). */
export interface JobProgress {
  readonly seq: number;
  readonly c: ReadonlyArray<readonly [0 | 1, string]>;
  /** The worker's signature, with a queue secret. */
  readonly sig?: string;
}

export const STALLED = 'stalled more than allowable limit';
export const MAX_STDIN = 16 * 1024 * 1024;
export const KEEP = { age: 24 * 3600, count: 100_000 };
