/**
 * Reach-ins for the in-process test server (rxssh/testing): behave like sshd where ssh2's
 * server does not.
 */

// `any` is allowed inside lib/ssh2/ only (see eslint.config.js): ssh2's internals are untyped.

/**
 * Makes an ssh2 *server* session keep honouring channel requests (such as `signal`) after the
 * client's EOF, as OpenSSH does and RFC 4254 allows. ssh2 sets `_ending` on EOF and then
 * ignores every request; the in-process test server clears it again so that it behaves like
 * sshd for cancel-after-EOF. `_ending` is set again on CHANNEL_CLOSE.
 */
export function allowRequestsAfterEof(session: object): void {
  const s = session as any;
  if (typeof s._ending !== 'boolean' || typeof s.on !== 'function') return;
  s.on('eof', () => {
    s._ending = false;
  });
}

/** Destroys the socket under an ssh2 server-side connection (ssh2 keeps it private): a cut cable. */
export function destroySocketOf(client: object): void {
  const sock: unknown = (client as any)._sock;
  if (sock && typeof (sock as { destroy?: unknown }).destroy === 'function') (sock as { destroy(): void }).destroy();
}
