/**
 * Links the public stage objects (HostKeyOffer, Transport, Connection) to the private Session
 * that drives them, without putting the session on the public objects.
 */
import type { Session } from './session.js';

const sessions = new WeakMap<object, Session>();

/** Associates a public stage object with its session. */
export function register(stage: object, session: Session): void {
  sessions.set(stage, session);
}

/** The session behind a public stage object, or undefined for a foreign object. */
export function sessionOf(stage: unknown): Session | undefined {
  return typeof stage === 'object' && stage !== null ? sessions.get(stage) : undefined;
}
