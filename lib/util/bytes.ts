/** Bytes as a Buffer without copying: text as UTF-8, a Uint8Array (a worker's clone, a caller's array) viewed as a Buffer. */
export function toBuffer(chunk: string | Uint8Array): Buffer {
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new TypeError('expected a string or a Uint8Array (stdin chunks, file data)');
}
