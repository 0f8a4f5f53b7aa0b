import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { crc32OfText, formatChecksum } from '../../src/core/checksum'
import { SaveflowError } from '../../src/core/errors'
import { createSnapshotCodec, decodeSnapshot, SNAPSHOT_FORMAT } from '../../src/core/snapshot-codec'

const codec = createSnapshotCodec()
const input = (data: unknown, revision = 3) => ({
  kind: 'project' as const,
  schemaVersion: 1,
  revision,
  savedAt: '2026-01-15T10:00:00.000Z',
  data,
})
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes)
const bytesOf = (value: string) => new TextEncoder().encode(value)

function decodeError(bytes: Uint8Array, kind: 'project' | 'settings' = 'project'): SaveflowError {
  try {
    decodeSnapshot(bytes, kind)
  } catch (error) {
    if (error instanceof SaveflowError) return error
    throw error
  }
  throw new Error('decoded without error')
}

describe('snapshot codec', () => {
  it('writes a plain JSON envelope that other tools can read', () => {
    const file = JSON.parse(text(codec.encode(input({ a: 'é' }))))
    expect(file).toEqual({
      format: SNAPSHOT_FORMAT,
      kind: 'project',
      schemaVersion: 1,
      revision: 3,
      savedAt: '2026-01-15T10:00:00.000Z',
      checksum: formatChecksum(crc32OfText('{"a":"é"}')),
      data: { a: 'é' },
    })
  })

  it('round-trips any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.nat(), (data, revision) => {
        const decoded = codec.decode(codec.encode(input(data, revision)), 'project')
        expect(decoded.data).toEqual(JSON.parse(JSON.stringify(data)))
        expect(decoded.revision).toBe(revision)
      }),
    )
  })

  it('grows its buffer for text that is mostly multi-byte', () => {
    const data = { s: '你好😀'.repeat(50_000) }
    expect(codec.decode(codec.encode(input(data)), 'project').data).toEqual(data)
  })

  it('still verifies a file another tool reformatted', () => {
    const pretty = JSON.stringify(JSON.parse(text(codec.encode(input({ b: [1, 2], a: 'x' })))), null, 2)
    expect(decodeSnapshot(bytesOf(pretty), 'project').data).toEqual({ b: [1, 2], a: 'x' })
  })

  it('finds a changed value as a checksum mismatch', () => {
    const tampered = text(codec.encode(input({ amount: 100 }))).replace('100', '900')
    const error = decodeError(bytesOf(tampered))
    expect(error.code).toBe('corrupt')
    expect(error.details).toMatchObject({ reason: 'checksum-mismatch' })
  })

  it('reports a file cut at any point as corrupt, never as a generic exception', () => {
    const whole = codec.encode(
      input({ tree: Array.from({ length: 20 }, (_, i) => ({ id: `n${i}`, t: 'é😀' })) }),
    )
    for (let cut = 0; cut < whole.length - 1; cut++) {
      const error = decodeError(whole.subarray(0, cut))
      expect(error.code).toBe('corrupt')
      expect(['empty', 'not-utf8', 'malformed-json', 'checksum-mismatch']).toContain(error.details?.reason)
    }
  })

  it('names what is wrong with an envelope', () => {
    const good = JSON.parse(text(codec.encode(input({}))))
    const cases: [unknown, string, string?][] = [
      [new Uint8Array(0), 'empty'],
      [new Uint8Array([0xff, 0xfe, 0x00]), 'not-utf8'],
      [bytesOf('[1,2]'), 'bad-envelope', '(root)'],
      [bytesOf(JSON.stringify({ ...good, revision: -1 })), 'bad-envelope', 'revision'],
      [bytesOf(JSON.stringify({ ...good, savedAt: 'yesterday' })), 'bad-envelope', 'savedAt'],
      [bytesOf(JSON.stringify({ ...good, checksum: 'md5:abc' })), 'bad-envelope', 'checksum'],
      [bytesOf(JSON.stringify({ ...good, data: undefined })), 'bad-envelope', 'data'],
    ]
    for (const [bytes, reason, field] of cases) {
      const error = decodeError(bytes as Uint8Array)
      expect(error.code).toBe('corrupt')
      expect(error.details).toMatchObject({ reason, ...(field === undefined ? {} : { field }) })
    }
    expect(decodeError(codec.encode(input({})), 'settings').details).toMatchObject({
      reason: 'wrong-kind',
      expected: 'settings',
      actual: 'project',
    })
  })

  it('reports a newer envelope format as future-version', () => {
    const file = JSON.parse(text(codec.encode(input({}))))
    const error = decodeError(bytesOf(JSON.stringify({ ...file, format: SNAPSHOT_FORMAT + 1 })))
    expect(error.code).toBe('future-version')
    expect(error.details).toMatchObject({ format: SNAPSHOT_FORMAT + 1 })
  })

  it('refuses data JSON cannot hold, and a bad revision, as invalid-data', () => {
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    for (const data of [cyclic, undefined, { n: 10n }]) {
      expect(() => codec.encode(input(data))).toThrow(expect.objectContaining({ code: 'invalid-data' }))
    }
    expect(() => codec.encode(input({}, -1))).toThrow(expect.objectContaining({ code: 'invalid-data' }))
  })
})
