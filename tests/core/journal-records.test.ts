import { describe, expect, it } from 'vitest'
import { crc32OfText } from '../../src/core/checksum'
import {
  applyBatches,
  encodeBatch,
  encodeRecords,
  readBatches,
  recordDamageError,
} from '../../src/core/record-codec'
import { bytesOf, concat, textOf } from './support/bytes'

/** The record line format shared by the conversation log and the project journal. */

const AT = '2026-01-15T10:00:00.000Z'

/** Three saves: one record, two records, one record with non-ASCII text. */
const saves = [
  encodeBatch([{ op: 'a', n: 1 }], 1, AT),
  encodeBatch(
    [
      { op: 'b', n: 2 },
      { op: 'c', n: 3 },
    ],
    2,
    AT,
  ),
  encodeBatch([{ op: 'd', text: 'é 😀 你好\nnewline' }], 3, AT),
]
const file = concat(...saves)

describe('record codec', () => {
  it('writes one JSON object per line, carrying the length and CRC-32 of the record', () => {
    const lines = textOf(file).trimEnd().split('\n')
    expect(lines).toHaveLength(4)
    for (const line of lines) {
      const parsed = JSON.parse(line)
      const json = JSON.stringify(parsed.rec)
      expect(parsed.len).toBe(bytesOf(json).length)
      expect(parsed.crc).toBe(crc32OfText(json).toString(16).padStart(8, '0'))
    }
    expect(JSON.parse(lines[3]!).rec).toEqual({ op: 'd', text: 'é 😀 你好\nnewline', rev: 3, at: AT })
  })

  it('writes every line exactly as head + JSON text + newline, however many and however large the records', () => {
    // Many records (the buffer grows), a large one, non-ASCII text of every UTF-8 width, and a call after them all.
    const records = [
      ...Array.from({ length: 3000 }, (_, i) => ({ op: 'add', i, text: `é 😀 你好 ${'x'.repeat(i % 50)}` })),
      { op: 'big', text: '😀'.repeat(300_000) },
      { op: 'last' },
    ]
    const expected = records
      .map((record) => {
        const json = JSON.stringify(record)
        const crc = crc32OfText(json).toString(16).padStart(8, '0')
        return `{"len":${bytesOf(json).length},"crc":"${crc}","rec":${json}}\n`
      })
      .join('')
    expect(textOf(encodeRecords(records))).toBe(expected)
    const small = JSON.stringify({ op: 'small' })
    expect(textOf(encodeRecords([{ op: 'small' }]))).toBe(
      `{"len":${small.length},"crc":"${crc32OfText(small).toString(16).padStart(8, '0')}","rec":${small}}\n`,
    )
  })

  it('reads the batches back, closed by the record that carries rev and at', () => {
    const read = readBatches(file)
    expect(read.batches.map((batch) => [batch.rev, batch.records.length])).toEqual([
      [1, 1],
      [2, 2],
      [3, 1],
    ])
    expect(read).toMatchObject({ end: file.length, tornBytes: 0, damage: null })
    expect(read.batches[1]!.records.map((r) => [r.line, r.value.op])).toEqual([
      [2, 'b'],
      [3, 'c'],
    ])
  })

  it('writes an empty save as a lone commit record, so its revision is kept', () => {
    expect(readBatches(encodeBatch([], 9, AT)).batches[0]!.records[0]!.value).toEqual({
      op: 'commit',
      rev: 9,
      at: AT,
    })
  })

  it('treats every cut inside the last save as a torn tail and keeps the saves before it', () => {
    const before = saves[0]!.length + saves[1]!.length
    for (let cut = before; cut < file.length; cut++) {
      const read = readBatches(file.subarray(0, cut))
      expect(read.batches, `cut at ${cut}`).toHaveLength(2)
      expect(read, `cut at ${cut}`).toMatchObject({ end: before, tornBytes: cut - before, damage: null })
    }
  })

  it('treats the intact first records of an unfinished save as part of its torn tail', () => {
    const second = saves[1]!
    const firstLine = textOf(second).indexOf('\n') + 1
    const read = readBatches(concat(saves[0]!, second.subarray(0, firstLine)))
    expect(read.batches).toHaveLength(1)
    expect(read.tornBytes).toBe(firstLine)
  })

  it('treats garbage after the last save as a torn tail: zeros, random bytes, a half line', () => {
    for (const garbage of [
      new Uint8Array(64),
      Uint8Array.from({ length: 50 }, (_, i) => (i * 37 + 11) % 256),
      bytesOf('{"len":12,"crc":"0000'),
      bytesOf('\n\n'),
    ]) {
      const read = readBatches(concat(file, garbage))
      expect(read).toMatchObject({ end: file.length, tornBytes: garbage.length, damage: null })
      expect(read.batches).toHaveLength(3)
    }
  })

  it('reports a damaged record followed by valid ones as damage, with its line and offset', () => {
    const damaged = file.slice()
    const offset = saves[0]!.length
    // Flip one byte inside the first record of the second save.
    damaged[offset + 40] = damaged[offset + 40]! ^ 0x01
    const read = readBatches(damaged)
    expect(read.batches).toHaveLength(1)
    expect(read.end).toBe(offset)
    expect(read.tornBytes).toBe(0)
    expect(read.damage).toEqual({ reason: 'checksum-mismatch', offset, line: 2, recordsAfter: 2 })
    const error = recordDamageError('log.jsonl', read.damage!, damaged.length)
    expect(error).toMatchObject({
      code: 'corrupt',
      details: {
        reason: 'checksum-mismatch',
        path: 'log.jsonl',
        line: 2,
        offset,
        lostBytes: damaged.length - offset,
      },
    })
  })

  it('reports a record glued onto a partial one as damage, never as a record', () => {
    const partial = saves[1]!.subarray(0, 20)
    const glued = concat(saves[0]!, partial, saves[2]!)
    const read = readBatches(glued)
    expect(read.batches).toHaveLength(1)
    expect(read.damage).toMatchObject({ line: 2, offset: saves[0]!.length })
  })

  it('accepts a line a tool reformatted when its checksum still matches the record', () => {
    const record = { op: 'x', value: [1, 2] }
    const crc = crc32OfText(JSON.stringify({ ...record, rev: 4, at: AT }))
      .toString(16)
      .padStart(8, '0')
    const line = `{ "rec": ${JSON.stringify({ ...record, rev: 4, at: AT }, null, 0)}, "crc": "${crc}" }\n`
    const read = readBatches(concat(file, bytesOf(line)))
    expect(read.batches).toHaveLength(4)
    expect(read.batches[3]!.records[0]!.value).toEqual({ ...record, rev: 4, at: AT })
  })

  it('refuses a commit with a bad revision or time', () => {
    const bad = encodeRecords([{ op: 'a', rev: -1, at: AT }])
    expect(readBatches(concat(file, bad))).toMatchObject({ tornBytes: bad.length, damage: null })
    const middle = readBatches(
      concat(saves[0]!, encodeRecords([{ op: 'a', rev: 2, at: 'yesterday' }]), saves[2]!),
    )
    expect(middle.damage).toMatchObject({ reason: 'bad-commit', line: 2 })
  })

  it('refuses to encode what is not a JSON object', () => {
    expect(() => encodeRecords([[] as unknown as Record<string, unknown>])).toThrow(
      expect.objectContaining({ code: 'invalid-data' }),
    )
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    expect(() => encodeRecords([cyclic])).toThrow(expect.objectContaining({ code: 'invalid-data' }))
  })

  it('applies each batch whole: a record that cannot apply undoes its batch and stops the replay', () => {
    const read = readBatches(file)
    const create = () => {
      const seen: string[] = []
      return {
        seen,
        apply(record: Record<string, unknown>) {
          if (record.op === 'c') throw new Error('cannot apply')
          seen.push(String(record.op))
        },
      }
    }
    const { replay, applied, failed } = applyBatches(create, read.batches)
    expect(applied).toBe(1)
    expect(replay.seen).toEqual(['a'])
    expect(failed?.damage).toEqual({
      reason: 'bad-patch',
      offset: saves[0]!.length,
      line: 2,
      recordsAfter: 1,
    })
  })
})
