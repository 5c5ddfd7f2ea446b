/**
 * ssh2 is CommonJS and Node's ESM loader cannot see its named exports, so its values are taken
 * from the default export here, once. Types are imported from 'ssh2' directly.
 */
import { createRequire } from 'node:module';
import ssh2 from 'ssh2';

export const { BaseAgent, Client, Server, utils } = ssh2;

let warned = false;

/**
 * Warns once per process when ssh2's optional native crypto binding did not build (its install
 * script needs node-gyp): bulk transfers are then ~30 % slower and ChaCha20 runs in JavaScript.
 */
export function warnIfNoNativeCrypto(): void {
  if (warned) return;
  warned = true;
  let available: boolean;
  try {
    // ssh2 exposes no public flag; its crypto module does.
    available = (createRequire(import.meta.url)('ssh2/lib/protocol/crypto.js') as { bindingAvailable?: boolean }).bindingAvailable === true;
  } catch {
    available = false;
  }
  if (!available) {
    process.emitWarning("ssh2's native crypto binding is not built; bulk transfers will be slower (rebuild with `npm rebuild ssh2`)", {
      code: 'RXSSH_NO_NATIVE_CRYPTO',
    });
  }
}
