import { constants } from 'node:os'
import { type SaveflowError, toSaveflowError } from '../core/errors'

/**
 * Saves everything before a Node process ends (DESIGN.md: `flushAll` on quit and SIGTERM, with a deadline).
 *
 * On SIGINT or SIGTERM: flush with a deadline, run `onDone` (release the workspace lock, close files) with a grace
 * period, then exit with the conventional code, 128 + the signal number (130, 143). A second signal exits at once:
 * the user who presses Ctrl-C twice means it. When the event loop simply runs dry (`beforeExit`), the same flush runs
 * once and the process then ends by itself with its own exit code.
 *
 * Installing a signal listener replaces Node's default "die at once" behaviour, which is the point; the deadline is
 * what keeps a stuck disk from keeping the process alive forever.
 */

/** Options of {@link installExitFlush}. */
export interface ExitFlushOptions {
  /** Saves every unsaved document; receives the deadline so it can stop by itself (the coordinator's `flushAll`). */
  flushAll: (options: { deadlineMs: number }) => Promise<unknown>
  /** Longest wait for the flush before the process exits anyway, in ms. @default 5000 */
  deadlineMs?: number
  /** Runs after the flush ended or its deadline passed: release resources here. Bounded by `graceMs`. */
  onDone?: (report: ExitFlushReport) => unknown
  /** Longest wait for `onDone`, in ms. @default 1000 */
  graceMs?: number
  /** Signals that flush and exit. @default ['SIGINT', 'SIGTERM'] */
  signals?: readonly NodeJS.Signals[]
  /** Also flush once when the event loop runs dry. @default true */
  beforeExit?: boolean
  /** Ends the process; replaced in tests that emit signals in-process. @default process.exit */
  exit?: (code: number) => void
}

/** How the flush on exit went, handed to `onDone`. */
export interface ExitFlushReport {
  /** What started it. */
  trigger: NodeJS.Signals | 'beforeExit'
  /** `flushed`: `flushAll` resolved; `failed`: it rejected; `timeout`: the deadline passed first. */
  outcome: 'flushed' | 'failed' | 'timeout'
  /** What `flushAll` resolved with (per-document outcomes). */
  result?: unknown
  /** Why `flushAll` rejected. */
  error?: SaveflowError
  /** The code the process exits with; undefined after `beforeExit`, where Node's own exit code stands. */
  exitCode: number | undefined
}

const DEFAULT_DEADLINE_MS = 5000
const DEFAULT_GRACE_MS = 1000
const DEFAULT_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM']

/** The conventional exit code of a process ended by `signal`: 128 + its number. */
export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? 0)
}

/** Installs the signal and `beforeExit` listeners; returns the function that removes them. */
export function installExitFlush(options: ExitFlushOptions): () => void {
  const deadlineMs = options.deadlineMs ?? DEFAULT_DEADLINE_MS
  const graceMs = options.graceMs ?? DEFAULT_GRACE_MS
  const signals = options.signals ?? DEFAULT_SIGNALS
  const exit = options.exit ?? ((code: number) => process.exit(code))
  let flushing: Promise<void> | null = null
  let signalled = false

  const run = (trigger: ExitFlushReport['trigger'], exitCode: number | undefined): Promise<void> => {
    flushing ??= flushThenRelease(options, trigger, exitCode, deadlineMs, graceMs)
    return flushing
  }

  const onSignal = (signal: NodeJS.Signals) => {
    const code = signalExitCode(signal)
    if (signalled) return exit(code)
    signalled = true
    // A flush already under way (from beforeExit) is awaited rather than started again.
    void run(signal, code).then(() => exit(code))
  }

  const onBeforeExit = () => {
    // beforeExit fires again every time the loop runs dry; the flush runs once, and the process then ends.
    if (flushing === null) void run('beforeExit', undefined)
  }

  for (const signal of signals) process.on(signal, onSignal)
  if (options.beforeExit ?? true) process.on('beforeExit', onBeforeExit)
  return () => {
    for (const signal of signals) process.off(signal, onSignal)
    process.off('beforeExit', onBeforeExit)
  }
}

async function flushThenRelease(
  options: ExitFlushOptions,
  trigger: ExitFlushReport['trigger'],
  exitCode: number | undefined,
  deadlineMs: number,
  graceMs: number,
): Promise<void> {
  const flushed = Promise.resolve()
    .then(() => options.flushAll({ deadlineMs }))
    .then(
      (result): Omit<ExitFlushReport, 'trigger' | 'exitCode'> => ({ outcome: 'flushed', result }),
      (error: unknown): Omit<ExitFlushReport, 'trigger' | 'exitCode'> => ({
        outcome: 'failed',
        error: toSaveflowError(error),
      }),
    )
  const report: ExitFlushReport = {
    trigger,
    exitCode,
    ...(await within(flushed, deadlineMs, { outcome: 'timeout' as const })),
  }
  if (options.onDone !== undefined) {
    const done = Promise.resolve()
      .then(() => options.onDone?.(report))
      .catch(() => undefined)
    await within(done, graceMs, undefined)
  }
}

/**
 * `promise`, or `fallback` once `ms` passed. The timer is deliberately not unref'd: after a signal nothing else may
 * keep the loop alive, and the process must still reach its exit call.
 */
function within<T, F>(promise: Promise<T>, ms: number, fallback: F): Promise<T | F> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<F>((resolve) => {
    timer = setTimeout(() => resolve(fallback), ms)
  })
  return Promise.race([promise, late]).finally(() => clearTimeout(timer))
}
