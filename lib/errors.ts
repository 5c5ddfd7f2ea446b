/**
 * The typed errors of rxssh: one `SshError` base, one subclass per kind of failure.
 *
 * @module
 */
export * from './errors/base.js';
export * from './errors/host-key.js';
export * from './errors/connection.js';
export * from './errors/auth.js';
export * from './errors/channel.js';
export * from './errors/fleet.js';
export { errorFromData } from './errors/wire.js';
