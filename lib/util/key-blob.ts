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

/**
 * The modulus size in bits of an RSA key blob (`ssh-rsa`, or its certificate: the certified
 * key's), or undefined for another key type or a blob too short to hold it.
 */
export function rsaBitsOf(blob: Buffer): number | undefined {
  const type = keyTypeOf(blob);
  if (type !== 'ssh-rsa' && type !== 'ssh-rsa-cert-v01@openssh.com') return undefined;
  let at = 4 + (type?.length ?? 0);
  const field = (): Buffer | undefined => {
    if (at + 4 > blob.length) return undefined;
    const length = blob.readUInt32BE(at);
    if (at + 4 + length > blob.length) return undefined;
    const value = blob.subarray(at + 4, at + 4 + length);
    at += 4 + length;
    return value;
  };
  if (type === 'ssh-rsa-cert-v01@openssh.com' && field() === undefined) return undefined; // the nonce
  if (field() === undefined) return undefined; // e
  const n = field();
  if (!n) return undefined;
  let i = 0;
  while (i < n.length && n[i] === 0) i++;
  if (i === n.length) return 0;
  return (n.length - i - 1) * 8 + (32 - Math.clz32(n[i] as number));
}
