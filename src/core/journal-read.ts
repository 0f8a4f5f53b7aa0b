import { readConversationLog } from './conversation-log'
import {
  type CheckHooks,
  checkData,
  checkSnapshot,
  type LoadFailure,
  type LoadResult,
  readDocumentFile,
} from './document-reader'
import type { DocumentDefinition } from './documents'
import { SaveflowError, toSaveflowError } from './errors'
import type { DocState, Repair } from './journal-write'
import { companionPaths, documentPath } from './paths'
import { type JournalRead, replayJournal } from './project-journal'
import { type RecordDamage, recordDamageError } from './record-codec'
import { SNAPSHOT_FORMAT, type Snapshot } from './snapshot-codec'
import type { StorageBackend } from './storage'

/**
 * The read side of the journaled documents: read, replay, then the same version check, migration and validation
 * as a snapshot. It never changes a file (a reader may share the workspace with the writer, whose append may be in
 * flight): what it finds that needs repair (a torn tail, damage, a stale journal) is returned in the state, and the
 * writer repairs it before its next write.
 */

/** A load, and the state a writer goes on from when it succeeded. */
export interface JournaledRead {
  result: LoadResult
  state: DocState | null
}

/** Reads a journaled document. Never throws. */
export function readJournaled(
  storage: StorageBackend,
  key: string,
  definition: DocumentDefinition,
  hooks: CheckHooks,
): Promise<JournaledRead> {
  return definition.layout === 'log'
    ? readLog(storage, key, definition, hooks)
    : readProject(storage, key, definition, hooks)
}

function failure(path: string, error: unknown): JournaledRead {
  const result: LoadFailure = { ok: false, error: toSaveflowError(error), path }
  return { result, state: null }
}

/** A file's bytes, `null` when it does not exist; refused before reading when larger than `maxBytes`. */
async function readBytes(
  storage: StorageBackend,
  path: string,
  maxBytes: number,
): Promise<Uint8Array | null> {
  const stat = await storage.stat(path)
  if (stat === null || stat.isDirectory) return null
  if (stat.size > maxBytes) {
    throw new SaveflowError('too-large', {
      message: `The file is ${stat.size} bytes; at most ${maxBytes} are read.`,
      details: { path, size: stat.size, maxBytes },
    })
  }
  return storage.read(path, { maxBytes })
}

/** Replayed data dressed as a snapshot, for the checks every document goes through. */
function asSnapshot(
  definition: DocumentDefinition,
  fields: Omit<Snapshot, 'format' | 'kind' | 'checksum'>,
): Snapshot {
  return { format: SNAPSHOT_FORMAT, kind: definition.kind, checksum: '', ...fields }
}

/** What the writer must do first, given what the replay found. */
function repairOf(
  found: { damage: RecordDamage | null; tornBytes: number; end: number; belongs?: boolean },
  bytes: Uint8Array,
  migrated: boolean,
): Repair {
  // Damage: the data holds saves that only the damaged file has, so only a rewrite can go on (a copy is kept).
  if (found.damage !== null) return { kind: 'rewrite', keep: true }
  // Migrated: the file holds the old schema version; nothing of the new one may be appended to it.
  if (migrated) return { kind: 'rewrite', keep: false }
  if (found.belongs === false) return { kind: 'reset', keep: found.tornBytes > 0 }
  if (found.tornBytes > 0) return { kind: 'cut', at: found.end, tail: bytes.slice(found.end) }
  return { kind: 'none' }
}

async function readLog(
  storage: StorageBackend,
  key: string,
  definition: DocumentDefinition,
  hooks: CheckHooks,
): Promise<JournaledRead> {
  const path = documentPath(key)
  const { legacy } = companionPaths(key)
  let bytes: Uint8Array | null
  try {
    bytes = await readBytes(storage, path, definition.maxBytes)
  } catch (error) {
    return failure(path, error)
  }
  if (bytes === null) {
    if (legacy === undefined) return failure(path, new SaveflowError('not-found', { details: { path } }))
    // A snapshot an earlier version wrote: read as it always was; the first save replaces it with a log.
    const file = await readDocumentFile(storage, definition, legacy)
    if (!file.ok) {
      const missing = file.error.code === 'not-found'
      return missing
        ? failure(path, new SaveflowError('not-found', { details: { path } }))
        : { result: file, state: null }
    }
    const result = await checkSnapshot(definition, file, legacy, hooks)
    if (!result.ok) return { result, state: null }
    const repair: Repair = { kind: 'rewrite', keep: false, legacy }
    const state = { ...stateOf(result), end: 0, records: 0, live: 0, base: null, repair }
    return { result, state }
  }
  const log = readConversationLog(bytes)
  if (log.data === null) return failure(path, log.error)
  const snapshot = asSnapshot(definition, {
    schemaVersion: log.schemaVersion,
    revision: log.revision,
    savedAt: log.savedAt,
    data: log.data,
  })
  const result = await checkData(definition, snapshot, path, bytes.length, hooks)
  if (!result.ok) return { result, state: null }
  const damage = log.damage === null ? undefined : recordDamageError(path, log.damage, bytes.length)
  result.journal = { path, records: log.records, tornBytes: log.tornBytes, ...(damage && { damage }) }
  const repair = repairOf(log, bytes, result.migratedFrom !== undefined)
  const state = { ...stateOf(result), end: log.end, records: log.records, live: log.live, base: null, repair }
  return { result, state }
}

async function readProject(
  storage: StorageBackend,
  key: string,
  definition: DocumentDefinition,
  hooks: CheckHooks,
): Promise<JournaledRead> {
  const path = documentPath(key)
  const journalPath = companionPaths(key).journal!
  const file = await readDocumentFile(storage, definition, path)
  if (!file.ok) return { result: file, state: null }
  let bytes: Uint8Array | null
  let replay: JournalRead
  try {
    bytes = await readBytes(storage, journalPath, definition.maxBytes)
    replay = replayJournal(file.snapshot, bytes)
  } catch (error) {
    return failure(journalPath, error)
  }
  const { revision, savedAt, data } = replay
  const snapshot = { ...file.snapshot, revision, savedAt, data }
  const size = file.bytes.length + (bytes?.length ?? 0)
  const result = await checkData(definition, snapshot, path, size, hooks)
  if (!result.ok) return { result, state: null }
  if (bytes !== null) {
    const damage =
      replay.damage === null ? undefined : recordDamageError(journalPath, replay.damage, bytes.length)
    result.journal = {
      path: journalPath,
      records: replay.records,
      tornBytes: replay.tornBytes,
      ...(damage && { damage }),
    }
  }
  const base = {
    revision: file.snapshot.revision,
    checksum: file.snapshot.checksum,
    savedAt: file.snapshot.savedAt,
  }
  const repair = repairOf(replay, bytes ?? new Uint8Array(0), result.migratedFrom !== undefined)
  const state = { ...stateOf(result), end: replay.end, records: replay.records, live: 1, base, repair }
  return { result, state }
}

function stateOf(result: { data: unknown; revision: number; savedAt: string }) {
  return { data: result.data, revision: result.revision, savedAt: result.savedAt }
}
