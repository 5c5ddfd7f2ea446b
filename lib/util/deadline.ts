/**
 * A time limit on a whole Observable (not only on its first value, as rxjs's `timeout` has it):
 * after `ms` the source is unsubscribed — a remote command is signalled — and the result errors
 * with a TimeoutError (phase exec).
 */
import { mergeMap, raceWith, throwError, timer, type MonoTypeOperatorFunction } from 'rxjs';
import { TimeoutError } from '../errors.js';

export function within<T>(ms: number, where: { readonly host: string; readonly port: number }): MonoTypeOperatorFunction<T> {
  return raceWith(timer(ms).pipe(mergeMap(() => throwError(() => new TimeoutError(ms, { ...where, phase: 'exec' })))));
}
