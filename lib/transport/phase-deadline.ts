/**
 * A session's deadline: one at a time, armed anew when a phase with a bound begins (connect,
 * handshake, auth), cleared once the connection is established or ended.
 */
export class PhaseDeadline {
  #timer: NodeJS.Timeout | undefined;

  /** `expired` is called with the deadline's length when it passes first. */
  constructor(private readonly expired: (ms: number) => void) {}

  /** Replaces the running deadline with one of `ms` milliseconds (none when `ms` is 0). */
  arm(ms: number): void {
    this.clear();
    if (ms <= 0) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.expired(ms);
    }, ms);
  }

  clear(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
