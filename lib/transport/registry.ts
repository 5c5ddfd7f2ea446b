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

const retries = new WeakMap<object, (types: readonly string[]) => void>();

/**
 * Lets a HostKeyOffer ask its `connect` to start over, asking for `types` first (once per
 * subscription). The capability travels with the offer itself, so any operator between
 * `connect` and `verifyHostKey` leaves it intact.
 */
export function registerRetry(offer: object, retry: (types: readonly string[]) => void): void {
  retries.set(offer, retry);
}

/** The offer's retry, if its connection may still start over. */
export function retryOf(offer: unknown): ((types: readonly string[]) => void) | undefined {
  return typeof offer === 'object' && offer !== null ? retries.get(offer) : undefined;
}

const learners = new WeakMap<object, (keys: Buffer[]) => void>();

/**
 * Marks an accepted host key as one whose host's other keys may be learned after login
 * (`UpdateHostKeys`): `learn` gets the keys that proved themselves. Set by a known_hosts policy.
 */
export function setHostKeyLearner(key: object, learn: (keys: Buffer[]) => void): void {
  learners.set(key, learn);
}

/** The learner a policy set for an accepted key, if any. */
export function hostKeyLearnerOf(key: object): ((keys: Buffer[]) => void) | undefined {
  return learners.get(key);
}
