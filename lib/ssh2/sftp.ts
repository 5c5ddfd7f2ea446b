/**
 * Reach-ins into ssh2's SFTP session: its request table (deadlines, a lost channel), its
 * request sizes, and WRITE requests sent without ssh2's copy.
 */

import { createRequire } from 'node:module';
// `any` is allowed inside lib/ssh2/ only (see eslint.config.js): ssh2's internals are untyped.

/**
 * The largest read and write an SFTP session sends in one request: what the server announced
 * through `limits@openssh.com`, or ssh2's own guess (OpenSSH's 256 KiB less overhead, 31952
 * bytes for other servers). ssh2 splits longer requests, so transfers size theirs to fit.
 */
export function sftpRequestLimits(sftp: object): { read: number; write: number } | undefined {
  const read: unknown = (sftp as any)._maxReadLen;
  const write: unknown = (sftp as any)._maxWriteLen;
  return typeof read === 'number' && typeof write === 'number' && read > 0 && write > 0 ? { read, write } : undefined;
}

/**
 * Watches an ssh2 SFTP session's outstanding requests (its `_requests` table, keyed by request
 * id) and calls `onStall` once when one has waited `ms` or longer for its answer. Checked four
 * times per `ms`, so a stall is seen within 1.25 × `ms`.
 *
 * @returns the stop function (also safe when the shape is not there: nothing is watched then).
 */
export function watchSftpRequests(sftp: object, ms: number, onStall: () => void): () => void {
  if (!sftpRequestsReachable(sftp)) throw new Error("ssh2's SFTP session has no request table (_requests): request deadlines cannot be enforced");
  const firstSeen = new Map<string, number>();
  const timer = setInterval(
    () => {
      const now = Date.now();
      const live = (sftp as any)._requests as Record<string, unknown>;
      for (const id of firstSeen.keys()) if (!(id in live)) firstSeen.delete(id);
      for (const id of Object.keys(live)) {
        const since = firstSeen.get(id);
        if (since === undefined) firstSeen.set(id, now);
        else if (now - since >= ms) {
          clearInterval(timer);
          onStall();
          return;
        }
      }
    },
    Math.max(5, Math.floor(ms / 4)),
  );
  return () => clearInterval(timer);
}

/**
 * Whether an ssh2 SFTP session keeps its pending requests where {@link watchSftpRequests} and
 * {@link abandonSftpRequests} find them: checked when a session opens, so that request deadlines
 * and a lost channel can never silently leave requests waiting.
 */
export function sftpRequestsReachable(sftp: object): boolean {
  const requests: unknown = (sftp as any)._requests;
  return typeof requests === 'object' && requests !== null;
}

/**
 * Fails every request still waiting on an ssh2 SFTP session with `err` (ssh2 does so itself
 * only once the channel has closed, which a server that stopped answering may never let
 * happen).
 */
export function abandonSftpRequests(sftp: object, err: Error): void {
  const requests = (sftp as any)._requests;
  if (typeof requests !== 'object' || requests === null) return;
  for (const id of Object.keys(requests)) {
    const request = requests[id];
    delete requests[id];
    try {
      request?.cb?.(err);
    } catch {
      // a callback's own failure must not stop the others
    }
  }
}

/** Bytes before a WRITE request's data: length, type, request id, handle, offset, data length. */
const writeHeaderLength = (handleLength: number): number => 4 + 1 + 4 + 4 + handleLength + 8 + 4;

/**
 * Room a buffer should leave before a WRITE request's data so that {@link sendSftpWrite} can put
 * the request's header there (handles are at most 256 bytes, SFTP draft 3 §6.3).
 */
export const SFTP_WRITE_HEADROOM = writeHeaderLength(256);

/**
 * Sends an SFTP WRITE of `data` at `position` without ssh2's copy. ssh2's `write()` allocates a
 * buffer per request and copies the data into it (for a 255 KiB request, 256 MiB of garbage
 * per 256 MiB uploaded, and the collections it triggers). Here the request's header goes into
 * the `headroom` bytes before `data` in its own buffer, and the request leaves through the same
 * window-bounded path as ssh2's own (SFTP.js `sendOrBuffer`/`drainBuffer`, mirrored below).
 *
 * The buffer is ssh2's until `done` is called. Then it is the caller's again, even when the
 * request did not go out in full: a request ended early (the session closed, rxssh gave up on
 * a silent server, or a hostile server answered before it was sent) leaves a copy of its unsent
 * rest waiting, never a view of a buffer its caller may refill.
 *
 * @returns false when it cannot: too little headroom, more than one WRITE may carry, or ssh2's
 * internals not shaped as expected. The caller then sends with `sftp.write()`.
 */
export function sendSftpWrite(sftp: object, handle: Buffer, data: Buffer, headroom: number, position: number, done: (err?: Error) => void): boolean {
  const s = sftp as any;
  const header = writeHeaderLength(handle.length);
  const outgoing = s.outgoing;
  if (
    headroom < header ||
    s.server ||
    typeof s._writeReqid !== 'number' ||
    typeof s._requests !== 'object' ||
    s._requests === null ||
    !Array.isArray(s._buffer) ||
    typeof s._protocol?.channelData !== 'function' ||
    typeof outgoing?.window !== 'number' ||
    typeof outgoing.packetSize !== 'number' ||
    !(data.length <= (sftpRequestLimits(sftp)?.write ?? 0))
  )
    return false;
  const packet = Buffer.from(data.buffer, data.byteOffset - header, header + data.length);
  // ssh2 counts request ids in int32 (`& (2 ** 32 - 1)`) and looks answers up by their uint32.
  const id = (s._writeReqid = (s._writeReqid + 1) & (2 ** 32 - 1)) >>> 0;
  packet.writeUInt32BE(packet.length - 4, 0);
  packet[4] = 6; // SSH_FXP_WRITE
  packet.writeUInt32BE(id, 5);
  packet.writeUInt32BE(handle.length, 9);
  handle.copy(packet, 13);
  const at = 13 + handle.length;
  packet.writeUInt32BE(Math.floor(position / 2 ** 32), at);
  packet.writeUInt32BE(position >>> 0, at + 4);
  packet.writeUInt32BE(data.length, at + 8);
  s._requests[id] = {
    cb: (err?: Error) => {
      disown(s, packet);
      done(err);
    },
  };
  const rest = writePayload(s, packet);
  if (rest !== undefined) s._buffer.push(rest);
  return true;
}

/** Replaces what still waits to be sent from `packet`'s memory with a copy. */
function disown(s: any, packet: Buffer): void {
  const waiting: unknown = s._buffer;
  if (!Array.isArray(waiting)) return;
  for (let i = 0; i < waiting.length; i++) {
    const part: unknown = waiting[i];
    if (part instanceof Uint8Array && part.buffer === packet.buffer && part.byteOffset >= packet.byteOffset && part.byteOffset < packet.byteOffset + packet.length) {
      waiting[i] = Buffer.from(part);
    }
  }
}

/** ssh2's `tryWritePayload`: sends what the window allows; returns the part still to send. */
function writePayload(s: any, payload: Buffer): Buffer | undefined {
  const outgoing = s.outgoing;
  if (outgoing.state !== 'open') return undefined;
  if (outgoing.window === 0) {
    s._waitWindow = true;
    s._chunkcb = drainWrites;
    return payload;
  }
  let p = 0;
  while (payload.length - p > 0 && outgoing.window > 0) {
    const n = Math.min(payload.length - p, outgoing.window, outgoing.packetSize);
    outgoing.window -= n;
    if (outgoing.window === 0) {
      s._waitWindow = true;
      s._chunkcb = drainWrites;
    }
    s._protocol.channelData(outgoing.id, p === 0 && n === payload.length ? payload : payload.subarray(p, p + n));
    p += n;
  }
  return p < payload.length ? payload.subarray(p) : undefined;
}

/** ssh2's `drainBuffer` (called with the SFTP session as `this` when the window opens again). */
function drainWrites(this: any): void {
  this._chunkcb = undefined;
  const buffer: Buffer[] = this._buffer;
  let i = 0;
  while (i < buffer.length) {
    const payload = buffer[i] as Buffer;
    const rest = writePayload(this, payload);
    if (rest !== undefined) {
      if (rest !== payload) buffer[i] = rest;
      if (i > 0) this._buffer = buffer.slice(i);
      return;
    }
    ++i;
  }
  if (i > 0) this._buffer = [];
}

/**
 * An SFTP client session on an exec channel whose command starts an SFTP server (sftp-server
 * under sudo): ssh2 builds its SFTP client only for the `sftp` subsystem, so the channel's
 * bookkeeping (its window and ids) is handed to a new instance of ssh2's own SFTP class, which
 * then receives the channel's data, and the session starts (INIT) as ssh2 starts its own.
 * `channel` must be open, its command's server not yet spoken to. Calls `done` once.
 */
export function sftpOnExecChannel(client: object, channel: object, done: (err: Error | undefined, sftp?: object) => void): void {
  const require = createRequire(import.meta.url);
  const c = client as any;
  const ch = channel as any;
  if (typeof c._chanMgr?.update !== 'function' || typeof ch.incoming?.id !== 'number') {
    done(new Error("ssh2's channel manager (_chanMgr.update) or channel ids are not where rxssh expects them: an SFTP session over exec cannot be made"));
    return;
  }
  const { SFTP } = require('ssh2/lib/protocol/SFTP.js') as { SFTP: new (client: unknown, info: unknown, cfg: unknown) => any };
  const sftp = new SFTP(client, { type: 'session', incoming: ch.incoming, outgoing: ch.outgoing }, {});
  sftp.subtype = 'exec';
  c._chanMgr.update(ch.incoming.id, sftp);
  const settle = (err?: Error): void => {
    sftp.removeListener('ready', onReady);
    sftp.removeListener('error', onError);
    sftp.removeListener('exit', onExit);
    sftp.removeListener('close', onExit);
    done(err, err ? undefined : sftp);
  };
  const onReady = (): void => settle();
  const onError = (err: Error): void => settle(err);
  const onExit = (code?: number, signal?: string): void => settle(new Error(typeof code === 'number' ? `The SFTP server exited with status ${code} before the session started` : `The SFTP server ended (${signal ?? 'closed'}) before the session started`));
  sftp.on('ready', onReady).on('error', onError).on('exit', onExit).on('close', onExit);
  sftp._init();
}
