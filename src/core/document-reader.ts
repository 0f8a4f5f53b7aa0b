import type { z } from 'zod'
import type { DocumentDefinition } from './documents'
import { SaveflowError, toSaveflowError } from './errors'
import { runMigrations } from './migrations'
import type { Snapshot } from './snapshot-codec'
import type { StorageBackend } from './storage'

/**
 * The read side of the repository: stat, size check, read, decode and checksum, version check, migration, schema
 * check. It never throws and never changes a file; every outcome is a typed {@link LoadResult}.
 */

/** A document that loaded: checksum verified, migrated if it was older, valid for the current schema. */
export interface LoadSuccess<T = unknown> {
  ok: true
  data: T
  /** The revision saved in the file. */
  revision: number
  /** ISO time of that save. */
  savedAt: string
  /** The file's schema version, when it was older and was migrated in memory (the file changes on the next save). */
  migratedFrom?: number
  /** The file that was read. */
  path: string
  /** Its size in bytes (the project: snapshot and journal together). */
  size: number
  /** Journaled documents (a conversation log, the project journal): what the replay found. */
  journal?: JournalReport
}

/**
 * What loading a log or journal found besides the data. `damage` means the document needs attention: the data is
 * the prefix of whole saves before the damage, the records after it were left out (a copy of the file goes to
 * quarantine before the writer replaces it, so nothing is deleted).
 */
export interface JournalReport {
  /** The log or journal file. */
  path: string
  /** Records replayed (headers included). */
  records: number
  /**
   * Bytes of a torn tail that were ignored: an append that a crash cut short, never acknowledged. Before the next
   * append they are copied to quarantine and cut off.
   */
  tornBytes: number
  /** A `corrupt` error (`details`: `reason`, `path`, `line`, `offset`, `recordsAfter`, `lostBytes`). */
  damage?: SaveflowError
}

/**
 * A document that did not load. `error.code` is `not-found`, `too-large`, `corrupt` (with `details.reason`),
 * `future-version`, `invalid-data` (with `details.issues`), or an I/O code (`permission-denied`, `io`, ...).
 */
export interface LoadFailure {
  ok: false
  error: SaveflowError
  /** The file that was (or would have been) read. */
  path: string
  /**
   * `future-version` of the schema only: the checksum-verified envelope, whose data the current schema cannot
   * check, for showing the document read-only.
   */
  snapshot?: Snapshot
}

/** What every load returns. */
export type LoadResult<T = unknown> = LoadSuccess<T> | LoadFailure

/** Hooks of {@link readVerified}. */
export interface CheckHooks {
  /**
   * Called with the verified envelope before an older file is migrated; the repository takes a backup here. If it
   * throws, the load fails with that error, so a file is never migrated without its backup.
   */
  beforeMigrate?: (snapshot: Snapshot) => Promise<void>
}

/** How many schema issues an `invalid-data` error lists. */
const MAX_ISSUES = 10

/** A file that was read and decoded: checksum verified, not yet version-checked or validated. */
export interface FileRead {
  ok: true
  bytes: Uint8Array
  snapshot: Snapshot
}

function failure(path: string, error: unknown, snapshot?: Snapshot): LoadFailure {
  return { ok: false, error: toSaveflowError(error), path, ...(snapshot === undefined ? {} : { snapshot }) }
}

/**
 * Stat, size check, read, decode and checksum of one file. Enough to decide whether a file "verified" before it is
 * backed up; {@link readVerified} adds the version check, migration and validation.
 */
export async function readDocumentFile(
  storage: StorageBackend,
  definition: DocumentDefinition,
  path: string,
): Promise<FileRead | LoadFailure> {
  try {
    const stat = await storage.stat(path)
    if (stat === null || stat.isDirectory) {
      return failure(path, new SaveflowError('not-found', { details: { path } }))
    }
    // Refuse before reading: a 1 GiB file must never reach JSON.parse (DESIGN.md "Security").
    if (stat.size > definition.maxBytes) {
      return failure(
        path,
        new SaveflowError('too-large', {
          message: `The file is ${stat.size} bytes; at most ${definition.maxBytes} are read.`,
          details: { path, size: stat.size, maxBytes: definition.maxBytes },
        }),
      )
    }
    const bytes = await storage.read(path, { maxBytes: definition.maxBytes })
    try {
      return { ok: true, bytes, snapshot: definition.codec.decode(bytes, definition.kind) }
    } catch (error) {
      // Damaged bytes: their size still tells a user which file it is (the recovery dialog lists it).
      const e = toSaveflowError(error)
      return failure(
        path,
        new SaveflowError(e.code, {
          message: e.message,
          cause: e,
          ...(e.sysCode === undefined ? {} : { sysCode: e.sysCode }),
          details: { ...e.details, size: bytes.length },
        }),
      )
    }
  } catch (error) {
    return failure(path, error)
  }
}

/** Reads and checks one file of `definition`'s kind. See {@link LoadResult}. */
export async function readVerified<S extends z.ZodType>(
  storage: StorageBackend,
  definition: DocumentDefinition<S>,
  path: string,
  hooks: CheckHooks = {},
): Promise<LoadResult<z.infer<S>>> {
  const file = await readDocumentFile(storage, definition, path)
  return file.ok ? checkSnapshot(definition, file, path, hooks) : file
}

/** The version check, migration and validation of a file already read by {@link readDocumentFile}. */
export async function checkSnapshot<S extends z.ZodType>(
  definition: DocumentDefinition<S>,
  file: FileRead,
  path: string,
  hooks: CheckHooks = {},
): Promise<LoadResult<z.infer<S>>> {
  return checkData(definition, file.snapshot, path, file.bytes.length, hooks)
}

/**
 * {@link checkSnapshot} for data that did not come from one snapshot file (a replayed log or journal): the version
 * check, migration and validation of `snapshot.data`, reported as a file of `size` bytes at `path`.
 */
export async function checkData<S extends z.ZodType>(
  definition: DocumentDefinition<S>,
  snapshot: Snapshot,
  path: string,
  size: number,
  hooks: CheckHooks = {},
): Promise<LoadResult<z.infer<S>>> {
  if (snapshot.schemaVersion > definition.schemaVersion) {
    const error = new SaveflowError('future-version', {
      message: `The file has ${definition.kind} schema version ${snapshot.schemaVersion}; this version reads up to ${definition.schemaVersion}.`,
      details: { path, schemaVersion: snapshot.schemaVersion, supportedVersion: definition.schemaVersion },
    })
    return failure(path, error, snapshot)
  }

  let data = snapshot.data
  let migratedFrom: number | undefined
  if (snapshot.schemaVersion < definition.schemaVersion) {
    try {
      await hooks.beforeMigrate?.(snapshot)
      data = runMigrations(
        definition.kind,
        definition.migrations,
        data,
        snapshot.schemaVersion,
        definition.schemaVersion,
      )
      migratedFrom = snapshot.schemaVersion
    } catch (error) {
      return failure(path, error)
    }
  }

  let parsed: z.ZodSafeParseResult<z.infer<S>>
  try {
    parsed = definition.schema.safeParse(data)
  } catch (error) {
    // A schema walks the data recursively (`z.json()` of a cache): data nested deeper than the stack, which a
    // hostile file can hold, must end as a typed result like any other bad data, never as a thrown RangeError.
    return failure(
      path,
      new SaveflowError('invalid-data', {
        message: 'The data is nested too deeply to be checked.',
        cause: error,
        details: { path, reason: 'too-deep' },
      }),
    )
  }
  if (!parsed.success) return failure(path, invalidData(parsed.error, path))
  return {
    ok: true,
    data: parsed.data,
    revision: snapshot.revision,
    savedAt: snapshot.savedAt,
    ...(migratedFrom === undefined ? {} : { migratedFrom }),
    path,
    size,
  }
}

/** An `invalid-data` error listing the first schema issues as `{ path, message }`. */
export function invalidData(error: z.ZodError, path?: string): SaveflowError {
  const issues = error.issues.slice(0, MAX_ISSUES).map((issue) => ({
    path: issue.path.map(String).join('.'),
    message: issue.message,
  }))
  const first = issues[0]
  return new SaveflowError('invalid-data', {
    message:
      first === undefined
        ? 'The data does not match its schema.'
        : `The data does not match its schema at "${first.path || '(root)'}": ${first.message}`,
    cause: error,
    details: { ...(path === undefined ? {} : { path }), issues, issueCount: error.issues.length },
  })
}
