import { type ConversationPatch, encodeCompactLog, encodeLogBatch, isKeyedList } from './conversation-log'
import type { DocumentDefinition } from './documents'
import { SaveflowError, toSaveflowError } from './errors'
import type { CompactionConfig } from './journal-store'
import { companionPaths, documentPath } from './paths'
import { encodeJournalBatch, encodeJournalStart, type JournalBase } from './project-journal'
import { copyToQuarantine, quarantinePathFor, quarantineReasonSlug } from './quarantine'
import type { RepositoryEvent } from './repository-types'
import type { Conversation } from './schemas'
import type { StorageBackend } from './storage'
import type { ProjectPatch } from './tree-diff'

/**
 * The write side of the journaled documents: appending one save's batch, and compaction (the whole document
 * written again, atomically). The rules that keep a log readable whatever fails:
 * - A batch is one append (one write, one fsync), so the edits of one debounce window cost one fsync.
 * - Before an append, the file must end where the last whole save ended. After a failed append (whose bytes may
 *   have partly landed) the file is first cut back to that length, so a new record is never glued onto a partial
 *   one. A torn tail found by a load is copied to quarantine, then cut off. A file of any other length is not
 *   guessed at: a copy goes to quarantine and the document is rewritten.
 * - After a failed rewrite (whose rename may or may not have happened) the next save rewrites again.
 * - A project compaction writes `project.json`, then resets the journal; between the two, the journal is stale and
 *   replay skips it (see `project-journal.ts`). Until the reset succeeded, no batch is appended to it.
 */

/** What must happen before the next append. */
export type Repair =
  | { kind: 'none' }
  /** Cut the file back to `at`; `tail` holds the torn bytes a load found (quarantined first), `null` our own. */
  | { kind: 'cut'; at: number; tail: Uint8Array | null }
  /** The project's journal does not belong to `project.json`: write it anew (header, then the batch). */
  | { kind: 'reset'; keep: boolean }
  /** Compact: write the whole document. `keep`: copy the current file to quarantine first; `legacy`: remove it after. */
  | { kind: 'rewrite'; keep: boolean; legacy?: string }

/** What the repository knows of a journaled document on disk. */
export interface DocState {
  /** The validated data on disk: the base the next save is diffed against. */
  data: unknown
  revision: number
  savedAt: string
  /** Length of the log or journal up to its last whole save. */
  end: number
  /** Records in it, and of those the live ones (the header, and for a conversation one per message). */
  records: number
  live: number
  /** The project: the snapshot its journal starts from. */
  base: JournalBase | null
  repair: Repair
}

/** What writing needs from the store. */
export interface WriteContext {
  storage: StorageBackend
  now: () => number
  emit: (event: RepositoryEvent) => void
  compaction: CompactionConfig
  /**
   * Called before a rewrite (a document written whole in place of an append: a first save, a repair), with the data
   * about to be written; returns the data to write, or throws (`invalid-data`: nothing is written). The repository
   * parses there data that was only checked by its change (see `document-validator.ts`). Compactions write the state
   * as its saves checked it and do not call it. @default writes the data as it is
   */
  checkWhole?: (key: string, definition: DocumentDefinition, data: unknown) => unknown
}

/** The data of one save. */
export interface WriteInput {
  data: unknown
  revision: number
  savedAt: string
}

/**
 * Why a document is written whole: a threshold of dead records or journal size was passed, `compact` was called, or
 * (`rewrite`) there was nothing to append to (a first save, a repair, a change only a rewrite can express). Only the
 * first two are reported as `compacted` events.
 */
export type CompactReason = 'threshold' | 'demand' | 'rewrite'

function tooLarge(key: string, size: number, maxBytes: number): SaveflowError {
  return new SaveflowError('too-large', {
    message: `The document is ${size} bytes; at most ${maxBytes} are written.`,
    details: { key, size, maxBytes },
  })
}

/** Copies the file a rewrite replaces to quarantine, when its repair says so (a hard link is safe: it is renamed over). */
async function keepCurrent(
  ctx: WriteContext,
  key: string,
  state: DocState | null,
  path: string,
): Promise<void> {
  const repair = state?.repair
  const keep =
    repair?.kind === 'cut' ? repair.tail !== null : repair?.kind !== 'none' && repair?.keep === true
  if (!keep || (await ctx.storage.stat(path)) === null) return
  const kept = await copyToQuarantine(
    ctx.storage,
    path,
    repair?.kind === 'cut' ? 'torn-tail' : 'damaged',
    ctx.now(),
  )
  ctx.emit({ type: 'quarantined', key, result: kept })
  if (state !== null && state.repair.kind !== 'none' && state.repair.kind !== 'cut') state.repair.keep = false
}

/**
 * Writes the whole document: a compacted log, or `project.json` and a fresh journal. `update` receives the new
 * state as soon as it is on disk (for the project, once after the snapshot and again after the journal reset, so a
 * failed reset still leaves the store knowing the snapshot changed).
 */
export async function writeCompacted(
  ctx: WriteContext,
  key: string,
  definition: DocumentDefinition,
  state: DocState | null,
  input: WriteInput,
  reason: CompactReason,
  update: (state: DocState) => void,
  signal?: AbortSignal,
): Promise<number> {
  const { storage } = ctx
  const path = documentPath(key)
  const options = signal === undefined ? {} : { signal }
  if (ctx.checkWhole !== undefined && reason === 'rewrite') {
    const data = ctx.checkWhole(key, definition, input.data)
    if (data !== input.data) input = { ...input, data }
  }
  const failed = (error: unknown): never => {
    const mapped = toSaveflowError(error)
    // The rename may have happened: whatever the file now holds, only a rewrite is sure to be right.
    if (state !== null && mapped.code !== 'aborted')
      update({ ...state, repair: { kind: 'rewrite', keep: false } })
    throw mapped
  }
  if (definition.layout === 'log') {
    await keepCurrent(ctx, key, state, path)
    const bytes = encodeCompactLog({ ...input, schemaVersion: definition.schemaVersion })
    if (bytes.length > definition.maxBytes) throw tooLarge(key, bytes.length, definition.maxBytes)
    await storage.writeAtomic(path, bytes, options).catch(failed)
    const { messages } = input.data as { messages?: unknown }
    const count = Array.isArray(messages) ? messages.length : 0
    const records = isKeyedList(messages) ? 1 + count : 2
    update({ ...input, end: bytes.length, records, live: 1 + count, base: null, repair: { kind: 'none' } })
    const legacy =
      state === null ? companionPaths(key).legacy : state.repair.kind === 'rewrite' && state.repair.legacy
    // The log is durable and wins over a snapshot beside it; removing the old file is only tidying up.
    if (legacy) await storage.remove(legacy).catch(() => undefined)
    if (reason !== 'rewrite') ctx.emit({ type: 'compacted', key, bytes: bytes.length, reason })
    return bytes.length
  }
  const journal = companionPaths(key).journal!
  await keepCurrent(ctx, key, state, journal)
  const snapshot = definition.codec.encode({
    ...input,
    kind: definition.kind,
    schemaVersion: definition.schemaVersion,
  })
  if (snapshot.length > definition.maxBytes) throw tooLarge(key, snapshot.length, definition.maxBytes)
  await storage.writeAtomic(path, snapshot, options).catch(failed)
  const base = {
    revision: input.revision,
    checksum: checksumOf(definition, snapshot),
    savedAt: input.savedAt,
  }
  const next: DocState = {
    ...input,
    end: 0,
    records: 0,
    live: 1,
    base,
    repair: { kind: 'reset', keep: false },
  }
  update(next)
  const header = encodeJournalStart(base)
  await storage.writeAtomic(journal, header).catch((error: unknown) => {
    throw toSaveflowError(error)
  })
  update({ ...next, end: header.length, records: 1, repair: { kind: 'none' } })
  if (reason !== 'rewrite')
    ctx.emit({ type: 'compacted', key, bytes: snapshot.length + header.length, reason })
  return snapshot.length + header.length
}

/** The checksum in a snapshot just encoded: read from its header, which the codec writes first. */
function checksumOf(definition: DocumentDefinition, bytes: Uint8Array): string {
  const head = new TextDecoder().decode(bytes.subarray(0, 512))
  const found = /"checksum":"(crc32:[0-9a-f]{8})"/.exec(head)?.[1]
  return found ?? definition.codec.decode(bytes, definition.kind).checksum
}

/**
 * Appends one save's patches as one batch (or compacts, when a threshold is passed or the file needs it).
 * `update` receives the new state; on a failed append, the state that cuts the file back first.
 */
export async function writeBatch(
  ctx: WriteContext,
  key: string,
  definition: DocumentDefinition,
  state: DocState,
  input: WriteInput,
  patches: readonly (ProjectPatch | ConversationPatch)[],
  update: (state: DocState) => void,
  signal?: AbortSignal,
): Promise<number> {
  const { storage, compaction } = ctx
  const isLog = definition.layout === 'log'
  const path = isLog ? documentPath(key) : companionPaths(key).journal!
  const { revision, savedAt } = input
  const batch = isLog
    ? encodeLogBatch(patches as ConversationPatch[], revision, savedAt)
    : encodeJournalBatch(patches as ProjectPatch[], revision, savedAt)
  const count = Math.max(1, patches.length)
  const live = isLog ? 1 + (input.data as Conversation).messages.length : 1
  const dead = state.records + count - live
  const due = isLog
    ? dead >= compaction.logDeadRecords && dead >= live * compaction.logDeadRatio
    : state.end + batch.length > compaction.journalMaxBytes ||
      state.records + count > compaction.journalMaxRecords
  if (due || state.end + batch.length > definition.maxBytes) {
    return writeCompacted(ctx, key, definition, state, input, 'threshold', update, signal)
  }
  if (state.repair.kind === 'reset') {
    await keepCurrent(ctx, key, state, path)
    const bytes = encodeJournalStart(state.base!, { patches: patches as ProjectPatch[], revision, savedAt })
    await storage.writeAtomic(path, bytes, signal === undefined ? {} : { signal }).catch((error: unknown) => {
      throw toSaveflowError(error)
    })
    update({ ...state, ...input, end: bytes.length, records: 1 + count, repair: { kind: 'none' } })
    return bytes.length
  }
  if (state.repair.kind === 'cut' && !(await cutBack(ctx, key, path, state, state.repair))) {
    const rewrite: DocState = { ...state, repair: { kind: 'rewrite', keep: true } }
    return writeCompacted(ctx, key, definition, rewrite, input, 'rewrite', update, signal)
  }
  if (signal?.aborted) throw new SaveflowError('aborted', { cause: signal.reason })
  try {
    await storage.append(path, batch, signal === undefined ? {} : { signal })
  } catch (error) {
    update({ ...state, repair: { kind: 'cut', at: state.end, tail: null } })
    throw toSaveflowError(error)
  }
  update({
    ...state,
    ...input,
    end: state.end + batch.length,
    records: state.records + count,
    live,
    repair: { kind: 'none' },
  })
  return batch.length
}

/**
 * Cuts the file back to where the last whole save ended. False when the file is not that plus the expected tail
 * (shorter, missing, or a torn tail of another length): the caller rewrites the document instead.
 */
async function cutBack(
  ctx: WriteContext,
  key: string,
  path: string,
  state: DocState,
  repair: { at: number; tail: Uint8Array | null },
): Promise<boolean> {
  const { storage } = ctx
  const size = (await storage.stat(path))?.size ?? -1
  if (size === repair.at) {
    state.repair = { kind: 'none' }
    return true
  }
  const expected = repair.tail === null ? size > repair.at : size === repair.at + repair.tail.length
  if (!expected) return false
  let quarantined: string | null = null
  if (repair.tail !== null) quarantined = await writeToQuarantine(ctx, path, repair.tail, 'torn-tail')
  await storage.truncate(path, repair.at)
  state.repair = { kind: 'none' }
  ctx.emit({ type: 'journal.repaired', key, path, cutAt: repair.at, cutBytes: size - repair.at, quarantined })
  return true
}

/** Writes `bytes` (a torn tail) under a free quarantine name beside the copies of whole files. */
async function writeToQuarantine(ctx: WriteContext, path: string, bytes: Uint8Array, reason: string) {
  try {
    for (let n = 0; n < 100; n++) {
      const to = quarantinePathFor(path, quarantineReasonSlug(reason), ctx.now(), n)
      if ((await ctx.storage.stat(to)) !== null) continue
      await ctx.storage.writeAtomic(to, bytes)
      return to
    }
    throw Object.assign(new Error(`No free quarantine name for ${path}.`), { code: 'EEXIST' })
  } catch (error) {
    throw toSaveflowError(error)
  }
}
