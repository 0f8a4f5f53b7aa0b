import { describe, expect, it } from 'vitest'
import { ERROR_TEXT, isSaveflowError, SaveflowError, toSaveflowError } from '../../src/core/errors'

function sysError(code: string): Error {
  return Object.assign(new Error(`${code}: simulated`), { code })
}

describe('toSaveflowError', () => {
  it.each([
    ['ENOSPC', 'disk-full', 'slow'],
    ['EACCES', 'permission-denied', 'never'],
    ['EPERM', 'permission-denied', 'never'],
    ['EROFS', 'read-only', 'never'],
    ['EMFILE', 'busy', 'fast'],
    ['EBUSY', 'busy', 'fast'],
    ['EAGAIN', 'busy', 'fast'],
    ['EIO', 'io', 'normal'],
    ['ENOENT', 'not-found', 'never'],
    ['EWHATEVER', 'io', 'normal'],
  ] as const)('maps %s to %s, retried %s', (sysCode, code, retry) => {
    const error = toSaveflowError(sysError(sysCode))
    expect(error.code).toBe(code)
    expect(error.retry).toBe(retry)
    expect(error.sysCode).toBe(sysCode)
    expect(error.hint).toBe(ERROR_TEXT[code].hint)
  })

  it('gives the disk-full hint of DESIGN.md', () => {
    const error = toSaveflowError(sysError('ENOSPC'))
    expect(`${error.message} ${error.hint}`).toBe(
      'The disk is full. Free some space; saving resumes by itself.',
    )
  })

  it('returns a SaveflowError unchanged', () => {
    const original = new SaveflowError('locked', { message: 'Held by pid 42.' })
    expect(toSaveflowError(original)).toBe(original)
  })

  it('revives the serialized form that crossed a process boundary', () => {
    const data = new SaveflowError('disk-full', {
      sysCode: 'ENOSPC',
      details: { path: 'project.json' },
    }).toJSON()
    const revived = toSaveflowError(JSON.parse(JSON.stringify(data)))
    expect(isSaveflowError(revived)).toBe(true)
    expect(revived.toJSON()).toEqual(data)
  })

  it('maps aborts to aborted and anything else to io', () => {
    const abort = Object.assign(new Error('stop'), { name: 'AbortError' })
    expect(toSaveflowError(abort).code).toBe('aborted')
    expect(toSaveflowError('a string').code).toBe('io')
    expect(toSaveflowError({ code: 'not-a-code', message: 'x' }).code).toBe('io')
  })

  it('keeps the cause for logs', () => {
    const cause = sysError('EIO')
    expect(toSaveflowError(cause).cause).toBe(cause)
  })
})
