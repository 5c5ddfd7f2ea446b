/**
 * The CLI's one V8 setting, for bulk data. Every SSH packet is a fresh Buffer, and V8 counts
 * that external memory against the old generation's limit; with the CLI's modules loaded, the
 * limit V8 derives from the heap after start-up is crossed every few MiB of a transfer: 50-odd
 * full collections per 256 MiB through `rxssh exec host cat`, about as much CPU again as the
 * transfer (docs/benchmarks.md, "Whole processes"). A growing factor of 5 after each full
 * collection (`--heap-growing-percent=400`; V8 picks 1.1 to 4 by itself) leaves room for it.
 * Set once a connection is ready, not at start-up: V8 flags changed before Node has compiled
 * its built-in modules make it compile them without their code cache (~11 ms more for
 * `rxssh exec host true`). `--initial-old-space-size` would do too, but only on node's
 * command line, and any flag there costs every run that start-up time.
 */
import { setFlagsFromString } from 'node:v8';

let set = false;

/** Gives V8 room for a bulk transfer's external memory (once per process). */
export function roomForBulkData(): void {
  if (set) return;
  set = true;
  setFlagsFromString('--heap-growing-percent=400');
}
