import type { BackupInfo } from './backups'
import type { PersistenceConfig, PersistenceConfigInput } from './config'
import type { LoadResult, LoadSuccess } from './document-reader'
import type { DataOf, DocumentDefinition, DocumentDefinitions } from './documents'
import type { SaveflowError, SaveflowErrorCode } from './errors'
import type { CompactionOptions, DocumentPatch } from './journal-store'
import type { CompactReason } from './journal-write'
import type { QuarantineResult } from './quarantine'
import type { ValidateFn, WriteFn, WriteResult } from './save-coordinator'
import type { LinkMethod, StorageBackend } from './storage'

/** The types of the repository API; `createRepository` in `repository.ts` implements them. */

/** What the repository reports besides results: for logs, toasts and the recovery report. */
export type RepositoryEvent =
  | {
      type: 'backup.created'
      key: string
      backup: BackupInfo
      method: LinkMethod
      /** `interval`: before a save; `migration`: before an old file is migrated; `restore`: the file a restore replaced. */
      reason: 'interval' | 'migration' | 'restore' | 'manual'
    }
  | { type: 'backup.pruned'; key: string; removed: BackupInfo[] }
  /** A backup was due but the current file did not verify, so none was taken (a bad file is quarantined instead). */
  | { type: 'backup.skipped'; key: string; code: SaveflowErrorCode }
  /** Taking a backup failed; the save went on, because the user's newest data matters more than an old copy. */
  | { type: 'backup.failed'; key: string; error: SaveflowError }
  | { type: 'quarantined'; key: string; result: QuarantineResult }
  | { type: 'migrated'; key: string; from: number; to: number }
  | { type: 'cache.dropped'; key: string; path: string; reason: 'expired' | 'evicted' | SaveflowErrorCode }
  /**
   * A log or journal was damaged in the middle: the data loaded is the prefix of whole saves before it (`error`
   * is `corrupt`, details name the line and offset). The next write keeps a copy in quarantine, then rewrites it.
   */
  | { type: 'journal.damaged'; key: string; error: SaveflowError }
  /**
   * A tail was cut off a log or journal before an append: a torn tail a crash left (a copy of its bytes went to
   * `quarantined`), or the partial bytes of this process's own failed append (`quarantined: null`).
   */
  | {
      type: 'journal.repaired'
      key: string
      path: string
      cutAt: number
      cutBytes: number
      quarantined: string | null
    }
  /** A log or journal was compacted: its document written whole, after a threshold or on demand. */
  | { type: 'compacted'; key: string; bytes: number; reason: Exclude<CompactReason, 'rewrite'> }

/** Options of `createRepository`. */
export interface RepositoryOptions {
  storage: StorageBackend
  /** `backupEnabled`, `backupCount`, `backupInterval` and `validation.enabled` apply here. @default the defaults */
  config?: PersistenceConfigInput
  /** Current time in ms (file times, backup interval, cache TTL). @default Date.now */
  now?: () => number
  /** Replaces built-in definitions (a test's version-2 schema, a bigger size limit). */
  definitions?: Partial<DocumentDefinitions>
  /** Largest total size of the `cache/` folder, in bytes. @default 64 MiB */
  cacheMaxTotalBytes?: number
  /** Receives {@link RepositoryEvent}s. Must not throw. */
  onEvent?: (event: RepositoryEvent) => void
  /** When conversation logs and the project journal are compacted (besides `compact` on idle and close). */
  compaction?: CompactionOptions
}

/** The repository API. Keys are `project`, `settings`, `conversation/<id>`, `cache/<name>`. */
export interface Repository {
  readonly storage: StorageBackend
  readonly config: PersistenceConfig
  /** The definition behind a key; throws `invalid-id`. */
  definitionFor(key: string): DocumentDefinition
  /** The workspace-relative file of a key; throws `invalid-id`. */
  pathOf(key: string): string
  /**
   * Checks data against the key's schema; returns the data to write or throws `invalid-data` listing the issues.
   * The project and conversations are checked by their change: against the last data of the same key that is known
   * valid (loaded, restored, or accepted by an earlier call), diffed by reference, only what differs is parsed (with
   * the schema of a node, a message, the metadata...) and the tree is checked again as a forest after a structural
   * change; the caller's own object is then returned. When that cannot prove the data valid (no such base yet, an
   * element that fails, keys the schema would strip), the data is parsed whole and zod's copy is returned. As with
   * `save`, data handed over must not be changed in place afterwards: a diff by reference cannot see such a change,
   * so it is neither checked nor saved.
   */
  validate<K extends string>(key: K, data: unknown): DataOf<K>
  /**
   * Reads and verifies the primary file: `not-found` (with `details.backups` when backups exist), `too-large`,
   * `corrupt`, `future-version` (with the envelope), `invalid-data`, or the data. After `future-version` or
   * `too-large` the key refuses saves (with that error) until a load or a restore succeeds. An older file is
   * backed up, then migrated in memory. A cache document that fails any check, or expired, is removed and
   * reported `not-found`.
   */
  load<K extends string>(key: K): Promise<LoadResult<DataOf<K>>>
  /**
   * Validates as {@link Repository.validate} does (unless this exact object came from it), backs up the file being
   * replaced when one is due, and writes durably. Resolves with the bytes written once the write is durable.
   *
   * A conversation or the project is not written whole: the data is diffed against the last state loaded or saved
   * (by reference first) and only the change is appended, as one batch with one fsync; `bytes` is then the size of
   * that append. The data handed over must not be changed in place afterwards (immutable updates, as zustand and
   * immer make them), since the next save is diffed against it.
   */
  save(key: string, data: unknown, revision: number, signal?: AbortSignal): Promise<WriteResult>
  /**
   * Writes a conversation log or the project (snapshot and fresh journal) whole, now, dropping dead records; call
   * it when the app is idle or closing. `{ bytes: 0 }` when there is nothing to drop, and for snapshot kinds.
   */
  compact(key: string, signal?: AbortSignal): Promise<WriteResult>
  /**
   * The remote path of a save (DESIGN.md "Data flow"): patches computed beside the state (`diffPatches`) are
   * checked against their schema, applied to the state this side holds at `baseRevision`, the result validated as a
   * whole, and appended as revision `revision`. Throws `invalid-data` with `details.reason` `stale-base` when this
   * side is not at `baseRevision` (send the whole document with `save` instead), `bad-patch` or `invalid-result`
   * when the patches do not apply; `invalid-id` for a snapshot kind.
   */
  appendPatches(
    key: string,
    patches: readonly DocumentPatch[],
    baseRevision: number,
    revision: number,
    signal?: AbortSignal,
  ): Promise<WriteResult>
  /** {@link Repository.validate} as the coordinator's `ValidateFn`. */
  readonly validateFn: ValidateFn
  /** {@link Repository.save} as the coordinator's `WriteFn`. */
  readonly writeFn: WriteFn
  /** Moves the primary file of `key` into quarantine. */
  quarantine(key: string, reason: string): Promise<QuarantineResult>
  /** Moves one backup of `key` into quarantine (a backup that failed to verify). */
  quarantineBackup(key: string, backup: BackupInfo | string, reason: string): Promise<QuarantineResult>
  /** The backups of `key`, newest first (none for caches). */
  listBackups(key: string): Promise<BackupInfo[]>
  /** Reads and verifies one backup, migrating it in memory if older; the backup file is never changed. */
  readBackup<K extends string>(key: K, backup: BackupInfo | string): Promise<LoadResult<DataOf<K>>>
  /**
   * Puts a verified backup in place of the primary file, atomically. The file it replaces is kept as a backup when
   * it verifies (so the restore can be undone), else a copy goes to quarantine. Call it on a damaged primary
   * without quarantining that first: the primary is then never missing, whatever moment a crash picks. Throws the
   * backup's load error if it does not verify, or the current file's read error; nothing is changed then.
   */
  restoreBackup<K extends string>(key: K, backup: BackupInfo | string): Promise<LoadSuccess<DataOf<K>>>
  /** Takes a backup of the primary now, ignoring the interval; `null` when there is no file. Throws if it does not verify. */
  backupNow(key: string): Promise<BackupInfo | null>
  /** Every quarantined file. */
  listQuarantine(): Promise<string[]>
  /** Removes temp files left by a crash; call once when the workspace opens, before any save. */
  removeTempFiles(): Promise<string[]>
}
