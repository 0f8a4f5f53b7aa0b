import { type BackupInfo, listBackups } from '../../core/backups'
import {
  checkSnapshot,
  type JournalReport,
  type LoadResult,
  readDocumentFile,
} from '../../core/document-reader'
import type { DocumentDefinition } from '../../core/documents'
import type { SaveflowError, SaveflowErrorCode } from '../../core/errors'
import { readJournaled } from '../../core/journal-read'
import { documentPath } from '../../core/paths'
import { SNAPSHOT_FORMAT, type Snapshot } from '../../core/snapshot-codec'
import type { StorageBackend } from '../../core/storage'
import type { BackupReport, FileError, FileStatus } from './report'

/**
 * Read-only inspection of documents and backups, shared by the checkers: the same steps as a load (size check, read,
 * checksum, replay of a log or journal, version, migration in memory, schema) but without the load's side effects.
 * `Repository.load` would back up an older file before migrating it and drop a bad cache; verify must change nothing.
 */

/** One file inspected. */
export interface Inspected {
  status: FileStatus
  /** The envelope, when the file decoded (even if its data then failed the schema). */
  snapshot: Snapshot | null
  size: number | null
  error: FileError | null
  /** The full load result: `ok` carries the validated (and migrated) data. */
  result: LoadResult
  /** The file the status is about (a journal's path when the journal is what failed). */
  path: string
  /** A log or journal: what its replay found (torn tail, damage). */
  journal: JournalReport | null
  /** A conversation still in the snapshot file an earlier version wrote (the first save rewrites it as a log). */
  legacy: string | null
}

/** The {@link FileStatus} of a failed read. */
export function statusOfCode(code: SaveflowErrorCode): FileStatus {
  switch (code) {
    case 'not-found':
      return 'missing'
    case 'corrupt':
      return 'corrupt'
    case 'invalid-data':
      return 'invalid'
    case 'too-large':
      return 'too-large'
    case 'future-version':
      return 'future-version'
    default:
      return 'unreadable'
  }
}

/** The JSON form of an error. */
export function fileError(error: SaveflowError): FileError {
  const reason = error.details?.reason
  return { code: error.code, reason: typeof reason === 'string' ? reason : null, message: error.message }
}

/** Reads and checks `path` as a document of `definition`'s kind, changing nothing. */
export async function inspectFile(
  storage: StorageBackend,
  definition: DocumentDefinition,
  path: string,
): Promise<Inspected> {
  const file = await readDocumentFile(storage, definition, path)
  if (!file.ok) {
    const stat = await storage.stat(path).catch(() => null)
    return {
      status: statusOfCode(file.error.code),
      snapshot: file.snapshot ?? null,
      size: stat === null || stat.isDirectory ? null : stat.size,
      error: file.error.code === 'not-found' ? null : fileError(file.error),
      result: file,
      path,
      journal: null,
      legacy: null,
    }
  }
  const result = await checkSnapshot(definition, file, path)
  return {
    status: result.ok ? 'ok' : statusOfCode(result.error.code),
    snapshot: file.snapshot,
    size: file.bytes.length,
    error: result.ok ? null : fileError(result.error),
    result,
    path,
    journal: null,
    legacy: null,
  }
}

/**
 * Reads the primary of `key` in whatever layout its kind has: a snapshot file, a conversation log, or the project
 * snapshot with its journal replayed. Changes nothing: a torn tail or damage is reported, not cut.
 */
export async function inspectDocument(
  storage: StorageBackend,
  key: string,
  definition: DocumentDefinition,
): Promise<Inspected> {
  if (definition.layout === 'snapshot') return inspectFile(storage, definition, documentPath(key))
  // No hooks: a file of an older schema version is migrated in memory only, never backed up here.
  const { result, state } = await readJournaled(storage, key, definition, {})
  if (!result.ok) {
    const stat = await storage.stat(result.path || documentPath(key)).catch(() => null)
    return {
      status: statusOfCode(result.error.code),
      snapshot: result.snapshot ?? null,
      size: stat === null || stat.isDirectory ? null : stat.size,
      error: result.error.code === 'not-found' ? null : fileError(result.error),
      result,
      path: result.path || documentPath(key),
      journal: null,
      legacy: null,
    }
  }
  const repair = state?.repair
  return {
    status: 'ok',
    // Replayed data has no single envelope; this one carries what the report shows (revision, time, version).
    snapshot: {
      format: SNAPSHOT_FORMAT,
      kind: definition.kind,
      schemaVersion: result.migratedFrom ?? definition.schemaVersion,
      revision: result.revision,
      savedAt: result.savedAt,
      checksum: '',
      data: result.data,
    },
    size: result.size,
    error: null,
    result,
    path: result.path,
    journal: result.journal ?? null,
    legacy: repair?.kind === 'rewrite' && repair.legacy !== undefined ? repair.legacy : null,
  }
}

/** Every backup of `key`, newest first, each inspected. */
export async function inspectBackups(
  storage: StorageBackend,
  definition: DocumentDefinition,
  key: string,
): Promise<BackupReport[]> {
  const backups: BackupInfo[] = await listBackups(storage, key)
  const reports: BackupReport[] = []
  for (const backup of backups) {
    const inspected = await inspectFile(storage, definition, backup.path)
    const status =
      inspected.status === 'missing' || inspected.status === 'expired' ? 'unreadable' : inspected.status
    reports.push({
      name: backup.name,
      path: backup.path,
      takenAt: new Date(backup.takenAt).toISOString(),
      revision: backup.revision,
      size: inspected.size,
      valid: inspected.status === 'ok',
      status,
      error: inspected.error,
    })
  }
  return reports
}
