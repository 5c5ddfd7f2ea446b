/**
 * Where a connection's socket reads land. By default Node reads every chunk into a fresh 64 KiB
 * buffer and, when the read comes up short (as most do once Nagle is off), copies it into a
 * buffer of its own size: an allocation per read, often a copy, and external memory that
 * drives V8's full collections. Here the socket reads (Node's `onread`) into consecutive slices
 * of a slab of the connection's own, never handing the same bytes out twice, so what ssh2 or a
 * subscriber keeps (ssh2 decrypts whole packets in place and passes on views of them) stays
 * intact. A connection that reads little uses 4 KiB slabs; one whose reads fill what they are
 * offered moves to 256 KiB slabs with at least 64 KiB per read, and back to a small slab
 * after a small read, so that an idle connection holds 4 KiB.
 * See docs/benchmarks.md ("Counted in instructions") for what it saves.
 */
import type { OnReadOpts } from 'node:net';

const SMALL_SLAB = 4 * 1024;
const SMALL_MIN = 512;
const BULK_SLAB = 256 * 1024;
const BULK_MIN = 64 * 1024;

/** `onread` options that read into slabs and hand each chunk to `emit` (as a `'data'` event would). */
export function slabReads(emit: (chunk: Buffer) => void): OnReadOpts {
  let slab: Buffer | undefined;
  let used = 0;
  let bulk = false;
  return {
    buffer: (): Buffer => {
      const size = bulk ? BULK_SLAB : SMALL_SLAB;
      // A new slab when this one is used up, or of the other size: a connection that went
      // quiet must not keep a bulk slab reserved (what was read into it stays where it is).
      if (slab === undefined || slab.length !== size || slab.length - used < (bulk ? BULK_MIN : SMALL_MIN)) {
        slab = Buffer.allocUnsafeSlow(size);
        used = 0;
      }
      return slab.subarray(used);
    },
    callback: (nread: number, buf: Uint8Array): boolean => {
      used += nread;
      // Filling what was offered (`buf`) means more was waiting: read in bulk. A small read ends it.
      if (nread >= buf.length) bulk = true;
      else if (nread < SMALL_SLAB) bulk = false;
      emit(Buffer.from(buf.buffer, buf.byteOffset, nread));
      return true;
    },
  };
}
