import { CHECKSUM_PATTERN, crc32, crc32OfText } from './checksum'
import { SaveflowError } from './errors'
import type { DocumentKind } from './status'

/**
 * The snapshot file format: one plain JSON object that other tools can read,
 *
 * ```json
 * {"format":1,"kind":"settings","schemaVersion":2,"revision":7,"savedAt":"2026-01-15T10:30:00.000Z",
 *  "checksum":"crc32:1a2b3c4d","data":{...}}
 * ```
 *
 * The checksum is the CRC-32 of the UTF-8 bytes of `JSON.stringify(data)`, so it survives a tool that reformats the
 * file and still catches any change to the data.
 */

/** The envelope format this code writes; a file with a higher one is `future-version`. */
export const SNAPSHOT_FORMAT = 1

/** What is written: the envelope fields the caller decides, and the data. */
export interface SnapshotInput {
  kind: DocumentKind
  schemaVersion: number
  /** The save revision (the coordinator's counter), an integer >= 0. */
  revision: number
  /** ISO 8601 time of the save. */
  savedAt: string
  data: unknown
}

/** A decoded, checksum-verified envelope. `data` is not yet validated against any schema. */
export interface Snapshot extends SnapshotInput {
  format: number
  checksum: string
}

/** Why a file is `corrupt`, in `error.details.reason`. */
export type CorruptReason =
  | 'empty'
  | 'not-utf8'
  | 'malformed-json'
  | 'bad-envelope'
  | 'wrong-kind'
  | 'checksum-mismatch'

/**
 * Turns a document into file bytes and back. Pluggable per kind (a document definition names its codec); the
 * conversation log and the project journal will bring their own.
 */
export interface DocumentCodec {
  /** A name for logs. */
  readonly name: string
  /** The file bytes; throws `invalid-data` for data JSON cannot hold (a cycle, a BigInt, `undefined`). */
  encode(input: SnapshotInput): Uint8Array
  /** The verified envelope; throws `corrupt` (with a {@link CorruptReason}) or `future-version`. */
  decode(bytes: Uint8Array, expectedKind: DocumentKind): Snapshot
}

const MID = '","data":'
const TAIL = '}\n'
const encoder = new TextEncoder()
/** Scratch buffers up to this size are kept for the next save; larger ones are left to the garbage collector. */
const KEEP_SCRATCH_BYTES = 64 * 1024 * 1024

function headerOf(input: Omit<SnapshotInput, 'data'>, format = SNAPSHOT_FORMAT): string {
  return `{"format":${format},"kind":${JSON.stringify(input.kind)},"schemaVersion":${input.schemaVersion},"revision":${input.revision},"savedAt":${JSON.stringify(input.savedAt)},"checksum":"crc32:`
}

/** Creates the snapshot codec. Each instance keeps one scratch buffer, used only synchronously inside `encode`. */
export function createSnapshotCodec(): DocumentCodec {
  let scratch = new Uint8Array(0)

  function encode(input: SnapshotInput): Uint8Array {
    if (!Number.isInteger(input.revision) || input.revision < 0) {
      throw new SaveflowError('invalid-data', {
        message: `Revision ${input.revision} is not an integer >= 0.`,
      })
    }
    let json: string | undefined
    try {
      json = JSON.stringify(input.data)
    } catch (error) {
      throw new SaveflowError('invalid-data', {
        message: 'The data cannot be written as JSON.',
        cause: error,
      })
    }
    if (json === undefined) {
      throw new SaveflowError('invalid-data', { message: 'The data cannot be written as JSON.' })
    }
    const header = headerOf(input)
    // Most data is mostly ASCII: start at 1.25 bytes per UTF-16 unit and grow to the 3-byte worst case only if needed.
    let size = encodeInto(header, json, Math.ceil(json.length * 1.25) + header.length * 3 + 64)
    if (size < 0) size = encodeInto(header, json, json.length * 3 + header.length * 3 + 64)
    const out = scratch.slice(0, size)
    if (scratch.length > KEEP_SCRATCH_BYTES) scratch = new Uint8Array(0)
    return out
  }

  /** Writes header, checksum placeholder, data and tail into the scratch; returns the length, or -1 if it did not fit. */
  function encodeInto(header: string, json: string, capacity: number): number {
    if (scratch.length < capacity) scratch = new Uint8Array(capacity)
    let at = encoder.encodeInto(header, scratch).written
    const checksumAt = at
    at += 8
    at += encoder.encodeInto(MID, scratch.subarray(at)).written
    const dataStart = at
    const result = encoder.encodeInto(json, scratch.subarray(at))
    if (result.read < json.length) return -1
    at += result.written
    const hex = crc32(scratch, dataStart, at).toString(16).padStart(8, '0')
    encoder.encodeInto(hex, scratch.subarray(checksumAt, checksumAt + 8))
    const tail = encoder.encodeInto(TAIL, scratch.subarray(at))
    if (tail.read < TAIL.length) return -1
    return at + tail.written
  }

  return { name: 'snapshot-json', encode, decode: decodeSnapshot }
}

const decoder = new TextDecoder('utf-8', { fatal: true })

function corrupt(
  reason: CorruptReason,
  message: string,
  details: Record<string, unknown> = {},
): SaveflowError {
  return new SaveflowError('corrupt', { message, details: { reason, ...details } })
}

/** Decodes and verifies snapshot bytes; see {@link DocumentCodec.decode}. */
export function decodeSnapshot(bytes: Uint8Array, expectedKind: DocumentKind): Snapshot {
  if (bytes.length === 0) throw corrupt('empty', 'The file is empty.')
  let text: string
  try {
    text = decoder.decode(bytes)
  } catch {
    throw corrupt('not-utf8', 'The file is not valid UTF-8 text.')
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (error) {
    throw corrupt('malformed-json', 'The file is not complete JSON (it may have been cut short).', {
      parseError: error instanceof Error ? error.message : String(error),
      size: bytes.length,
    })
  }
  const envelope = checkEnvelope(parsed)
  if (envelope.format > SNAPSHOT_FORMAT) {
    throw new SaveflowError('future-version', {
      message: `The file uses envelope format ${envelope.format}; this version reads up to ${SNAPSHOT_FORMAT}.`,
      details: { format: envelope.format, supportedFormat: SNAPSHOT_FORMAT },
    })
  }
  if (envelope.kind !== expectedKind) {
    throw corrupt('wrong-kind', `The file holds a ${envelope.kind} document, not a ${expectedKind}.`, {
      expected: expectedKind,
      actual: envelope.kind,
    })
  }
  const actual = dataChecksum(bytes, envelope)
  if (actual !== envelope.checksum) {
    throw corrupt('checksum-mismatch', 'The data does not match its checksum.', {
      expected: envelope.checksum,
      actual,
    })
  }
  return envelope
}

function checkEnvelope(value: unknown): Snapshot {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw corrupt('bad-envelope', 'The file is not a saveflow document.', { field: '(root)' })
  }
  const v = value as Record<string, unknown>
  const bad = (field: string): SaveflowError =>
    corrupt('bad-envelope', `The envelope field "${field}" is missing or invalid.`, { field })
  if (!isInt(v.format, 1)) throw bad('format')
  if (typeof v.kind !== 'string') throw bad('kind')
  if (!isInt(v.schemaVersion, 1)) throw bad('schemaVersion')
  if (!isInt(v.revision, 0)) throw bad('revision')
  if (typeof v.savedAt !== 'string' || Number.isNaN(Date.parse(v.savedAt))) throw bad('savedAt')
  if (typeof v.checksum !== 'string' || !CHECKSUM_PATTERN.test(v.checksum)) throw bad('checksum')
  if (!('data' in v)) throw bad('data')
  return {
    format: v.format,
    kind: v.kind as DocumentKind,
    schemaVersion: v.schemaVersion,
    revision: v.revision,
    savedAt: v.savedAt,
    checksum: v.checksum,
    data: v.data,
  }
}

function isInt(value: unknown, min: number): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min
}

/**
 * The checksum of the data as saved. Fast path: a file this codec wrote starts with the exact header and ends with
 * the tail, so the data bytes are checksummed where they lie. Otherwise (a tool reformatted the file) the data is
 * serialized again, which gives the same bytes `encode` checksummed.
 */
function dataChecksum(bytes: Uint8Array, envelope: Snapshot): string {
  const prefix = encoder.encode(`${headerOf(envelope, envelope.format)}${envelope.checksum.slice(6)}${MID}`)
  const tail = encoder.encode(TAIL)
  const end = bytes.length - tail.length
  if (end >= prefix.length && startsWith(bytes, prefix, 0) && startsWith(bytes, tail, end)) {
    const fast = `crc32:${crc32(bytes, prefix.length, end).toString(16).padStart(8, '0')}`
    if (fast === envelope.checksum) return fast
  }
  let json: string
  try {
    json = JSON.stringify(envelope.data)
  } catch {
    // Nested deeper than the stack (JSON.parse has no such limit): a hostile file, refused as damaged, never as `io`.
    throw corrupt('checksum-mismatch', 'The data is nested too deeply for its checksum to be checked.', {
      expected: envelope.checksum,
    })
  }
  const slow = crc32OfText(json)
  return `crc32:${slow.toString(16).padStart(8, '0')}`
}

function startsWith(bytes: Uint8Array, part: Uint8Array, at: number): boolean {
  for (let i = 0; i < part.length; i++) if (bytes[at + i] !== part[i]) return false
  return true
}

/** The shared snapshot codec of the built-in document kinds. */
export const snapshotCodec: DocumentCodec = createSnapshotCodec()
