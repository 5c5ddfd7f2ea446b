/**
 * ssh2 is CommonJS and Node's ESM loader cannot see its named exports, so its values are taken
 * from the default export here, once. Types are imported from 'ssh2' directly.
 */
import ssh2 from 'ssh2';

export const { Client, Server, utils } = ssh2;
