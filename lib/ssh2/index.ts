/**
 * The ssh2 fence: the only door through which rxssh reaches ssh2. Every file of lib/ssh2/
 * covers one SSH layer; each reach-in past ssh2's public API has a row in MANIFEST.md (ssh2
 * file and function, what breaks if it changes, the spec that pins it, the upstream issue).
 * Outside lib/ssh2/ nothing imports `ssh2` or `ssh2/lib/*` (eslint.config.js enforces it).
 */
export * from './module.js';
export { once } from './lazy.js';
export * from './transport.js';
export * from './auth.js';
export * from './connection.js';
export * from './channel.js';
export * from './sftp.js';
export * from './signatures.js';
export * from './server.js';
