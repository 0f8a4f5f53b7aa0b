/**
 * CRC-32 (IEEE 802.3, the zlib/PNG polynomial) in plain TypeScript, so the browser-safe core can checksum without
 * `node:crypto` and without WebCrypto's async round trip. Slicing-by-8 reads eight bytes per step: on a 25 MB save
 * it costs about 20 ms, next to about 45 ms for `JSON.stringify` and 45 ms for write+fsync; a byte-at-a-time loop
 * costs three times as much and WebCrypto SHA-256 about twice. Corruption detection, not security: a CRC finds
 * torn writes and flipped bits, it does not resist tampering.
 */

const TABLE = buildTable()

function buildTable(): Int32Array {
  const table = new Int32Array(256 * 8)
  for (let n = 0; n < 256; n++) {
    let c = n
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1
    table[n] = c
  }
  // Table k holds the CRC of a byte followed by k zero bytes, which lets one step fold eight bytes.
  for (let n = 0; n < 256; n++) {
    let c = table[n]!
    for (let k = 1; k < 8; k++) {
      c = table[c & 0xff]! ^ (c >>> 8)
      table[k * 256 + n] = c
    }
  }
  return table
}

/**
 * Continues a CRC-32 over `bytes[start, end)`. Start with {@link CRC32_INIT}; finish with {@link crc32Final}.
 * Split input gives the same result as whole input, so text can be checksummed chunk by chunk.
 */
export function crc32Update(state: number, bytes: Uint8Array, start = 0, end = bytes.length): number {
  const t = TABLE
  let c = state | 0
  let i = start
  const last8 = end - ((end - start) & 7)
  for (; i < last8; i += 8) {
    c ^= bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24)
    c =
      t[1792 + (c & 0xff)]! ^
      t[1536 + ((c >>> 8) & 0xff)]! ^
      t[1280 + ((c >>> 16) & 0xff)]! ^
      t[1024 + (c >>> 24)]! ^
      t[768 + bytes[i + 4]!]! ^
      t[512 + bytes[i + 5]!]! ^
      t[256 + bytes[i + 6]!]! ^
      t[bytes[i + 7]!]!
  }
  for (; i < end; i++) c = t[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8)
  return c
}

/** The initial state of {@link crc32Update}. */
export const CRC32_INIT = -1

/** Turns a running state into the CRC-32 value (unsigned 32-bit). */
export function crc32Final(state: number): number {
  return (state ^ -1) >>> 0
}

/** The CRC-32 of `bytes[start, end)`. */
export function crc32(bytes: Uint8Array, start = 0, end = bytes.length): number {
  return crc32Final(crc32Update(CRC32_INIT, bytes, start, end))
}

const encoder = new TextEncoder()
const CHUNK_CHARS = 16_384
// Three bytes per UTF-16 unit is the UTF-8 worst case, so a chunk always fits.
const chunk = new Uint8Array(CHUNK_CHARS * 3)

/**
 * The CRC-32 of the UTF-8 encoding of `text`, encoded chunk by chunk so a 20 MB string never needs a second 20 MB
 * buffer.
 */
export function crc32OfText(text: string): number {
  let state = CRC32_INIT
  let pos = 0
  while (pos < text.length) {
    let end = Math.min(pos + CHUNK_CHARS, text.length)
    // Never split a surrogate pair: each half alone would encode as U+FFFD.
    const last = text.charCodeAt(end - 1)
    if (end < text.length && last >= 0xd800 && last < 0xdc00) end--
    const { written } = encoder.encodeInto(text.substring(pos, end), chunk)
    state = crc32Update(state, chunk, 0, written)
    pos = end
  }
  return crc32Final(state)
}

/** The checksum field of an envelope: `crc32:` and eight lowercase hex digits (fixed width). */
export function formatChecksum(value: number): string {
  return `crc32:${value.toString(16).padStart(8, '0')}`
}

/** What {@link formatChecksum} produces. */
export const CHECKSUM_PATTERN = /^crc32:[0-9a-f]{8}$/
