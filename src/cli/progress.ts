/**
 * A tiny progress bar on stderr, for long work (verifying or compacting a 20 MB workspace). It draws only on a
 * terminal, never into a pipe or a log, and only once the work has lasted a moment, so quick runs stay quiet.
 */

/** Where the bar is drawn. */
export interface ProgressSink {
  write(text: string): unknown
  isTTY?: boolean
  columns?: number
}

/** Options of {@link createProgressBar}. */
export interface ProgressOptions {
  /** Draw at all (the caller decides: a terminal on stderr). */
  enabled: boolean
  /** The word before the bar. */
  label: string
  /** Current time in ms. @default performance.now */
  now?: () => number
  /** Nothing is drawn before this much time has passed. @default 250 */
  delayMs?: number
  /** Least time between two redraws, except the last one. @default 50 */
  intervalMs?: number
}

/** A running progress bar. */
export interface ProgressBar {
  /** `done` of `total` units are finished. */
  update(done: number, total: number): void
  /** Erases the bar (the report comes next). Safe to call twice. */
  finish(): void
}

const WIDTH = 24

/** Creates a progress bar; a disabled one does nothing at all. */
export function createProgressBar(sink: ProgressSink, options: ProgressOptions): ProgressBar {
  if (!options.enabled) return { update: () => {}, finish: () => {} }
  const now = options.now ?? (() => performance.now())
  const startedAt = now()
  const delayMs = options.delayMs ?? 250
  const intervalMs = options.intervalMs ?? 50
  let drawn = false
  let drawnAt = Number.NEGATIVE_INFINITY
  let lastText = ''
  return {
    update(done, total) {
      const at = now()
      if (at - startedAt < delayMs) return
      // A redraw per document would cost a terminal write each: draw at a steady pace, and the final state.
      if (at - drawnAt < intervalMs && done < total) return
      const fraction = total <= 0 ? 1 : Math.min(1, Math.max(0, done / total))
      const filled = Math.round(fraction * WIDTH)
      const text = `${options.label} [${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}] ${Math.floor(fraction * 100)}% ${done}/${total}`
      if (text === lastText) return
      lastText = text
      drawn = true
      drawnAt = at
      sink.write(`\r${text}\x1b[K`)
    },
    finish() {
      if (drawn) sink.write('\r\x1b[2K')
      drawn = false
    },
  }
}
