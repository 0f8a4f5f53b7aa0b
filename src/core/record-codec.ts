import { crc32, crc32OfText } from './checksum'
import { SaveflowError, toSaveflowError } from './errors'

/**
 * The record format shared by the append-only files (a conversation log, the project journal). One record per line,
 * each line a complete JSON object that other tools can read line by line (`jq .rec`):
 *
 * ```
 * {"len":71,"crc":"5d1c2a9b","rec":{"op":"add","message":{"id":"m3",...},"rev":5,"at":"2026-01-15T10:30:00.000Z"}}
 * ```
 *
 * - `len` is the byte length of the UTF-8 text of `rec` as written, `crc` the CRC-32 of those bytes (eight lowercase
 *   hex digits). A reader finds the end of a record from `len` and checks it with `crc`, so a line cut short by a
 *   crash, or garbage after it, is never taken for a record.
 * - `rec` is the record itself. JSON text holds no raw newline, so a record is always exactly one line.
 * - A record that carries `rev` (the save revision) and `at` (ISO time of the save) closes a batch: the records of
 *   one save are appended in one call, and only a closed batch counts as written. Records after the last closed
 *   batch are the torn tail of an append that never finished, even when each of them is intact.
 * - A line that a tool reformatted still reads if `crc` matches the CRC-32 of `JSON.stringify(rec)`.
 */

/** One record as it is written: a JSON object; `rev` and `at` close a batch. */
export type RecordValue = Record<string, unknown>

/** One record as it was read. */
export interface ScannedRecord {
  value: RecordValue
  /** Byte offset of the line. */
  offset: number
  /** Byte offset just after its newline. */
  end: number
  /** 1-based line number. */
  line: number
}

/** A committed batch: the records of one save. */
export interface RecordBatch {
  records: ScannedRecord[]
  rev: number
  at: string
  /** Byte offset just after the batch. */
  end: number
}

/** Why a line is not a record, in `error.details.reason`. */
export type BadRecordReason = 'malformed-record' | 'checksum-mismatch' | 'not-utf8' | 'bad-commit'

/** A bad line followed by valid records: damage in the middle of the file, never a torn tail. */
export interface RecordDamage {
  reason: BadRecordReason | (string & {})
  /** Byte offset and 1-based line number of the first record that is lost. */
  offset: number
  line: number
  /** Valid records after the bad line, all of them left out of the data. */
  recordsAfter: number
}

/** What {@link readBatches} finds in a file. */
export interface BatchRead {
  /** Committed batches before any damage, in file order. */
  batches: RecordBatch[]
  /** Byte offset after the last committed batch: where the next append goes. */
  end: number
  /** Bytes after `end` that are a torn tail (an unfinished append): uncommitted records and a partial line. */
  tornBytes: number
  /** Set when a bad line has valid records after it. `end` is then the end of the last batch before it. */
  damage: RecordDamage | null
}

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })
const PREFIX = encoder.encode('{"len":')
const CRC_KEY = encoder.encode(',"crc":"')
const REC_KEY = encoder.encode('","rec":')
const SUFFIX = encoder.encode('}\n')
const NEWLINE = 0x0a

/** Longest line head: `{"len":` + up to 10 digits + `,"crc":"` + 8 hex digits + `","rec":`. */
const HEAD_MAX = PREFIX.length + 10 + CRC_KEY.length + 8 + REC_KEY.length
/** Scratch buffers up to this size are kept for the next call; larger ones are left to the garbage collector. */
const KEEP_SCRATCH_BYTES = 4 * 1024 * 1024
/** The lines being encoded; used only synchronously inside `encodeRecords`. */
let scratch = new Uint8Array(64 * 1024)

/**
 * Encodes records into lines, ready for one append. Throws `invalid-data` for a value JSON cannot hold. Each record
 * is encoded once, straight into one buffer (its head is written in front of it when its length and checksum are
 * known), so a compacted log of thousands of records makes no garbage per record.
 */
export function encodeRecords(records: readonly RecordValue[]): Uint8Array {
  let at = 0
  for (const record of records) {
    let json: string | undefined
    try {
      json = JSON.stringify(record)
    } catch (error) {
      throw new SaveflowError('invalid-data', {
        message: 'A record cannot be written as JSON.',
        cause: error,
      })
    }
    if (json === undefined || json[0] !== '{') {
      throw new SaveflowError('invalid-data', { message: 'A record must be a JSON object.' })
    }
    // Three bytes per UTF-16 unit is the UTF-8 worst case, so the body always fits.
    const need = at + HEAD_MAX + json.length * 3 + SUFFIX.length
    if (scratch.length < need) {
      const grown = new Uint8Array(Math.max(need, scratch.length * 2))
      grown.set(scratch.subarray(0, at))
      scratch = grown
    }
    const bodyAt = at + HEAD_MAX
    const length = encoder.encodeInto(json, scratch.subarray(bodyAt)).written
    const crc = crc32(scratch, bodyAt, bodyAt + length)
      .toString(16)
      .padStart(8, '0')
    const head = encoder.encodeInto(`{"len":${length},"crc":"${crc}","rec":`, scratch.subarray(at)).written
    scratch.copyWithin(at + head, bodyAt, bodyAt + length)
    at += head + length
    scratch.set(SUFFIX, at)
    at += SUFFIX.length
  }
  const out = scratch.slice(0, at)
  if (scratch.length > KEEP_SCRATCH_BYTES) scratch = new Uint8Array(64 * 1024)
  return out
}

type LineResult = { ok: true; value: RecordValue; end: number } | { ok: false; reason: BadRecordReason }

function matches(bytes: Uint8Array, at: number, part: Uint8Array): boolean {
  if (at + part.length > bytes.length) return false
  for (let i = 0; i < part.length; i++) if (bytes[at + i] !== part[i]) return false
  return true
}

function parseObject(text: string): RecordValue | null {
  try {
    const value: unknown = JSON.parse(text)
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as RecordValue)
      : null
  } catch {
    return null
  }
}

/** Reads the record line at `at`: the exact layout {@link encodeRecords} writes, else a reformatted line. */
function parseLine(bytes: Uint8Array, at: number): LineResult {
  return parseExact(bytes, at) ?? parseLoose(bytes, at)
}

/** The exact layout {@link encodeRecords} writes, or `null` when the bytes at `at` do not have it. */
function parseExact(bytes: Uint8Array, at: number): LineResult | null {
  if (!matches(bytes, at, PREFIX)) return null
  let p = at + PREFIX.length
  let len = 0
  let digits = 0
  while (p < bytes.length && bytes[p]! >= 0x30 && bytes[p]! <= 0x39 && digits < 10) {
    len = len * 10 + (bytes[p]! - 0x30)
    p++
    digits++
  }
  const hexAt = p + CRC_KEY.length
  const bodyAt = hexAt + 8 + REC_KEY.length
  const bodyEnd = bodyAt + len
  if (digits === 0 || !matches(bytes, p, CRC_KEY) || !matches(bytes, hexAt + 8, REC_KEY)) return null
  if (!matches(bytes, bodyEnd, SUFFIX)) return null
  const hex = String.fromCharCode(...bytes.subarray(hexAt, hexAt + 8))
  if (crc32(bytes, bodyAt, bodyEnd).toString(16).padStart(8, '0') !== hex) {
    return { ok: false, reason: 'checksum-mismatch' }
  }
  let text: string
  try {
    text = decoder.decode(bytes.subarray(bodyAt, bodyEnd))
  } catch {
    return { ok: false, reason: 'not-utf8' }
  }
  const value = parseObject(text)
  return value === null
    ? { ok: false, reason: 'malformed-record' }
    : { ok: true, value, end: bodyEnd + SUFFIX.length }
}

/** A line some tool rewrote: whole JSON up to a newline, with a `crc` matching the record serialized again. */
function parseLoose(bytes: Uint8Array, at: number): LineResult {
  const newline = bytes.indexOf(NEWLINE, at)
  if (newline === -1) return { ok: false, reason: 'malformed-record' }
  // Only a JSON object with both keys can be a record. Anything else is refused before it costs a parse: a file of
  // a million empty or garbage lines must not cost a million thrown exceptions (seconds) when it is loaded.
  let first = at
  let last = newline - 1
  while (first <= last && isBlank(bytes[first]!)) first++
  while (last >= first && isBlank(bytes[last]!)) last--
  if (first > last || bytes[first] !== 0x7b || bytes[last] !== 0x7d)
    return { ok: false, reason: 'malformed-record' }
  let text: string
  try {
    text = decoder.decode(bytes.subarray(at, newline))
  } catch {
    return { ok: false, reason: 'not-utf8' }
  }
  if (!text.includes('"crc"') || !text.includes('"rec"')) return { ok: false, reason: 'malformed-record' }
  const line = parseObject(text)
  const rec = line?.rec
  if (line === null || typeof line.crc !== 'string' || typeof rec !== 'object' || rec === null) {
    return { ok: false, reason: 'malformed-record' }
  }
  let json: string
  try {
    json = JSON.stringify(rec)
  } catch {
    // Nested deeper than the stack (JSON.parse has no such limit): the checksum cannot be checked, so no record.
    return { ok: false, reason: 'malformed-record' }
  }
  const crc = crc32OfText(json).toString(16).padStart(8, '0')
  if (crc !== line.crc) return { ok: false, reason: 'checksum-mismatch' }
  return Array.isArray(rec)
    ? { ok: false, reason: 'malformed-record' }
    : { ok: true, value: rec as RecordValue, end: newline + 1 }
}

/** Space, tab or carriage return: JSON whitespace a tool may leave around a line. */
function isBlank(byte: number): boolean {
  return byte === 0x20 || byte === 0x09 || byte === 0x0d
}

/** True when `value` closes a batch; throws nothing: a malformed `rev`/`at` pair is reported by the caller. */
function commitOf(value: RecordValue): { rev: number; at: string } | 'none' | 'bad' {
  if (!('rev' in value) && !('at' in value)) return 'none'
  const { rev, at } = value
  if (typeof rev !== 'number' || !Number.isSafeInteger(rev) || rev < 0) return 'bad'
  if (typeof at !== 'string' || Number.isNaN(Date.parse(at))) return 'bad'
  return { rev, at }
}

/**
 * Reads every committed batch of a record file. A bad line with no valid record after it, and any records after
 * the last committed batch, are the torn tail of an unfinished append (`tornBytes`); a bad line with valid records
 * after it is damage (`damage`), and the batches before it are all that is returned.
 */
export function readBatches(bytes: Uint8Array): BatchRead {
  const batches: RecordBatch[] = []
  let open: ScannedRecord[] = []
  let end = 0
  let pos = 0
  let line = 1
  let bad: { offset: number; line: number; reason: BadRecordReason } | null = null
  while (pos < bytes.length) {
    const parsed = parseLine(bytes, pos)
    if (!parsed.ok) {
      bad = { offset: pos, line, reason: parsed.reason }
      break
    }
    const record = { value: parsed.value, offset: pos, end: parsed.end, line }
    const commit = commitOf(parsed.value)
    if (commit === 'bad') {
      bad = { offset: pos, line, reason: 'bad-commit' }
      break
    }
    open.push(record)
    if (commit !== 'none') {
      batches.push({ records: open, rev: commit.rev, at: commit.at, end: parsed.end })
      open = []
      end = parsed.end
    }
    pos = parsed.end
    line++
  }
  if (bad === null) return { batches, end, tornBytes: bytes.length - end, damage: null }
  const recordsAfter = countRecordsAfter(bytes, bad.offset)
  if (recordsAfter === 0) return { batches, end, tornBytes: bytes.length - end, damage: null }
  // The batch the bad line belongs to is lost with it: its first record is where the loss starts.
  const first = open[0] ?? { offset: bad.offset, line: bad.line }
  const damage = { reason: bad.reason, offset: first.offset, line: first.line, recordsAfter }
  return { batches, end, tornBytes: 0, damage }
}

/**
 * Valid records anywhere after the bad line at `offset`: at the start of a line, or glued onto a partial line (in
 * the exact layout), so a record that should never have been glued is still reported rather than cut off with a
 * torn tail.
 */
function countRecordsAfter(bytes: Uint8Array, offset: number): number {
  let count = 0
  let p = offset + 1
  while (p < bytes.length) {
    const parsed = bytes[p - 1] === NEWLINE ? parseLine(bytes, p) : parseExact(bytes, p)
    if (parsed?.ok) {
      count++
      p = parsed.end
    } else {
      p++
    }
  }
  return count
}

/** A `corrupt` error describing damage in a record file, with `details` a support person can act on. */
export function recordDamageError(path: string, damage: RecordDamage, size: number): SaveflowError {
  return new SaveflowError('corrupt', {
    message: `${path} is damaged at line ${damage.line}; ${damage.recordsAfter} later record(s) were left out.`,
    details: { path, ...damage, lostBytes: size - damage.offset },
  })
}

/**
 * The lines of one batch: `records` with `rev` and `at` added to the last, or a lone `{"op":"commit"}` record when a
 * save changed nothing (its revision must still be recorded: a load never returns an older revision than was saved).
 */
export function encodeBatch(records: readonly RecordValue[], rev: number, at: string): Uint8Array {
  const list = records.length === 0 ? [{ op: 'commit' }] : records
  return encodeRecords(list.map((record, i) => (i === list.length - 1 ? { ...record, rev, at } : record)))
}

/** What a replay needs: something that applies one record, throwing when it cannot. */
export interface RecordReplay {
  apply(record: RecordValue): void
}

/**
 * Applies batches in order, each one whole or not at all: when a record of batch `i` cannot apply, the replay is
 * built again from `create()` with batches `0..i-1` (replays are deterministic), and `failed` says where and why.
 */
export function applyBatches<R extends RecordReplay>(
  create: () => R,
  batches: readonly RecordBatch[],
): { replay: R; applied: number; failed: { damage: RecordDamage; error: SaveflowError } | null } {
  let replay = create()
  for (let i = 0; i < batches.length; i++) {
    try {
      for (const record of batches[i]!.records) replay.apply(record.value)
    } catch (error) {
      replay = create()
      for (const batch of batches.slice(0, i)) for (const record of batch.records) replay.apply(record.value)
      const cause = toSaveflowError(error)
      const reason = typeof cause.details?.reason === 'string' ? cause.details.reason : 'bad-patch'
      return { replay, applied: i, failed: { damage: damageAtBatch(batches, i, reason), error: cause } }
    }
  }
  return { replay, applied: batches.length, failed: null }
}

/** Damage starting at batch `index`: its records and every later one are left out. */
export function damageAtBatch(batches: readonly RecordBatch[], index: number, reason: string): RecordDamage {
  const first = batches[index]!.records[0]!
  let recordsAfter = 0
  for (const batch of batches.slice(index + 1)) recordsAfter += batch.records.length
  return { reason, offset: first.offset, line: first.line, recordsAfter }
}
