import { isSaveflowError, type SaveflowError, toSaveflowError } from '../core/errors'
import { EXIT, type ExitCode } from './exit-codes'
import { CLI_ERROR_TEXT, type CliErrorCode } from './text'

/**
 * An error the command reports and exits with: a code, a message and a hint for the user, and the exit code. The
 * storage layer's `SaveflowError`s are reported the same way (see {@link describeError}).
 */
export class CliError extends Error {
  override readonly name = 'CliError'
  readonly code: CliErrorCode
  readonly hint: string
  readonly exitCode: ExitCode
  readonly details: Readonly<Record<string, unknown>> | undefined

  constructor(
    code: CliErrorCode,
    subject: string,
    exitCode: ExitCode,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    const text = CLI_ERROR_TEXT[code](subject)
    super(text.message, options.cause === undefined ? {} : { cause: options.cause })
    this.code = code
    this.hint = text.hint
    this.exitCode = exitCode
    this.details = options.details
  }
}

/** What is printed for an error, and the exit code it ends with. */
export interface ErrorDescription {
  code: string
  message: string
  hint: string | null
  exitCode: ExitCode
  details: Readonly<Record<string, unknown>> | null
}

/** Exit codes of the storage layer's error codes; anything else is a failed operation. */
function exitCodeOf(error: SaveflowError): ExitCode {
  if (error.code === 'locked') return EXIT.locked
  if (error.code === 'invalid-id') return EXIT.badId
  return EXIT.failed
}

/** Turns anything thrown into what the user sees: never a stack trace (that is `--debug`'s job). */
export function describeError(error: unknown): ErrorDescription {
  if (error instanceof CliError) {
    return {
      code: error.code,
      message: error.message,
      hint: error.hint,
      exitCode: error.exitCode,
      details: error.details ?? null,
    }
  }
  // A system error (EACCES while listing a folder, EIO while reading) is a condition, not a bug: say it in words.
  const code = (error as { code?: unknown } | null)?.code
  if (!isSaveflowError(error) && typeof code === 'string' && /^E[A-Z]+$/.test(code)) {
    return describeError(toSaveflowError(error))
  }
  if (isSaveflowError(error)) {
    return {
      code: error.code,
      message: error.message,
      hint: error.hint,
      exitCode: exitCodeOf(error),
      details: error.details ?? null,
    }
  }
  // A bug, not a condition we know: still no stack trace unless asked for.
  const message = error instanceof Error ? error.message : String(error)
  return {
    code: 'internal',
    message,
    hint: 'Run again with --debug for details.',
    exitCode: EXIT.failed,
    details: null,
  }
}
