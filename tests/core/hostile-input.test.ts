import { describe, expect, it } from 'vitest'
import { crc32OfText } from '../../src/core/checksum'
import { isSaveflowError } from '../../src/core/errors'
import { encodeBatch, readBatches } from '../../src/core/record-codec'
import { decodeSnapshot } from '../../src/core/snapshot-codec'
import { bytesOf, concat } from './support/bytes'

/**
 * Hostile input found by the reliability suite (issue 7, part 4): data nested deeper than `JSON.stringify` can go,
 * and record files made of a million junk lines. Each must end as a typed result, quickly.
 */

const AT = '2026-01-15T10:00:00.000Z'
const DEEP = 100_000
const deep = `${'['.repeat(DEEP)}${']'.repeat(DEEP)}`

describe('hostile input', () => {
  it('refuses a reformatted snapshot nested too deeply to check as corrupt, not as an I/O error', () => {
    const crc = crc32OfText(deep).toString(16).padStart(8, '0')
    const text = `{ "format":1,"kind":"settings","schemaVersion":2,"revision":1,"savedAt":"${AT}","checksum":"crc32:${crc}","data":${deep}}\n`
    let thrown: unknown
    try {
      decodeSnapshot(bytesOf(text), 'settings')
    } catch (error) {
      thrown = error
    }
    expect(isSaveflowError(thrown) && thrown.code).toBe('corrupt')
    expect(isSaveflowError(thrown) && thrown.details?.reason).toBe('checksum-mismatch')
  })

  it('reads a reformatted record nested too deeply to check as a bad line, without throwing', () => {
    const good = encodeBatch([{ op: 'a' }], 1, AT)
    const hostile = bytesOf(`{"len":1, "crc":"00000000","rec":{"op":"set","value":${deep}}}\n`)
    const read = readBatches(concat(good, hostile, encodeBatch([{ op: 'b' }], 2, AT)))
    expect(read.batches).toHaveLength(1)
    expect(read.damage?.reason).toBe('malformed-record')
    expect(readBatches(concat(good, hostile)).tornBytes).toBe(hostile.length)
  })

  it('skips a megabyte of empty and junk lines without parsing each one', () => {
    const good = encodeBatch([{ op: 'a' }], 1, AT)
    for (const junk of ['\n', '{}\n', 'x\n', '  \r\n']) {
      const bytes = concat(good, bytesOf(junk.repeat(Math.floor((1024 * 1024) / junk.length))))
      const started = performance.now()
      const read = readBatches(bytes)
      expect(read.batches).toHaveLength(1)
      expect(read.tornBytes).toBe(bytes.length - good.length)
      // About 5 µs per thrown JSON.parse made this take seconds; without the parses it takes milliseconds.
      expect(performance.now() - started).toBeLessThan(2000)
    }
  })
})
