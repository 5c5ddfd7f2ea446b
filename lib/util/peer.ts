/**
 * Optional peer dependencies (`piscina`, `bullmq`, `ioredis`): loaded when a feature first needs
 * them, and a clear `MissingPeerError` naming the package when it is not installed.
 */
import { MissingPeerError } from '../errors.js';

/** Whether `err` is Node's "cannot find package NAME" for this very package (not one of its own dependencies). */
function isMissing(err: unknown, name: string): boolean {
  const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && typeof message === 'string' && message.includes(`'${name}'`);
}

/** Loads an optional peer with `load` (a literal `import('name')`, so types follow); `feature` names what needs it. */
export async function loadPeer<T>(name: string, feature: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (err) {
    throw isMissing(err, name) ? new MissingPeerError(name, feature, err) : err;
  }
}
