/** Byte helpers for the journal tests. */

/** The parts one after the other, in a new array. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0))
  let at = 0
  for (const part of parts) {
    out.set(part, at)
    at += part.length
  }
  return out
}

/** UTF-8 bytes of a string. */
export const bytesOf = (text: string): Uint8Array => new TextEncoder().encode(text)

/** A string from UTF-8 bytes. */
export const textOf = (bytes: Uint8Array): string => new TextDecoder().decode(bytes)
