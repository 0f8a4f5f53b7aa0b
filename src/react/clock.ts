import type { Clock } from '../core/save-coordinator'

/**
 * Where the components read the time and get their ticks from ("Saved 5 s ago" must stay current). Injected so
 * that tests and stories run on the same simulated time as the save actors instead of the wall clock.
 */
export interface UiClock {
  /** Current time in ms, on the same scale as the coordinator's `now` (its `lastSavedAt`, `nextRetryAt`). */
  now(): number
  /** Calls `fn` every `ms` until the returned function is called. */
  every(ms: number, fn: () => void): () => void
}

/** The wall clock: `Date.now` and `setInterval`. The default of {@link SaveflowProvider}. */
export const systemUiClock: UiClock = {
  now: () => Date.now(),
  every(ms, fn) {
    const id = setInterval(fn, ms)
    return () => clearInterval(id)
  },
}

/**
 * A {@link UiClock} on top of an actor clock (a `SimulatedClock`), so the badges tick when the simulated time is
 * advanced, exactly like the save actors' timers do.
 */
export function uiClockFrom(clock: Clock, now: () => number): UiClock {
  return {
    now,
    every(ms, fn) {
      let id: unknown
      let stopped = false
      // Chained timeouts rather than a loop: an actor clock has no interval, and each tick re-arms only if still wanted.
      const arm = () => {
        id = clock.setTimeout(() => {
          if (stopped) return
          arm()
          fn()
        }, ms)
      }
      arm()
      return () => {
        stopped = true
        clock.clearTimeout(id)
      }
    },
  }
}
