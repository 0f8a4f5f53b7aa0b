import picocolors from 'picocolors'
import { createProgressBar, type ProgressBar, type ProgressSink } from './progress'

/**
 * Where the command writes, and how: reports to stdout, notes, progress and errors to stderr, colours only on a
 * terminal and never when `NO_COLOR` is set (https://no-color.org) or `--no-color` is given.
 */

/** The streams and environment the command runs with; tests pass their own. */
export interface CliIo {
  stdout: ProgressSink
  stderr: ProgressSink
  env: Readonly<Record<string, string | undefined>>
  /** The folder relative paths are resolved against. */
  cwd: string
}

/** The colour functions of picocolors (identity functions when colours are off). */
export type Colors = ReturnType<typeof picocolors.createColors>

/** What the commands print through. */
export interface Output {
  /** `--json` was given: stdout carries exactly one JSON document. */
  readonly json: boolean
  /** Colours for stdout. */
  readonly c: Colors
  /** Colours for stderr. */
  readonly ce: Colors
  /** A line on stdout. */
  line(text?: string): void
  /** A line on stderr (notes that must not mix with data on stdout). */
  note(text: string): void
  /** The JSON report on stdout, one document, newline-terminated. */
  printJson(value: unknown): void
  /** A progress bar on stderr (drawn only on a terminal). */
  progress(label: string): ProgressBar
}

/** True when colours may be written to `sink`. */
export function colorEnabled(sink: ProgressSink, env: CliIo['env'], allowed: boolean): boolean {
  // no-color.org: set and not empty disables colour, whatever its value.
  const noColor = env.NO_COLOR !== undefined && env.NO_COLOR !== ''
  return allowed && !noColor && sink.isTTY === true
}

/** Creates the output of one command run. */
export function createOutput(io: CliIo, options: { json: boolean; color: boolean }): Output {
  const c = picocolors.createColors(colorEnabled(io.stdout, io.env, options.color))
  const ce = picocolors.createColors(colorEnabled(io.stderr, io.env, options.color))
  return {
    json: options.json,
    c,
    ce,
    line: (text = '') => io.stdout.write(`${text}\n`),
    note: (text) => io.stderr.write(`${text}\n`),
    printJson: (value) => io.stdout.write(`${JSON.stringify(value, null, 2)}\n`),
    progress: (label) => createProgressBar(io.stderr, { enabled: io.stderr.isTTY === true, label }),
  }
}
