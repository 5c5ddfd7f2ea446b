/**
 * rxssh/testing: an in-process SSH server for tests, examples and demos.
 *
 * @module rxssh/testing
 */
export { testServer, withTestServer, generateEd25519, type TestServerConfig, type TestServerInfo, type TestServerStats, type TestServerHostKey, type KeyPair } from './server.js';
export { runScript, type ScriptContext, type ScriptChannel } from './scripts.js';
