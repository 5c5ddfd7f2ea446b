/**
 * rxssh/testing: an in-process SSH server for tests, examples and demos.
 *
 * @module rxssh/testing
 */
export { testServer, withTestServer, type TestServerConfig, type TestServerInfo, type TestServerStats, type TestServerHostKey } from './server.js';
export { runScript, type ScriptContext } from './scripts.js';
