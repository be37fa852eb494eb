// The emulator's sense of time for everything that ages: file processing and 48 h expiry, batch
// progress and expiry. Tests move it forward instead of sleeping.

export interface Clock {
  /** Milliseconds since the epoch, like Date.now(). */
  now(): number;
}

export interface EmulatorClock extends Clock {
  /** Moves this clock (not the base one) forward; later reads include the jump. */
  advance(ms: number): void;
}

const systemClock: Clock = { now: () => Date.now() };

/** Wraps `base` with an offset, so time keeps flowing and `advance` jumps ahead of it. */
export function createClock(base: Clock = systemClock): EmulatorClock {
  let offset = 0;
  return {
    now: () => base.now() + offset,
    advance(ms: number): void {
      if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`clock.advance needs ms >= 0, got ${ms}`);
      offset += ms;
    },
  };
}

/** A clock that only moves when told: for unit tests of anything that reads time. */
export function manualClock(start = Date.UTC(2026, 0, 1)): EmulatorClock {
  return createClock({ now: () => start });
}

/** RFC 3339 in UTC, as the API writes timestamps. */
export function timestamp(ms: number): string {
  return new Date(ms).toISOString();
}
