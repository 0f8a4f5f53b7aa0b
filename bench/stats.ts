/** Small, dependency-free helpers for the benchmark harness: summaries, the event-loop probe, heap readings. */
import { performance } from 'node:perf_hooks'

/** A summary of repeated measurements of one figure. */
export interface Summary {
  median: number
  min: number
  max: number
  p99: number
  samples: number
}

/** Summarises samples (ms, bytes, counts: any unit). */
export function summarize(samples: readonly number[]): Summary {
  if (samples.length === 0)
    return { median: Number.NaN, min: Number.NaN, max: Number.NaN, p99: Number.NaN, samples: 0 }
  const sorted = [...samples].sort((a, b) => a - b)
  const at = (q: number) =>
    sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!
  return {
    median: at(0.5),
    min: sorted[0]!,
    max: sorted[sorted.length - 1]!,
    p99: at(0.99),
    samples: sorted.length,
  }
}

/** Runs `fn` `runs` times and returns the durations in ms. */
export async function time(runs: number, fn: (run: number) => Promise<void> | void): Promise<number[]> {
  const samples: number[] = []
  for (let run = 0; run < runs; run++) {
    const start = performance.now()
    await fn(run)
    samples.push(performance.now() - start)
  }
  return samples
}

/**
 * Measures the longest stretch the event loop was blocked while `fn` ran: a 1 ms interval timer notes how late each
 * tick fires. A UI thread that is blocked longer than one frame (16 ms) stutters.
 */
export async function longestBlock(fn: () => Promise<void>): Promise<number> {
  let last = performance.now()
  let worst = 0
  const probe = setInterval(() => {
    const now = performance.now()
    worst = Math.max(worst, now - last)
    last = now
  }, 1)
  try {
    await fn()
    // One more tick so a block at the very end is seen.
    await new Promise((resolve) => setTimeout(resolve, 2))
  } finally {
    clearInterval(probe)
  }
  return worst
}

/** Forces a full collection (the harness runs with --expose-gc) and returns the used heap in bytes. */
export function heapAfterGc(): number {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc === undefined) throw new Error('run the benchmark with node --expose-gc')
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

/** Rounds for the table: 3 significant digits. */
export function fmt(value: number, unit = ''): string {
  if (!Number.isFinite(value)) return 'n/a'
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2
  return `${value.toFixed(digits)}${unit}`
}

/** One timed operation: its duration and what the process wrote meanwhile. */
export interface Sample {
  ms: number
  /** Bytes passed to write system calls during the operation (`/proc/self/io` wchar), NaN where unavailable. */
  wchar: number
}

/**
 * Summarises the per-round ratio `a[i] / b[i]` of two interleaved series: each pair ran side by side, so a slow
 * moment of a shared machine weighs on both and mostly cancels out.
 */
export function pairedRatio(a: readonly number[], b: readonly number[]): Summary {
  const n = Math.min(a.length, b.length)
  const ratios: number[] = []
  for (let i = 0; i < n; i++) ratios.push(a[i]! / b[i]!)
  return summarize(ratios)
}

/**
 * Runs `rounds` rounds; in each, every runner once, the order rotated by one each round so that no runner always
 * goes first (after a GC) or last. Returns each runner's results in round order.
 */
export async function interleave<T>(
  rounds: number,
  runners: Readonly<Record<string, (round: number) => Promise<T>>>,
): Promise<Record<string, T[]>> {
  const names = Object.keys(runners)
  const out: Record<string, T[]> = Object.fromEntries(names.map((name) => [name, []]))
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(i + round) % names.length]!
      out[name]!.push(await runners[name]!(round))
    }
  }
  return out
}

/** Waits `ms` on real timers. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** Forces a collection when --expose-gc is on (between timed runs, never inside one). */
export function collect(): void {
  ;(globalThis as { gc?: () => void }).gc?.()
}
