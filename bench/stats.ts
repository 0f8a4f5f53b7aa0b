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
