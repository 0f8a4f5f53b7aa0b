import { createBackupSchedule } from './backup-schedule'
import { type BackupInfo, listBackups, resolveBackup } from './backups'
import { pruneCache, settleCacheLoad } from './cache'
import { resolvePersistenceConfig } from './config'
import {
  type CheckHooks,
  checkData,
  checkSnapshot,
  type FileRead,
  type LoadFailure,
  type LoadResult,
  type LoadSuccess,
  readDocumentFile,
} from './document-reader'
import { createDocumentValidator } from './document-validator'
import { type DataOf, DOCUMENTS, type DocumentDefinition, type DocumentDefinitions } from './documents'
import { SaveflowError, type SaveflowErrorCode, toSaveflowError } from './errors'
import { createJournalSalvage } from './journal-salvage'
import { createJournalStore, resolveCompaction } from './journal-store'
import { documentPath, parseDocumentKey } from './paths'
import {
  copyToQuarantine,
  listQuarantine,
  moveToQuarantine,
  type QuarantineResult,
  quarantinedCopiesOf,
} from './quarantine'
import type { Repository, RepositoryEvent, RepositoryOptions } from './repository-types'
import type { WriteResult } from './save-coordinator'

/**
 * The document repository: saves, loads, backs up, restores and quarantines documents through a
 * `StorageBackend`. It knows nothing of machines; the save coordinator calls {@link Repository.writeFn} and
 * {@link Repository.validateFn}, the load machine calls the building blocks (`load`, `quarantine`, `listBackups`,
 * `readBackup`, `restoreBackup`) in the order its chart decides.
 *
 * No method throws anything but a `SaveflowError`; loads never throw at all and return a typed result.
 */

export type { Repository, RepositoryEvent, RepositoryOptions } from './repository-types'

/** Creates a repository over a storage backend. */
export function createRepository(options: RepositoryOptions): Repository {
  const { storage } = options
  const config = resolvePersistenceConfig(options.config)
  const now = options.now ?? Date.now
  const definitions: DocumentDefinitions = { ...DOCUMENTS, ...options.definitions }
  const cacheMaxTotalBytes = options.cacheMaxTotalBytes ?? 64 * 1024 * 1024
  const onEvent = options.onEvent ?? (() => {})
  const salvage = createJournalSalvage(storage)
  const emit = (event: RepositoryEvent) => {
    salvage.note(event)
    onEvent(event)
  }
  /** Validation that remembers the last valid data per document, so a save checks only what changed. */
  const validator = createDocumentValidator((key) => definitionFor(key), {
    strict: config.validation.strict,
  })
  /** Keys whose file is from a future version: saving would destroy data this version cannot read. */
  const readOnly = new Map<string, SaveflowError>()
  const schedule = createBackupSchedule({ storage, config, now, emit })
  const journals = createJournalStore({
    storage,
    now,
    schedule,
    emit,
    compaction: resolveCompaction(options.compaction),
    ...(config.validation.enabled ? { checkWhole: validator.checkWhole } : {}),
  })

  const definitionFor = (key: string): DocumentDefinition => definitions[parseDocumentKey(key).kind]
  const journaled = (definition: DocumentDefinition): boolean => definition.layout !== 'snapshot'

  function validate<K extends string>(key: K, data: unknown): DataOf<K> {
    return validator.validate(key, data) as DataOf<K>
  }

  /** Keeps the newest `backupCount` backups; at least one after a migration or restore, the only way back. */
  const prune = (key: string, atLeastOne: boolean) => schedule.prune(key, atLeastOne)

  /** Backs up the file about to be replaced, if it verifies. Errors are reported, never thrown: the save goes on. */
  async function backupBeforeReplace(
    key: string,
    definition: DocumentDefinition,
    path: string,
  ): Promise<void> {
    try {
      if (!(await schedule.due(key, definition))) return
      const current = await readDocumentFile(storage, definition, path)
      if (current.ok) {
        await schedule.link(key, path, current.snapshot.revision, 'interval')
        await prune(key, false)
        return
      }
      const code = current.error.code
      if (code === 'not-found') return
      if (!UNREADABLE_FILE.has(code)) throw current.error
      schedule.defer(key)
      emit({ type: 'backup.skipped', key, code })
      // A damaged file is about to be overwritten: keep it in quarantine instead (durability rule 5).
      if (code === 'corrupt') await quarantine(key, String(current.error.details?.reason ?? 'corrupt'))
    } catch (error) {
      // The next attempt waits an interval too: a folder that refuses backups must not cost a full read of the
      // document on every save.
      schedule.defer(key)
      emit({ type: 'backup.failed', key, error: toSaveflowError(error) })
    }
  }

  async function save(
    key: string,
    data: unknown,
    revision: number,
    signal?: AbortSignal,
  ): Promise<WriteResult> {
    const definition = definitionFor(key)
    const path = documentPath(key)
    const blocked = readOnly.get(key)
    if (blocked !== undefined) throw blocked
    throwIfAborted(signal)
    const checked = config.validation.enabled && !validator.isValidated(data) ? validate(key, data) : data
    if (journaled(definition)) {
      return wrapIo(journals.save(key, definition, checked, revision, signal, validator.changeOf(checked)))
    }
    await backupBeforeReplace(key, definition, path)
    throwIfAborted(signal)
    const bytes = definition.codec.encode({
      kind: definition.kind,
      schemaVersion: definition.schemaVersion,
      revision,
      savedAt: new Date(now()).toISOString(),
      data: checked,
    })
    // Never write a file this code would refuse to read back.
    if (bytes.length > definition.maxBytes) {
      throw new SaveflowError('too-large', {
        message: `The document is ${bytes.length} bytes; at most ${definition.maxBytes} are written.`,
        details: { key, size: bytes.length, maxBytes: definition.maxBytes },
      })
    }
    await wrapIo(storage.writeAtomic(path, bytes, signal === undefined ? {} : { signal }))
    if (definition.kind === 'cache') await evictCache(key, definition, path)
    return { bytes: bytes.length }
  }

  async function evictCache(key: string, definition: DocumentDefinition, keep: string): Promise<void> {
    try {
      const ttlMs = definition.ttlMs ?? Number.POSITIVE_INFINITY
      const removed = await pruneCache(storage, {
        maxTotalBytes: cacheMaxTotalBytes,
        ttlMs,
        now: now(),
        keep,
      })
      for (const file of removed) emit({ type: 'cache.dropped', key, path: file.path, reason: file.reason })
    } catch (error) {
      // The save itself is durable; a failed eviction only leaves the folder larger until the next one.
      emit({ type: 'backup.failed', key, error: toSaveflowError(error) })
    }
  }

  async function load<K extends string>(key: K): Promise<LoadResult<DataOf<K>>> {
    let definition: DocumentDefinition
    let path: string
    try {
      definition = definitionFor(key)
      path = documentPath(key)
    } catch (error) {
      return { ok: false, error: toSaveflowError(error), path: '' }
    }
    const hooks: CheckHooks = {
      beforeMigrate: async (snapshot) => {
        if (definition.backup.enabled) {
          await schedule.link(key, path, snapshot.revision, 'migration')
          await prune(key, true)
        }
        emit({ type: 'migrated', key, from: snapshot.schemaVersion, to: definition.schemaVersion })
      },
    }
    const file = journaled(definition) ? null : await readDocumentFile(storage, definition, path)
    const result =
      file === null
        ? await journals.load(key, definition)
        : file.ok
          ? await checkSnapshot(definition, file, path, hooks)
          : file
    if (definition.kind === 'cache')
      return (await settleCache(key, definition, result)) as LoadResult<DataOf<K>>
    // A file that exists but cannot be used must not be overwritten by a save of data that never came from it.
    if (!result.ok && READ_ONLY_ON_LOAD.has(result.error.code)) readOnly.set(key, result.error)
    if (result.ok) {
      readOnly.delete(key)
      // Parsed whole by the load: the next save of it checks only what changed.
      validator.trust(key, result.data)
    }
    if (!result.ok && result.error.code === 'not-found')
      return (await noteBackups(key, result)) as LoadResult<DataOf<K>>
    return result as LoadResult<DataOf<K>>
  }

  /**
   * A missing file with backups is not a first run: say so (`details.backups`), so a loader offers the backups
   * instead of starting empty (a crash between a quarantine and a restore leaves exactly this).
   */
  async function noteBackups(key: string, result: LoadFailure): Promise<LoadFailure> {
    const backups = await listBackups(storage, key).catch(() => [])
    if (backups.length === 0) return result
    // A recovery that stopped between its quarantine and its restore leaves the file there: it was damaged, not lost.
    const [moved] = await quarantinedCopiesOf(storage, documentPath(key))
    const error =
      moved === undefined
        ? new SaveflowError('not-found', {
            message: 'The file does not exist, but backups of it do.',
            details: { path: result.path, backups: backups.length },
          })
        : new SaveflowError('not-found', {
            message: `The file was damaged (${moved.reason}) and moved to quarantine as ${moved.path}, but not replaced yet; backups of it exist.`,
            hint: 'A verified backup is restored; the quarantined file stays as it is.',
            details: {
              path: result.path,
              backups: backups.length,
              quarantined: moved.path,
              quarantineReason: moved.reason,
            },
          })
    return { ...result, error }
  }

  async function settleCache(key: string, definition: DocumentDefinition, result: LoadResult) {
    const settled = await settleCacheLoad(
      storage,
      result,
      definition.ttlMs ?? Number.POSITIVE_INFINITY,
      now(),
    )
    if (settled.dropped !== null)
      emit({ type: 'cache.dropped', key, path: result.path, reason: settled.dropped })
    return settled.result
  }

  async function quarantine(key: string, reason: string): Promise<QuarantineResult> {
    if (journaled(definitionFor(key))) return journals.quarantine(key, reason)
    const result = await moveToQuarantine(storage, documentPath(key), reason, now())
    emit({ type: 'quarantined', key, result })
    return result
  }

  async function quarantineBackup(key: string, which: BackupInfo | string, reason: string) {
    const info = resolveBackup(key, which)
    const result = await moveToQuarantine(storage, info.path, reason, now())
    emit({ type: 'quarantined', key, result })
    return result
  }

  async function readBackup<K extends string>(key: K, which: BackupInfo | string) {
    let info: BackupInfo
    let definition: DocumentDefinition
    try {
      info = resolveBackup(key, which)
      definition = definitionFor(key)
    } catch (error) {
      return { ok: false, error: toSaveflowError(error), path: '' } as LoadResult<DataOf<K>>
    }
    const file = await readDocumentFile(storage, definition, info.path)
    return (file.ok ? await checkBackup(key, definition, file, info.path) : file) as LoadResult<DataOf<K>>
  }

  /**
   * A backup, checked as any snapshot; for the project, with the saves of the journal that was quarantined with
   * the damaged snapshot replayed on it when that journal starts at this very backup (`journal-salvage.ts`).
   */
  async function checkBackup(
    key: string,
    definition: DocumentDefinition,
    file: FileRead,
    path: string,
    reuse = false,
  ): Promise<LoadResult> {
    const extended = await salvage.extend(key, definition, file.snapshot, { reuse })
    if (extended === null) return checkSnapshot(definition, file, path)
    const size = file.bytes.length + extended.size
    const result = await checkData(definition, extended.snapshot, path, size)
    // Saves that do not validate on top of this backup are not offered: the backup alone still is.
    if (!result.ok) return checkSnapshot(definition, file, path)
    result.journal = { path: extended.journalPath, records: extended.records, tornBytes: 0 }
    return result
  }

  async function restoreBackup<K extends string>(key: K, which: BackupInfo | string) {
    const definition = definitionFor(key)
    const path = documentPath(key)
    const info = resolveBackup(key, which)
    const file = await readDocumentFile(storage, definition, info.path)
    // The state the read before it verified (the load machine reads a backup, then restores it).
    const restored = file.ok ? await checkBackup(key, definition, file, info.path, true) : file
    if (!restored.ok || !file.ok) throw restored.ok ? new SaveflowError('corrupt') : restored.error
    if (journaled(definition)) {
      await wrapIo(journals.restore(key, definition, restored))
      validator.trust(key, restored.data)
      salvage.forget(key)
      readOnly.delete(key)
      await prune(key, true).catch((error: unknown) =>
        emit({ type: 'backup.failed', key, error: toSaveflowError(error) }),
      )
      return { ...restored, path } as LoadSuccess<DataOf<K>>
    }
    // Scenario A: the current file verifies; it becomes a backup, so the restore can be undone.
    // Scenario B: it is damaged (or from a future version); a copy goes to quarantine and the file is then
    // replaced, so no crash in between leaves the document without a file.
    // Scenario C: it cannot be read right now (permission, busy, I/O); its state is unknown, so nothing changes.
    const current = await readDocumentFile(storage, definition, path)
    const currentValid = current.ok ? await checkSnapshot(definition, current, path) : current
    if (current.ok && currentValid.ok) {
      await schedule.link(key, path, current.snapshot.revision, 'restore')
    } else if (!currentValid.ok && currentValid.error.code !== 'not-found') {
      const code = currentValid.error.code
      if (!UNREADABLE_FILE.has(code) && code !== 'invalid-data') throw currentValid.error
      const result = await copyToQuarantine(storage, path, `replaced-${code}`, now())
      emit({ type: 'quarantined', key, result })
    }
    await wrapIo(storage.writeAtomic(path, file.bytes))
    readOnly.delete(key)
    // Pruned only now: before the write, the oldest backup may be the very one being restored.
    await prune(key, true).catch((error: unknown) =>
      emit({ type: 'backup.failed', key, error: toSaveflowError(error) }),
    )
    return { ...restored, path } as LoadSuccess<DataOf<K>>
  }

  async function backupNow(key: string): Promise<BackupInfo | null> {
    const definition = definitionFor(key)
    const path = documentPath(key)
    if (journaled(definition)) return journals.backupNow(key, definition)
    const current = await readDocumentFile(storage, definition, path)
    if (!current.ok) {
      if (current.error.code === 'not-found') return null
      throw current.error
    }
    const taken = await schedule.link(key, path, current.snapshot.revision, 'manual')
    await prune(key, true)
    return taken
  }

  return {
    storage,
    config,
    definitionFor,
    pathOf: documentPath,
    validate,
    load,
    save,
    validateFn: ({ key, kind, data }) => validate(checkKind(key, kind), data),
    writeFn: async ({ key, kind, data, revision, signal }) =>
      save(checkKind(key, kind), data, revision, signal),
    quarantine,
    quarantineBackup,
    compact: async (key, signal) => {
      const definition = definitionFor(key)
      const blocked = readOnly.get(key)
      if (blocked !== undefined) throw blocked
      return journaled(definition) ? wrapIo(journals.compact(key, definition, signal)) : { bytes: 0 }
    },
    appendPatches: async (key, patches, baseRevision, revision, signal) => {
      const definition = definitionFor(key)
      const blocked = readOnly.get(key)
      if (blocked !== undefined) throw blocked
      if (!journaled(definition)) {
        throw new SaveflowError('invalid-id', {
          message: `A ${definition.kind} document is saved whole; it takes no patches.`,
          details: { key },
        })
      }
      throwIfAborted(signal)
      return wrapIo(journals.appendPatches(key, definition, patches, baseRevision, revision, signal))
    },
    listBackups: async (key) => (definitionFor(key).backup.enabled ? wrapIo(listBackups(storage, key)) : []),
    readBackup,
    restoreBackup,
    backupNow: (key) => wrapIo(backupNow(key)),
    listQuarantine: () => wrapIo(listQuarantine(storage)),
    removeTempFiles: () => wrapIo(storage.removeTempFiles()),
  }
}

/** Load errors after which the key refuses saves until a later load or a restore succeeds. */
const READ_ONLY_ON_LOAD: ReadonlySet<SaveflowErrorCode> = new Set(['future-version', 'too-large'])

/** Codes of a file that exists but cannot be kept as a verified backup: quarantined before a restore replaces it. */
const UNREADABLE_FILE: ReadonlySet<SaveflowErrorCode> = new Set(['corrupt', 'too-large', 'future-version'])

/** A request whose kind disagrees with its key is a wiring bug; refusing it keeps data out of the wrong file. */
function checkKind(key: string, kind: string): string {
  if (parseDocumentKey(key).kind !== kind) {
    throw new SaveflowError('invalid-id', {
      message: `The key "${key}" is not a ${kind} document.`,
      details: { key, kind },
    })
  }
  return key
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new SaveflowError('aborted', { cause: signal.reason })
}

async function wrapIo<T>(promise: Promise<T>): Promise<T> {
  try {
    return await promise
  } catch (error) {
    throw toSaveflowError(error)
  }
}
