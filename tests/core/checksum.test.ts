import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  CHECKSUM_PATTERN,
  CRC32_INIT,
  crc32,
  crc32Final,
  crc32OfText,
  crc32Update,
  formatChecksum,
} from '../../src/core/checksum'

const utf8 = (text: string) => new TextEncoder().encode(text)

describe('crc32', () => {
  it('matches the standard check values', () => {
    expect(crc32(utf8('123456789'))).toBe(0xcbf43926)
    expect(crc32(new Uint8Array(0))).toBe(0)
    expect(crc32(utf8('The quick brown fox jumps over the lazy dog'))).toBe(0x414fa339)
  })

  it('gives the same value for input split anywhere', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(), (bytes, cut) => {
        const at = bytes.length === 0 ? 0 : cut % bytes.length
        const split = crc32Final(crc32Update(crc32Update(CRC32_INIT, bytes, 0, at), bytes, at, bytes.length))
        expect(split).toBe(crc32(bytes))
      }),
    )
  })

  it('checksums text as its UTF-8 bytes, surrogate pairs across chunk borders included', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), (text) => {
        expect(crc32OfText(text)).toBe(crc32(utf8(text)))
      }),
    )
    // 16 384 UTF-16 units per chunk: put an emoji right across the border, and lone surrogates too.
    const long = `${'a'.repeat(16_383)}😀${'é'.repeat(20_000)}\ud800x\udc00`
    expect(crc32OfText(long)).toBe(crc32(utf8(long)))
  })

  it('formats a fixed-width checksum field', () => {
    expect(formatChecksum(0x1a)).toBe('crc32:0000001a')
    expect(CHECKSUM_PATTERN.test(formatChecksum(0xffffffff))).toBe(true)
    expect(CHECKSUM_PATTERN.test('crc32:1A2B3C4D')).toBe(false)
  })
})
