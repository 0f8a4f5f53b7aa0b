/**
 * Node-like system errors (`code`, `errno`, `syscall`, `path`) for the simulated backends, so the code under test
 * sees exactly what `node:fs` would throw and maps it with `toSaveflowError` the same way.
 */

/** The error codes the simulated backends raise, with their Linux errno numbers (negative, as Node reports them). */
export const SYSTEM_ERRNO = {
  ENOENT: -2,
  EIO: -5,
  EBADF: -9,
  EAGAIN: -11,
  EACCES: -13,
  EBUSY: -16,
  EEXIST: -17,
  EXDEV: -18,
  EISDIR: -21,
  EINVAL: -22,
  ENFILE: -23,
  EMFILE: -24,
  EFBIG: -27,
  ENOSPC: -28,
  EROFS: -30,
  EPERM: -1,
  EDQUOT: -122,
} as const

/** A code {@link systemError} knows. */
export type SystemErrorCode = keyof typeof SYSTEM_ERRNO

/** An `Error` shaped like the ones `node:fs` rejects with. */
export interface SystemError extends Error {
  code: SystemErrorCode
  errno: number
  syscall: string
  path?: string
}

/** Makes a Node-like system error: `ENOSPC: no space left on device (simulated), write 'project.json'`. */
export function systemError(code: SystemErrorCode, syscall: string, path?: string): SystemError {
  const where = path === undefined ? syscall : `${syscall} '${path}'`
  const error = new Error(`${code}: ${DESCRIPTIONS[code]} (simulated), ${where}`) as SystemError
  error.code = code
  error.errno = SYSTEM_ERRNO[code]
  error.syscall = syscall
  if (path !== undefined) error.path = path
  return error
}

const DESCRIPTIONS: Readonly<Record<SystemErrorCode, string>> = {
  ENOENT: 'no such file or directory',
  EIO: 'i/o error',
  EBADF: 'bad file descriptor',
  EAGAIN: 'resource temporarily unavailable',
  EACCES: 'permission denied',
  EBUSY: 'resource busy or locked',
  EEXIST: 'file already exists',
  EXDEV: 'cross-device link not permitted',
  EISDIR: 'illegal operation on a directory',
  EINVAL: 'invalid argument',
  ENFILE: 'file table overflow',
  EMFILE: 'too many open files',
  EFBIG: 'file too large',
  ENOSPC: 'no space left on device',
  EROFS: 'read-only file system',
  EPERM: 'operation not permitted',
  EDQUOT: 'disk quota exceeded',
}

/** True when `value` is a known system error code. */
export function isSystemErrorCode(value: unknown): value is SystemErrorCode {
  return typeof value === 'string' && Object.hasOwn(SYSTEM_ERRNO, value)
}
