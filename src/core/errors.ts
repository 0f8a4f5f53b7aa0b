/**
 * Errors are values with a code, a message for the user and a hint. Every failure that reaches a caller of saveflow
 * is a {@link SaveflowError}; user-facing text lives in {@link ERROR_TEXT} and nowhere else.
 */

/** What went wrong, in terms a caller can branch on. */
export type SaveflowErrorCode =
  | 'disk-full'
  | 'permission-denied'
  | 'read-only'
  | 'busy'
  | 'io'
  | 'invalid-data'
  | 'corrupt'
  | 'locked'
  | 'too-large'
  | 'future-version'
  | 'not-found'
  | 'invalid-id'
  | 'aborted'
  | 'timeout'

/**
 * How a save reacts to an error:
 * - `fast`: transient (EMFILE, EBUSY, EAGAIN), retried after the base delay;
 * - `normal`: retried with exponential backoff (EIO and unknown I/O errors);
 * - `slow`: the disk is full; retried at the backoff cap until space returns, never given up on;
 * - `never`: waiting will not help (permissions, read-only, invalid data); fails at once and retries only on the
 *   user's word or the next edit.
 */
export type RetryClass = 'fast' | 'normal' | 'slow' | 'never'

/** The user-facing text of each code: a sentence saying what happened and a hint saying what to do. */
export const ERROR_TEXT: Readonly<Record<SaveflowErrorCode, { message: string; hint: string }>> = {
  'disk-full': {
    message: 'The disk is full.',
    hint: 'Free some space; saving resumes by itself.',
  },
  'permission-denied': {
    message: 'saveflow is not allowed to write to the data folder.',
    hint: 'Check the folder permissions, then press Retry.',
  },
  'read-only': {
    message: 'The data folder is read-only.',
    hint: 'Make the folder writable or move the workspace, then press Retry.',
  },
  busy: {
    message: 'The file system is busy.',
    hint: 'Saving is retried in a moment.',
  },
  io: {
    message: 'The disk reported an input/output error.',
    hint: 'Saving is retried; if it keeps failing, check the disk.',
  },
  'invalid-data': {
    message: 'The data did not pass validation, so it was not saved.',
    hint: 'The last good copy on disk is unchanged. Undo the last change or fix the invalid field.',
  },
  corrupt: {
    message: 'A saved file is damaged.',
    hint: 'The damaged file was moved to quarantine; a backup can be restored.',
  },
  locked: {
    message: 'Another window or process is using this workspace.',
    hint: 'Close the other one; this one stays read-only until then.',
  },
  'too-large': {
    message: 'The file is larger than the allowed size.',
    hint: 'Raise the size limit or split the data.',
  },
  'future-version': {
    message: 'This file was written by a newer version of the app.',
    hint: 'Update the app; the file is opened read-only so nothing is lost.',
  },
  'not-found': {
    message: 'The file does not exist.',
    hint: 'It is created on the first save.',
  },
  'invalid-id': {
    message: 'The document id is not allowed.',
    hint: 'Ids use letters, digits, "_" and "-", at most 128 characters.',
  },
  aborted: {
    message: 'The save was cancelled.',
    hint: 'A newer save replaces it.',
  },
  timeout: {
    message: 'Saving took too long.',
    hint: 'The data is still in memory; saving is retried.',
  },
}

const RETRY_CLASS: Readonly<Record<SaveflowErrorCode, RetryClass>> = {
  'disk-full': 'slow',
  'permission-denied': 'never',
  'read-only': 'never',
  busy: 'fast',
  io: 'normal',
  'invalid-data': 'never',
  corrupt: 'never',
  locked: 'never',
  'too-large': 'never',
  'future-version': 'never',
  'not-found': 'never',
  'invalid-id': 'never',
  aborted: 'never',
  timeout: 'normal',
}

/** Options of {@link SaveflowError}. */
export interface SaveflowErrorOptions {
  /** The underlying error, kept for logs. */
  cause?: unknown
  /** The system error code (`ENOSPC`, `EACCES`, ...) when the error came from the operating system. */
  sysCode?: string
  /** A more specific message than the code's default, for example naming the lock holder. */
  message?: string
  /** A more specific hint than the code's default, when the default would mislead (a missing file with backups). */
  hint?: string
  /** Structured details for logs and UIs (for example `{ holder: { pid, host } }`). */
  details?: Readonly<Record<string, unknown>>
}

/** The one error type saveflow produces. Compare `code`, never `message`. */
export class SaveflowError extends Error {
  override readonly name = 'SaveflowError'
  readonly code: SaveflowErrorCode
  readonly hint: string
  readonly retry: RetryClass
  readonly sysCode: string | undefined
  readonly details: Readonly<Record<string, unknown>> | undefined

  constructor(code: SaveflowErrorCode, options: SaveflowErrorOptions = {}) {
    super(
      options.message ?? ERROR_TEXT[code].message,
      options.cause === undefined ? {} : { cause: options.cause },
    )
    this.code = code
    this.hint = options.hint ?? ERROR_TEXT[code].hint
    this.retry = RETRY_CLASS[code]
    this.sysCode = options.sysCode
    this.details = options.details
  }

  /** A plain, serializable copy (for events, logs, the rpc bridge). */
  toJSON(): SaveflowErrorData {
    return {
      code: this.code,
      message: this.message,
      hint: this.hint,
      retry: this.retry,
      ...(this.sysCode === undefined ? {} : { sysCode: this.sysCode }),
      ...(this.details === undefined ? {} : { details: this.details }),
    }
  }
}

/** The serializable form of a {@link SaveflowError}, as it travels in events and over the rpc bridge. */
export interface SaveflowErrorData {
  code: SaveflowErrorCode
  message: string
  hint: string
  retry: RetryClass
  sysCode?: string
  details?: Readonly<Record<string, unknown>>
}

const SYS_CODES: Readonly<Record<string, SaveflowErrorCode>> = {
  ENOSPC: 'disk-full',
  EDQUOT: 'disk-full',
  EACCES: 'permission-denied',
  EPERM: 'permission-denied',
  EROFS: 'read-only',
  EMFILE: 'busy',
  ENFILE: 'busy',
  EBUSY: 'busy',
  EAGAIN: 'busy',
  EIO: 'io',
  ENOENT: 'not-found',
  EFBIG: 'too-large',
}

/** True for any value shaped like a {@link SaveflowError}, including one that crossed a process boundary. */
export function isSaveflowError(value: unknown): value is SaveflowError {
  return value instanceof SaveflowError
}

/**
 * Turns anything thrown by a backend, a validator or a user callback into a {@link SaveflowError}: system errors
 * by their errno code, aborts as `aborted`, plain data errors as given, the rest as `io`.
 */
export function toSaveflowError(error: unknown): SaveflowError {
  if (error instanceof SaveflowError) return error
  if (isErrorData(error)) {
    return new SaveflowError(error.code, {
      message: error.message,
      ...(typeof error.hint === 'string' && error.hint !== '' ? { hint: error.hint } : {}),
      ...(error.sysCode === undefined ? {} : { sysCode: error.sysCode }),
      ...(error.details === undefined ? {} : { details: error.details }),
    })
  }
  const sysCode = systemCodeOf(error)
  if (sysCode !== undefined) {
    return new SaveflowError(SYS_CODES[sysCode] ?? 'io', { cause: error, sysCode })
  }
  if (error instanceof Error && error.name === 'AbortError')
    return new SaveflowError('aborted', { cause: error })
  return new SaveflowError('io', { cause: error })
}

function systemCodeOf(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined
  const code = (error as { code?: unknown }).code
  return typeof code === 'string' && /^E[A-Z]+$/.test(code) ? code : undefined
}

function isErrorData(value: unknown): value is SaveflowErrorData {
  if (typeof value !== 'object' || value === null || value instanceof Error) return false
  const code = (value as { code?: unknown }).code
  return (
    typeof code === 'string' &&
    code in ERROR_TEXT &&
    typeof (value as { message?: unknown }).message === 'string'
  )
}
