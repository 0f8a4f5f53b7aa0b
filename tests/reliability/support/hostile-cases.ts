import fc from 'fast-check'
import { concat } from '../../core/support/bytes'
import {
  bytesOf,
  envelope,
  type Fixture,
  type HostileCase,
  type HostileKey,
  JOURNAL,
  PRIMARY,
  recordLine,
  textOf,
} from './hostile'

/**
 * The damaged workspaces of part 4: every truncation point, the hand-made hostile files (zero-length, NUL-filled,
 * not UTF-8, deeply nested, wrong kinds, future versions, damaged backups, ...) and the fuzzed mutations.
 */

export const S = PRIMARY.settings
export const P = PRIMARY.project
export const C = PRIMARY['conversation/c1']
export const K = PRIMARY['cache/models']
/** Every file a document loads from, with its key. */
/** Every file a document loads from, with its key. */
export const TARGETS: readonly (readonly [HostileKey, string])[] = [
  ['settings', S],
  ['project', P],
  ['project', JOURNAL],
  ['conversation/c1', C],
  ['cache/models', K],
]

export function* truncations(base: Fixture, key: HostileKey, path: string): Generator<HostileCase> {
  const bytes = base.files[path]!
  for (let cut = 0; cut < bytes.length; cut++) {
    yield { label: `${path} cut at ${cut}`, key, changes: { [path]: bytes.slice(0, cut) } }
  }
}

const repeat = (text: string, n: number) => text.repeat(n)
const DEEP = 100_000
const deepArray = `${repeat('[', DEEP)}${repeat(']', DEEP)}`
const deepObject = `${repeat('{"a":', DEEP)}1${repeat('}', DEEP)}`

/** The fixture's record file with its first record changed by `edit` (length and checksum made right again). */
function withFirstRecord(bytes: Uint8Array, edit: (rec: Record<string, unknown>) => void): Uint8Array {
  const text = textOf(bytes)
  const newline = text.indexOf('\n')
  const rec = (JSON.parse(text.slice(0, newline)) as { rec: Record<string, unknown> }).rec
  edit(rec)
  return concat(recordLine(JSON.stringify(rec)), bytesOf(text.slice(newline + 1)))
}

/** The data text of a snapshot file of the fixture. */
function dataText(bytes: Uint8Array): string {
  const text = textOf(bytes)
  return text.slice(text.indexOf('"data":') + 7, -2)
}

/** The backups of a key in the fixture, oldest first. */
export function backupsOf(base: Fixture, key: HostileKey): string[] {
  const dir = key === 'conversation/c1' ? 'conversation/c1' : key
  return Object.keys(base.files)
    .filter((path) => path.startsWith(`.saveflow/backups/${dir}/`))
    .sort()
}

/** Every hostile file that is not a truncation, a bit flip or a fuzzed mutation. */
export function specialCases(base: Fixture): HostileCase[] {
  const cases: HostileCase[] = []
  /** Set while the cases being added are well-formed files written by hand (see `HostileCase.crafted`). */
  let crafted = false
  const add = (
    label: string,
    key: HostileKey,
    changes: HostileCase['changes'],
    flags: Pick<HostileCase, 'allowEmpty' | 'saveMayFail'> = {},
  ) =>
    cases.push({
      label,
      key,
      changes,
      ...flags,
      ...(key.startsWith('cache/') ? { allowEmpty: true } : {}),
      ...(crafted ? { crafted } : {}),
    })
  const utf8Bom = new Uint8Array([0xef, 0xbb, 0xbf])

  for (const [key, path] of TARGETS) {
    const original = base.files[path]!
    const middle = Math.floor(original.length / 2)
    const at = (bytes: Uint8Array, i: number, insert: Uint8Array, remove = 0) =>
      concat(bytes.subarray(0, i), insert, bytes.subarray(i + remove))
    add(`${path}: zero-length`, key, { [path]: new Uint8Array(0) })
    add(`${path}: 1 KB of NUL bytes`, key, { [path]: new Uint8Array(1024) })
    add(`${path}: NUL bytes of its own length`, key, { [path]: new Uint8Array(original.length) })
    add(`${path}: second half NUL (blocks never written)`, key, {
      [path]: concat(original.subarray(0, middle), new Uint8Array(original.length - middle)),
    })
    add(`${path}: 1 KB of 0xff`, key, { [path]: new Uint8Array(1024).fill(0xff) })
    add(`${path}: invalid UTF-8 byte in the middle`, key, {
      [path]: at(original, middle, new Uint8Array([0xff]), 1),
    })
    add(`${path}: overlong encoding`, key, { [path]: at(original, middle, new Uint8Array([0xc0, 0xaf]), 1) })
    add(`${path}: encoded lone surrogate`, key, {
      [path]: at(original, middle, new Uint8Array([0xed, 0xa0, 0x80]), 1),
    })
    add(`${path}: cut inside a multi-byte character`, key, {
      [path]: concat(original, new Uint8Array([0xe4, 0xbd])),
    })
    add(`${path}: UTF-8 byte order mark`, key, { [path]: concat(utf8Bom, original) })
    const utf16 = new Uint8Array(2 + original.length * 2)
    utf16.set([0xff, 0xfe])
    original.forEach((byte, i) => {
      utf16[2 + i * 2] = byte
    })
    add(`${path}: re-encoded as UTF-16`, key, { [path]: utf16 })
    add(`${path}: 100k levels of [`, key, { [path]: bytesOf(repeat('[', DEEP)) })
    add(`${path}: 100k nested arrays, closed`, key, { [path]: bytesOf(deepArray) })
    add(`${path}: 100k nested objects`, key, { [path]: bytesOf(deepObject) })
    add(`${path}: garbage after the end`, key, { [path]: concat(original, bytesOf('garbage\u0000\u0001')) })
    add(`${path}: written twice`, key, { [path]: concat(original, original) })
    add(`${path}: 1 MiB of newlines`, key, { [path]: new Uint8Array(1024 * 1024).fill(0x0a) })
    add(`${path}: 1 MiB of record prefixes`, key, { [path]: bytesOf(repeat('{"len":', 150_000)) })
    add(`${path}: 1 MiB of empty objects`, key, { [path]: bytesOf(repeat('{}\n', 350_000)) })
    add(`${path}: 256 KiB of lines that look like records`, key, {
      [path]: bytesOf(repeat('{"crc":"","rec":x}\n', 13_000)),
    })
    add(
      `${path}: a folder in its place`,
      key,
      { [path]: null, [`${path}/inner`]: bytesOf('x') },
      { allowEmpty: true, saveMayFail: true },
    )
    add(`${path}: just over the size limit`, key, {
      [path]: new Uint8Array((path === S ? 4 : path === K ? 16 : 0) * 1024 * 1024 + 1).fill(0x20),
    })
  }

  // Snapshots whose checksum is right, so only the later checks can refuse them.
  crafted = true
  for (const [key, path, kind, version] of [
    ['settings', S, 'settings', 2],
    ['project', P, 'project', 1],
    ['cache/models', K, 'cache', 1],
  ] as const) {
    const data = dataText(base.files[path]!)
    add(`${path}: data nested 100k deep, checksum right`, key, {
      [path]: envelope({ kind, schemaVersion: version }, deepArray),
    })
    add(`${path}: objects nested 100k deep, checksum right`, key, {
      [path]: envelope({ kind, schemaVersion: version }, deepObject),
    })
    const wrong = textOf(envelope({ kind, schemaVersion: version }, deepArray)).replace(
      /crc32:[0-9a-f]{8}/,
      'crc32:00000000',
    )
    add(`${path}: data nested 100k deep, checksum wrong`, key, { [path]: bytesOf(wrong) })
    add(`${path}: reformatted, nested 100k deep`, key, {
      [path]: bytesOf(
        textOf(envelope({ kind, schemaVersion: version }, deepArray)).replace('{"format"', '{ "format"'),
      ),
    })
    add(`${path}: __proto__ in the data`, key, {
      [path]: envelope({ kind, schemaVersion: version }, `{"__proto__":{"polluted":true},${data.slice(1)}`),
    })
    add(`${path}: future schema version`, key, { [path]: envelope({ kind, schemaVersion: 99 }, data) })
    add(`${path}: future envelope format`, key, {
      [path]: envelope({ kind, schemaVersion: version, format: 2 }, data),
    })
    add(`${path}: huge revision`, key, {
      [path]: envelope({ kind, schemaVersion: version, revision: Number.MAX_SAFE_INTEGER + 2 }, data),
    })
    add(`${path}: data null`, key, { [path]: envelope({ kind, schemaVersion: version }, 'null') })
    add(`${path}: a number too large for a double`, key, {
      [path]: envelope({ kind, schemaVersion: version }, '1e999'),
    })
  }

  // Record files: lines whose length and checksum are right but whose content is hostile.
  const journalHeader = textOf(base.files[JOURNAL]!).split('\n')[0]!
  for (const [key, path] of [
    ['project', JOURNAL],
    ['conversation/c1', C],
  ] as const) {
    const original = base.files[path]!
    const commit = '"rev":40,"at":"2026-01-15T09:40:00.000Z"'
    add(`${path}: a committed record nested 100k deep`, key, {
      [path]: concat(original, recordLine(`{"op":"add","message":${deepArray},${commit}}`)),
    })
    add(`${path}: a committed record of nested objects`, key, {
      [path]: concat(original, recordLine(`{"op":"node","node":${deepObject},${commit}}`)),
    })
    add(`${path}: a reformatted line nested 100k deep`, key, {
      [path]: concat(
        original,
        bytesOf(`{"len":1, "crc":"00000000","rec":{"op":"set","value":${deepArray}}}\n`),
      ),
    })
    add(`${path}: a reformatted line nested 100k deep, then a record`, key, {
      [path]: concat(
        original,
        bytesOf(`{"len":1, "crc":"00000000","rec":{"op":"set","value":${deepArray}}}\n`),
        recordLine(`{"op":"commit",${commit}}`),
      ),
    })
    add(`${path}: a length of ten digits`, key, {
      [path]: concat(original, bytesOf('{"len":9999999999,"crc":"00000000","rec":{}}\n')),
    })
    add(`${path}: an unknown op, committed`, key, {
      [path]: concat(original, recordLine(`{"op":"explode",${commit}}`)),
    })
    add(`${path}: a commit with a bad revision`, key, {
      [path]: concat(original, recordLine('{"op":"commit","rev":-1,"at":"never"}')),
    })
    add(`${path}: a commit going back in revision`, key, {
      [path]: concat(original, recordLine('{"op":"commit","rev":0,"at":"2026-01-15T09:40:00.000Z"}')),
    })
    add(`${path}: future record format`, key, {
      [path]: withFirstRecord(original, (rec) => {
        rec.format = 99
      }),
    })
    add(`${path}: header of the wrong kind`, key, {
      [path]: withFirstRecord(original, (rec) => {
        rec.kind = 'settings'
      }),
    })
  }
  add(`${C}: future schema version in the header`, 'conversation/c1', {
    [C]: withFirstRecord(base.files[C]!, (rec) => {
      rec.schemaVersion = 99
    }),
  })
  add(`${JOURNAL}: header of another snapshot`, 'project', {
    [JOURNAL]: concat(
      recordLine(
        journalHeader
          .slice(journalHeader.indexOf('"rec":') + 6, -1)
          .replace(/crc32:[0-9a-f]{8}/, 'crc32:12345678'),
      ),
      bytesOf(textOf(base.files[JOURNAL]!).slice(journalHeader.length + 1)),
    ),
  })

  crafted = false

  // Wrong kinds: a valid file of one document where another's belongs.
  add('settings envelope in project.json', 'project', { [P]: base.files[S]! })
  add('project envelope in settings.json', 'settings', { [S]: base.files[P]! })
  add('conversation log in project.journal.jsonl', 'project', { [JOURNAL]: base.files[C]! })
  add('project journal in the conversation log', 'conversation/c1', { [C]: base.files[JOURNAL]! })
  add('project snapshot in the conversation log', 'conversation/c1', { [C]: base.files[P]! })
  add('settings envelope in a cache', 'cache/models', { [K]: base.files[S]! })
  add('a project backup in settings.json', 'settings', { [S]: base.files[backupsOf(base, 'project')[0]!]! })
  add('a damaged legacy conversation snapshot, no log', 'conversation/c1', {
    [C]: null,
    'conversations/c1.json': bytesOf('{"format":1,"kind":"conversation"'),
  })
  add('a legacy conversation snapshot of the wrong kind, no log', 'conversation/c1', {
    [C]: null,
    'conversations/c1.json': base.files[S]!,
  })

  // Backups corrupt too.
  for (const key of ['settings', 'project', 'conversation/c1'] as const) {
    const path = PRIMARY[key]
    const backups = backupsOf(base, key)
    const damage = (how: (bytes: Uint8Array) => Uint8Array) =>
      Object.fromEntries(backups.map((backup) => [backup, how(base.files[backup]!)]))
    const primary = base.files[path]!
    const cut = primary.slice(0, Math.floor(primary.length / 3))
    add(`${key}: primary and every backup cut short`, key, {
      [path]: cut,
      ...damage((bytes) => bytes.slice(0, Math.floor(bytes.length / 2))),
    })
    add(`${key}: primary and every backup zero-length`, key, {
      [path]: new Uint8Array(0),
      ...damage(() => new Uint8Array(0)),
    })
    add(`${key}: primary and every backup NUL-filled`, key, {
      [path]: new Uint8Array(primary.length),
      ...damage((bytes) => new Uint8Array(bytes.length)),
    })
    add(`${key}: primary cut, every backup bit-flipped`, key, {
      [path]: cut,
      ...damage((bytes) => {
        const flipped = bytes.slice()
        flipped[Math.floor(bytes.length * 0.7)]! ^= 0x01
        return flipped
      }),
    })
    add(`${key}: primary cut, every backup of the wrong kind`, key, {
      [path]: cut,
      ...damage(() => (key === 'settings' ? base.files[P]! : base.files[S]!)),
    })
    add(`${key}: primary cut, every backup nested 100k deep`, key, {
      [path]: cut,
      ...damage(() =>
        envelope({ kind: key === 'conversation/c1' ? 'conversation' : key, schemaVersion: 1 }, deepArray),
      ),
    })
    add(`${key}: primary cut, every backup from a future version`, key, {
      [path]: cut,
      ...damage((bytes) =>
        envelope(
          { kind: key === 'conversation/c1' ? 'conversation' : key, schemaVersion: 99 },
          dataText(bytes),
        ),
      ),
    })
    if (backups.length > 1) {
      add(`${key}: primary cut, newest backup cut, an older one good`, key, {
        [path]: cut,
        [backups.at(-1)!]: base.files[backups.at(-1)!]!.slice(0, 40),
      })
    }
  }
  return cases
}

/** One mutation of a file's bytes, as fast-check generates it. */
export type Mutation =
  | { kind: 'flip'; at: number; bit: number }
  | { kind: 'set'; at: number; byte: number }
  | { kind: 'zero'; at: number; length: number }
  | { kind: 'delete'; at: number; length: number }
  | { kind: 'insert'; at: number; bytes: Uint8Array }
  | { kind: 'truncate'; at: number }
  | { kind: 'duplicate'; at: number; length: number }
  | { kind: 'text'; at: number; text: string }

const position = fc.nat({ max: 1 << 20 })
export const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: position, bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), at: position, byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('zero' as const), at: position, length: fc.integer({ min: 1, max: 64 }) }),
  fc.record({ kind: fc.constant('delete' as const), at: position, length: fc.integer({ min: 1, max: 64 }) }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: position,
    bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
  }),
  fc.record({ kind: fc.constant('truncate' as const), at: position }),
  fc.record({
    kind: fc.constant('duplicate' as const),
    at: position,
    length: fc.integer({ min: 1, max: 128 }),
  }),
  fc.record({
    kind: fc.constant('text' as const),
    at: position,
    text: fc.constantFrom(
      '\n',
      '{',
      '}',
      '"',
      '\\',
      ',',
      '[',
      ']',
      ':',
      ' ',
      'null',
      '1e999',
      '-0',
      '\u2028',
      '😀',
      '\ud800',
    ),
  }),
)

export function mutate(bytes: Uint8Array, mutation: Mutation): Uint8Array {
  const at = mutation.at % (bytes.length + 1)
  const tail = (n: number) => bytes.subarray(Math.min(bytes.length, at + n))
  switch (mutation.kind) {
    case 'flip':
    case 'set': {
      if (bytes.length === 0) return bytes
      const out = bytes.slice()
      const i = at % bytes.length
      out[i] = mutation.kind === 'flip' ? out[i]! ^ (1 << mutation.bit) : mutation.byte
      return out
    }
    case 'zero':
      return concat(
        bytes.subarray(0, at),
        new Uint8Array(Math.min(mutation.length, bytes.length - at)),
        tail(mutation.length),
      )
    case 'delete':
      return concat(bytes.subarray(0, at), tail(mutation.length))
    case 'insert':
      return concat(bytes.subarray(0, at), mutation.bytes, tail(0))
    case 'truncate':
      return bytes.slice(0, at)
    case 'duplicate':
      return concat(bytes.subarray(0, at), bytes.subarray(at, at + mutation.length), tail(0))
    case 'text':
      return concat(bytes.subarray(0, at), bytesOf(mutation.text), tail(0))
  }
}
