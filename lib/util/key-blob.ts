/** The SSH public-key wire format, read in one place. */

/**
 * The type name a key blob starts with (`ssh-ed25519`, `ssh-rsa`, `…-cert-v01@openssh.com`), or
 * undefined when the blob is too short to hold the name it announces.
 */
export function keyTypeOf(blob: Buffer): string | undefined {
  if (blob.length < 4) return undefined;
  const length = blob.readUInt32BE(0);
  if (length === 0 || length > blob.length - 4) return undefined;
  return blob.subarray(4, 4 + length).toString('latin1');
}
