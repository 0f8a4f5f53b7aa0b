import { SaveflowError } from './errors'
import {
  applyBatches,
  damageAtBatch,
  encodeBatch,
  encodeRecords,
  type RecordDamage,
  type RecordValue,
  readBatches,
} from './record-codec'
import type { Snapshot } from './snapshot-codec'
import { isKeyed, KeyedList, type ProjectPatch, patchError } from './tree-diff'

/**
 * The project on disk: `project.json`, a plain snapshot (the envelope of `snapshot-codec.ts`), and
 * `project.journal.jsonl`, the changes since it as keyed patch records in the format of `record-codec.ts`:
 *
 * ```
 * {"op":"journal","format":1,"kind":"project","base":12,"snapshot":"crc32:1a2b3c4d","rev":12,"at":"..."}
 * {"op":"node","node":{"id":"n7",...}}  {"op":"remove","id":"n3"}  {"op":"order","ids":[...]}
 * {"op":"ref","ref":{...}}  {"op":"unref","id":"c2"}  {"op":"refOrder","ids":[...]}
 * {"op":"set","field":"metadata","value":{...}}  {"op":"commit"}
 * ```
 *
 * The header names the snapshot the journal starts from, by revision and checksum; each save appends one batch
 * whose last record carries `rev` and `at`. Replay rules, so that I1-I3 hold whatever moment a crash picks:
 * - The header matches the snapshot: every committed batch applies, in order.
 * - It does not (a crash between a compaction's snapshot and its journal reset, or during a restore): the journal is
 *   stale. Its batches at or below the snapshot's revision are skipped, being already in the snapshot. A batch above
 *   it cannot be placed without a gap: it and everything after it are reported as damage, never applied.
 * - A torn tail (an append cut short) is ignored; damage in the middle stops the replay at the last whole save.
 * The writer resets a journal that does not match (header, then its batch) before it appends anything.
 */

/** The journal format this code writes; a header with a higher one is `future-version`. */
export const JOURNAL_FORMAT = 1

/** The snapshot a journal starts from. */
export interface JournalBase {
  revision: number
  checksum: string
  savedAt: string
}

/** The first line of a journal, naming its snapshot; `batch` (patches of one save) may follow in the same write. */
export function encodeJournalStart(
  base: JournalBase,
  batch?: { patches: readonly ProjectPatch[]; revision: number; savedAt: string },
): Uint8Array {
  const header = encodeRecords([
    {
      op: 'journal',
      format: JOURNAL_FORMAT,
      kind: 'project',
      base: base.revision,
      snapshot: base.checksum,
      rev: base.revision,
      at: base.savedAt,
    },
  ])
  if (batch === undefined) return header
  const body = encodeJournalBatch(batch.patches, batch.revision, batch.savedAt)
  const out = new Uint8Array(header.length + body.length)
  out.set(header)
  out.set(body, header.length)
  return out
}

/** The lines of one save's patches, ready for one append. */
export function encodeJournalBatch(patches: readonly ProjectPatch[], revision: number, savedAt: string) {
  return encodeBatch(patches as unknown as RecordValue[], revision, savedAt)
}

/** A journal replayed on its snapshot: the raw project (not yet validated) and what a writer needs to go on. */
export interface JournalRead {
  data: unknown
  revision: number
  savedAt: string
  /**
   * True when the header matches the snapshot and nothing was left out: appends may follow (after cutting a torn
   * tail). Otherwise the writer resets the journal (header, then its batch) before it appends, and with `damage` it
   * compacts instead, because the data then holds batches that only the damaged journal has.
   */
  belongs: boolean
  /** Committed records (header included) and where the next append goes. */
  records: number
  end: number
  /** Bytes of a torn tail after `end`. */
  tornBytes: number
  /** Batches that were left out: damage in the middle, or a stale journal's batches above the snapshot. */
  damage: RecordDamage | null
}

/** Replays `bytes` (the journal, or `null` when there is none) on `snapshot`. Throws only `future-version`. */
export function replayJournal(snapshot: Snapshot, bytes: Uint8Array | null): JournalRead {
  const alone: JournalRead = {
    data: snapshot.data,
    revision: snapshot.revision,
    savedAt: snapshot.savedAt,
    belongs: false,
    records: 0,
    end: 0,
    tornBytes: bytes?.length ?? 0,
    damage: null,
  }
  if (bytes === null || bytes.length === 0) return alone
  const read = readBatches(bytes)
  const [first, ...batches] = read.batches
  const header = first?.records.length === 1 ? first.records[0]!.value : undefined
  if (first === undefined || header?.op !== 'journal' || header.kind !== 'project') {
    // No readable header: nothing in the journal can be placed. Damage if records follow, else a torn start.
    if (first === undefined && read.damage === null) return alone
    const line = first?.records[0] ?? { offset: 0, line: 1 }
    const recordsAfter =
      read.batches.reduce((n, b) => n + b.records.length, 0) + (read.damage?.recordsAfter ?? 0)
    return {
      ...alone,
      tornBytes: 0,
      damage: { reason: 'bad-header', offset: line.offset, line: line.line, recordsAfter },
    }
  }
  if (typeof header.format === 'number' && header.format > JOURNAL_FORMAT) {
    throw new SaveflowError('future-version', {
      message: `The journal uses format ${header.format}; this version reads up to ${JOURNAL_FORMAT}.`,
      details: { format: header.format, supportedFormat: JOURNAL_FORMAT },
    })
  }
  const belongs = header.base === snapshot.revision && header.snapshot === snapshot.checksum
  if (!belongs) {
    // Nothing of a stale journal is applied: what it holds up to the snapshot's revision is in the snapshot already.
    const beyond = batches.findIndex((batch) => batch.rev > snapshot.revision)
    const damage = beyond === -1 ? read.damage : damageAtBatch(batches, beyond, 'stale-journal')
    return { ...alone, tornBytes: damage === null ? bytes.length - read.end : 0, damage }
  }
  const { replay, applied, failed } = applyBatches(() => new ProjectReplay(snapshot.data), batches)
  const kept = [first, ...batches.slice(0, applied)]
  const last = kept.at(-1)!
  const damage = failed?.damage ?? read.damage
  return {
    data: replay.result(),
    revision: applied === 0 ? snapshot.revision : last.rev,
    savedAt: applied === 0 ? snapshot.savedAt : last.at,
    belongs: damage === null,
    records: kept.reduce((n, batch) => n + batch.records.length, 0),
    end: last.end,
    tornBytes: damage === null ? bytes.length - read.end : 0,
    damage,
  }
}

/**
 * Applies patches to a project (the rpc path: a page sends the patches, this side applies them to the data it
 * holds). Throws `invalid-data` (reason `bad-patch`) for a patch that cannot apply. The result is not validated.
 */
export function applyProjectPatches(
  base: unknown,
  patches: readonly ProjectPatch[],
): Record<string, unknown> {
  const replay = new ProjectReplay(base)
  for (const patch of patches) replay.apply(patch as unknown as RecordValue)
  return replay.result()
}

function idList(value: unknown): string[] {
  if (!Array.isArray(value) || !value.every((id) => typeof id === 'string')) {
    throw patchError('An order record needs a list of ids.')
  }
  return value
}

/**
 * Applies project patches to raw project data (as read from a snapshot, before validation). Each patch costs O(1)
 * (an `order` O(n)); `result()` builds the data once. Throws `invalid-data` (reason `bad-patch`) for a patch that
 * cannot apply; the caller then starts again from the base, so a batch is applied whole or not at all.
 */
export class ProjectReplay {
  private readonly fields: Map<string, unknown>
  private readonly tree: KeyedList
  private readonly refs: KeyedList

  constructor(base: unknown) {
    if (typeof base !== 'object' || base === null || Array.isArray(base)) {
      throw patchError('The project is not an object.')
    }
    const { tree, conversations, ...rest } = base as Record<string, unknown>
    // A map, so a field named `__proto__` in a file stays a plain field.
    this.fields = new Map(Object.entries(rest))
    this.tree = new KeyedList(tree)
    this.refs = new KeyedList(conversations)
  }

  /** Applies one patch (a record value: extra fields such as `rev` and `at` are ignored). */
  apply(patch: Record<string, unknown>): void {
    const { op } = patch
    if (op === 'node' || op === 'ref') {
      const item = op === 'node' ? patch.node : patch.ref
      if (!isKeyed(item)) throw patchError(`A ${op} record needs an item with an id.`)
      ;(op === 'node' ? this.tree : this.refs).put(item)
    } else if (op === 'remove' || op === 'unref') {
      ;(op === 'remove' ? this.tree : this.refs).remove(String(patch.id))
    } else if (op === 'order' || op === 'refOrder') {
      ;(op === 'order' ? this.tree : this.refs).reorder(idList(patch.ids))
    } else if (op === 'set') {
      this.set(patch.field, patch.value)
    } else if (op !== 'commit') {
      throw patchError(`Unknown project record "${String(op)}".`)
    }
  }

  private set(field: unknown, value: unknown): void {
    if (field === 'tree') this.tree.replace(value)
    else if (field === 'conversations') this.refs.replace(value)
    else if (typeof field !== 'string') throw patchError('A set patch needs a field name.')
    else if (value === undefined) this.fields.delete(field)
    else this.fields.set(field, value)
  }

  /** The data after every patch so far. */
  result(): Record<string, unknown> {
    return {
      ...Object.fromEntries(this.fields),
      tree: this.tree.value(),
      conversations: this.refs.value(),
    }
  }
}
