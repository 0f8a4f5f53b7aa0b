import { describe, expect, expectTypeOf, it } from 'vitest'
import { SaveflowError } from '../../src/core/errors'
import type { Repository } from '../../src/core/repository-types'
import {
  decodeResult,
  encodeResult,
  errorToWire,
  isRemoteOp,
  jsonDepthWithin,
  opSpec,
  parseRpcResult,
  REMOTE_OPS,
  type RemoteRepository,
  rpcRequestSchema,
  wireValueProblem,
} from '../../src/core/rpc-protocol'

/** The wire format on its own: the op table, the depth and value checks, and how results and errors travel. */

describe('rpc protocol: the op table', () => {
  it('offers the document operations and nothing that takes a path', () => {
    expect(REMOTE_OPS).toEqual([
      'load',
      'save',
      'listBackups',
      'readBackup',
      'restoreBackup',
      'quarantine',
      'backupNow',
      'listQuarantine',
    ])
    expectTypeOf<RemoteRepository['save']>().toEqualTypeOf<Repository['save']>()
    expectTypeOf<keyof RemoteRepository>().toEqualTypeOf<(typeof REMOTE_OPS)[number]>()
  })

  it('knows only its own ops, not inherited properties', () => {
    expect(isRemoteOp('load')).toBe(true)
    for (const name of ['toString', '__proto__', 'constructor', 'pathOf', 'removeTempFiles', 'storage', 42]) {
      expect(isRemoteOp(name)).toBe(false)
    }
  })

  it('sends a save without its signal, and a backup by name only', () => {
    const signal = new AbortController().signal
    expect(opSpec('save').toWire?.(['project', { a: 1 }, 3, signal])).toEqual({
      args: ['project', { a: 1 }, 3],
      signal,
    })
    const info = { key: 'project', name: '20260115T100000000Z-r1.json', path: 'x/y', takenAt: 0, revision: 1 }
    expect(opSpec('readBackup').toWire?.(['project', info])).toEqual({ args: ['project', info.name] })
    expect(() => opSpec('restoreBackup').toWire?.(['settings', info])).toThrow(
      expect.objectContaining({ code: 'invalid-id' }),
    )
  })

  it('checks argument tuples exactly', () => {
    const save = opSpec('save').args
    expect(save.safeParse(['project', {}, 1]).success).toBe(true)
    expect(save.safeParse(['project', {}, 1.5]).success).toBe(false)
    expect(save.safeParse(['project', {}, 1, 'extra']).success).toBe(false)
    expect(opSpec('quarantine').args.safeParse(['project', 'checksum mismatch']).success).toBe(true)
    expect(opSpec('quarantine').args.safeParse(['project', 'a/b']).success).toBe(false)
    expect(opSpec('quarantine').args.safeParse(['project', 'a\nb']).success).toBe(false)
    expect(rpcRequestSchema.safeParse({ op: 'load', args: ['project'] }).success).toBe(true)
    expect(rpcRequestSchema.safeParse({ op: 'load', args: ['project'], extra: 1 }).success).toBe(false)
  })
})

describe('jsonDepthWithin', () => {
  it.each([
    ['{}', 1, true],
    ['{"a":[1,{"b":2}]}', 3, true],
    ['{"a":[1,{"b":2}]}', 2, false],
    // Brackets inside strings, escaped quotes and escaped backslashes do not nest.
    ['["[[[[", "\\"[[[[", "\\\\"]', 1, true],
    ['["\\\\", [[1]]]', 2, false],
    [`${'['.repeat(65)}${']'.repeat(65)}`, 64, false],
  ])('%s within %i: %s', (text, max, within) => {
    expect(() => JSON.parse(text)).not.toThrow()
    expect(jsonDepthWithin(text, max)).toBe(within)
  })
})

describe('wireValueProblem', () => {
  it('accepts JSON values', () => {
    expect(wireValueProblem({ a: [1, 'x', true, null, { b: undefined }] }, 5)).toBeNull()
    expect(wireValueProblem(Object.assign(Object.create(null), { a: 1 }), 5)).toBeNull()
  })

  it.each<[string, unknown, string]>([
    ['a Date', { at: new Date(0) }, 'Date'],
    ['a Map', [new Map()], 'Map'],
    ['NaN', [Number.NaN], 'not finite'],
    ['Infinity', { n: Number.POSITIVE_INFINITY }, 'not finite'],
    ['a BigInt', [1n], 'bigint'],
    ['a function', [() => 1], 'function'],
    ['deep nesting', [[[[1]]]], 'deeper than 3'],
  ])('names %s', (_name, value, problem) => {
    expect(wireValueProblem(value, 3)).toContain(problem)
  })
})

describe('results and errors on the wire', () => {
  it('turns a load failure’s error into data and back into a SaveflowError', () => {
    const failure = {
      ok: false,
      error: new SaveflowError('corrupt', { details: { reason: 'empty' } }),
      path: 'p',
    }
    const wire = JSON.parse(JSON.stringify(encodeResult('load', failure)))
    expect(wire.error).toMatchObject({ code: 'corrupt', retry: 'never', details: { reason: 'empty' } })
    const revived = decodeResult('load', wire) as typeof failure
    expect(revived.error).toBeInstanceOf(SaveflowError)
    expect(revived.error).toMatchObject({ code: 'corrupt', details: { reason: 'empty' } })
    // Results of other ops pass as they are.
    const list = [{ key: 'project' }]
    expect(encodeResult('listBackups', list)).toBe(list)
  })

  it('keeps only JSON in error details, and never the cause', () => {
    const error = new SaveflowError('io', {
      cause: new Error('secret /home/x'),
      details: { at: new Date(0), n: 1 },
    })
    const wire = errorToWire(error)
    expect(wire).toEqual({
      code: 'io',
      message: error.message,
      hint: error.hint,
      retry: 'normal',
      details: { at: '1970-01-01T00:00:00.000Z', n: 1 },
    })
    expect(JSON.stringify(wire)).not.toContain('secret')
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    expect(errorToWire(new SaveflowError('io', { details: cyclic }))).not.toHaveProperty('details')
    // Anything thrown becomes typed data.
    expect(errorToWire(new TypeError('boom'))).toMatchObject({ code: 'io', retry: 'normal' })
  })

  it('reads only well-formed results', () => {
    expect(parseRpcResult({ ok: true, value: 1 })).toEqual({ ok: true, value: 1 })
    const error = { code: 'busy', message: 'm', hint: 'h', retry: 'fast' }
    expect(parseRpcResult({ ok: false, error })).toEqual({ ok: false, error })
    for (const bad of [null, 'ok', { ok: 'yes' }, { ok: false }, { ok: false, error: { code: 1 } }]) {
      expect(parseRpcResult(bad)).toBeNull()
    }
  })
})
