import { type Actor, createActor } from 'xstate'
import {
  type FutureVersionReason,
  type BackupInfo as LoadBackupInfo,
  type LoadResult as LoadMachineResult,
  loadActorsFrom,
  loadMachine,
  type RecoveryReport,
} from '../../machines/loadMachine'
import type { PersistenceConfigInput } from './config'
import { createDocumentValidator } from './document-validator'
import { type DataOf, definitionFor } from './documents'
import { SaveflowError, type SaveflowErrorData, toSaveflowError } from './errors'
import {
  backupInfoOf,
  type LoadStepsRepository,
  loadStepsFromRepository,
  schemaVersionOf,
} from './load-steps'
import { parseDocumentKey } from './paths'
import type { Repository } from './repository-types'
import {
  type Clock,
  createSaveCoordinator,
  type SaveCoordinator,
  type SaveOutcome,
  type ValidateFn,
  type WriteFn,
} from './save-coordinator'
import type { SaveCoordinatorSnapshot } from './save-selectors'
import { userSettingsSchema } from './schemas'

/**
 * A workspace session: one save coordinator and the loads of its documents, wired together so that a document never
 * saves before it has loaded (DESIGN.md "Loading and recovery"). Browser-safe: in a page the repository is the rpc
 * client, on Node it is the real repository. The zustand binding and the workspace app talk to this object only.
 *
 * The life of a document:
 * 1. {@link WorkspaceSession.open} registers it with the coordinator as not loaded, then runs the load machine
 *    (reading, verifying, recovering from backups). Edits made meanwhile are kept and saved after the load.
 * 2. Ready: the coordinator is told the revision on disk (`markLoaded`) and saving may begin. A file from a newer
 *    app opens read-only: the coordinator never writes it.
 * 3. Needs the user: nothing valid was left. Nothing is written until the user picks a backup, starts empty or retries
 *    (the methods of the {@link NeedsUserDocument}); the damaged file stays in quarantine.
 */

/**
 * What a session needs of a repository: the load steps' subset plus `save`. `validate` is optional (the rpc client
 * has none, the server validates again); without it data is checked with the built-in schemas before it is sent.
 */
export type SessionRepository = LoadStepsRepository &
  Pick<Repository, 'save'> &
  Partial<Pick<Repository, 'validate'>>

/** Options of {@link createWorkspaceSession}. */
export interface WorkspaceSessionOptions {
  repository: SessionRepository
  /** The workspace's persistence settings (debounce, retry, concurrency). @default the defaults */
  config?: PersistenceConfigInput
  /** The actor clock; a `SimulatedClock` in tests and stories. @default the real clock */
  clock?: Clock
  /** Current time in ms; must agree with `clock`. Also stamps the empty documents. @default the clock's, else Date.now */
  now?: () => number
  /** Jitter source in [0, 1) for retries. @default Math.random */
  random?: () => number
  /** Writes one revision durably. @default `repository.save` */
  write?: WriteFn
  /**
   * Checks data before it is written. @default `repository.validate`, else the built-in schema of the key (the
   * project and conversations checked by their change after their first save, as `Repository.validate` does)
   */
  validate?: ValidateFn
  /** The data of a new document, per key. @default {@link emptyDocumentData} */
  emptyData?: (key: string) => unknown
  /** Why the session starts read-only (another process holds the workspace lock), if it does. @default null */
  readOnly?: SaveflowErrorData | null
}

/** Options of {@link WorkspaceSession.open}. */
export interface OpenOptions<T = unknown> {
  /** The data of the document when it is new (first run) or the user starts empty. @default the session's */
  emptyData?: T
  /** Per-document overrides of the persistence settings (a longer debounce for a cache). */
  config?: PersistenceConfigInput
}

/** A backup as the session lists it (and the recovery dialog shows it). */
export type SessionBackup = LoadBackupInfo

/** A document that loaded: its data may be edited, and saving has begun (unless it is read-only). */
export interface ReadyDocument<T = unknown> {
  status: 'ready'
  key: string
  /**
   * The document's newest data: what loaded, or an edit made while it was loading (that edit is kept and saved
   * next). A store sets its state to this.
   */
  data: T
  /** The coordinator's revision of `data`. */
  revision: number
  /** The revision of the file that loaded (0 for new, empty data). */
  savedRevision: number
  /** Where the data came from: the file, a backup restored over it, or empty data. */
  source: 'primary' | 'backup' | 'empty'
  /** The schema version the file was migrated from, in memory; the file keeps it until the next save. */
  migratedFrom: number | null
  /** What recovery found and did, when the file could not be used as it was. */
  recovery: RecoveryReport | null
  /** Set when the file comes from a newer app: it is shown, never saved over. */
  readOnly: FutureVersionReason | null
  /** True when an edit arrived before the load finished: `data` is that edit, not the file's. */
  editedWhileLoading: boolean
}

/**
 * Nothing valid was left of a document: the user chooses. Each method continues the same load and resolves with
 * its next result (a picked backup that fails verification gives `needsUser` again, with it listed as tried).
 */
export interface NeedsUserDocument<T = unknown> {
  status: 'needsUser'
  key: string
  /** What was wrong and what was tried (`needsUser: true`). */
  recovery: RecoveryReport
  /** Every backup, newest first, including those recovery rejected (see `recovery.triedBackups`). */
  backups: SessionBackup[]
  /**
   * Verifies the backup, restores it over the (quarantined) primary and opens it: the load's `load.useBackup`.
   * Not named `useBackup`, which linters take for a React hook at every call site.
   */
  chooseBackup(id: string): Promise<OpenResult<T>>
  /** Opens empty data; nothing is written until the first edit, and the quarantined file stays. */
  startEmpty(): Promise<OpenResult<T>>
  /** Reads the document again from the start (after the user repaired or put back a file). */
  retry(): Promise<OpenResult<T>>
}

/**
 * The document could not be read (permission denied, an I/O error, too large, or recovery could not move or restore
 * a file). The file was not touched; nothing is written until a retry loads it.
 */
export interface FailedDocument<T = unknown> {
  status: 'failed'
  key: string
  error: SaveflowErrorData
  /** What recovery had found before it failed, if it had begun. */
  recovery: RecoveryReport | null
  retry(): Promise<OpenResult<T>>
}

/** What {@link WorkspaceSession.open} resolves with. */
export type OpenResult<T = unknown> = ReadyDocument<T> | NeedsUserDocument<T> | FailedDocument<T>

/** What {@link WorkspaceSession.restoreBackup} resolves with. */
export interface RestoredDocument<T = unknown> {
  key: string
  /** The restored data: a store replaces its state with it. */
  data: T
  /** The revision in the restored file. */
  revision: number
  /** The backup that was restored. */
  backupId: string
  /**
   * The backup made of the version the restore replaced, when there was a valid one: restoring it undoes this
   * restore. Null when the replaced file was damaged (a copy went to quarantine) or missing.
   */
  undoId: string | null
}

/** A backup read for a preview, without restoring it. */
export type BackupPreview<T = unknown> =
  | { ok: true; data: T; revision: number; savedAt: number | null }
  | { ok: false; error: SaveflowErrorData }

/** Events of a session, for the recovery dialog, toasts and logs. Save events come from `coordinator.on`. */
export type WorkspaceSessionEvent =
  /** A document is ready (every successful open, recovered or not). */
  | { type: 'document.loaded'; key: string; document: ReadyDocument }
  /** A document was opened from a backup, or opened empty after damage: show a toast or the dialog. */
  | { type: 'document.recovered'; key: string; report: RecoveryReport }
  /** Nothing valid was left: show the recovery dialog. */
  | { type: 'document.needsUser'; key: string; report: RecoveryReport; backups: SessionBackup[] }
  /** A document could not be read. */
  | { type: 'document.loadFailed'; key: string; error: SaveflowErrorData }
  /** A backup was restored over an open document. */
  | { type: 'document.restored'; key: string; restored: RestoredDocument }

/** Options of {@link WorkspaceSession.close} and the flushes. */
export interface FlushOptions {
  /** Longest wait, in ms (actor clock); still-unsaved documents are reported as `timeout`. */
  deadlineMs?: number
}

/** The session's typed API. */
export interface WorkspaceSession {
  /** The coordinator, for the UI (`SaveflowProvider`, badges, toasts via `coordinator.on`). */
  readonly coordinator: SaveCoordinator
  /**
   * Registers the document (not loaded) and loads it; opening an open key returns its current load. Rejects only
   * for a bad key (`invalid-id`); every load problem is a result.
   */
  open<K extends string>(key: K, options?: OpenOptions<DataOf<K>>): Promise<OpenResult<DataOf<K>>>
  /** The newest result of the document's load (it may have moved on from what `open` resolved with). */
  result<K extends string>(key: K): Promise<OpenResult<DataOf<K>>>
  /** The document's newest data in this session (`undefined` before it loaded and was not edited). */
  data<K extends string>(key: K): DataOf<K> | undefined
  /** Every open key. */
  keys(): string[]
  /**
   * Records new data for an open document (also while it loads: it is saved after the load); returns its revision.
   * Throws `not-found` for a key that was not opened.
   */
  change<K extends string>(key: K, data: DataOf<K>): number
  /** Saves one document now; resolves when it is durable, failed, or the deadline passed. */
  flush(key: string, options?: FlushOptions): Promise<SaveOutcome>
  /** Saves every unsaved document now; one outcome per document. */
  flushAll(options?: FlushOptions): Promise<SaveOutcome[]>
  /** Retries a failed save now. */
  retry(key: string): void
  /** The document's backups, newest first. */
  listBackups(key: string): Promise<SessionBackup[]>
  /** Reads and verifies one backup without restoring it (the dialog's preview). */
  readBackup<K extends string>(key: K, id: string): Promise<BackupPreview<DataOf<K>>>
  /**
   * Puts a backup in place of the document. On an open document: writes are paused, a write in flight is awaited,
   * the backup is verified and restored (the replaced file becomes a backup itself, so the restore can be undone),
   * the document's data becomes the restored data (newer unsaved edits are dropped: the restore wins), and writes
   * resume. On a document that needs the user it is {@link NeedsUserDocument.chooseBackup}. Rejects with the backup's
   * error when it does not verify; nothing changed then.
   */
  restoreBackup<K extends string>(key: K, id: string): Promise<RestoredDocument<DataOf<K>>>
  /** The latest recovery report of every document that needed recovery in this session. */
  recoveryReports(): RecoveryReport[]
  /** Listens to session events (`'*'` for all); returns the unsubscribe function. */
  on<T extends WorkspaceSessionEvent['type']>(
    type: T | '*',
    handler: (event: Extract<WorkspaceSessionEvent, { type: T }>) => void,
  ): () => void
  /** Marks the whole session read-only (`locked`), or writable again with `null`; loads still work. */
  setReadOnly(reason: SaveflowErrorData | null): void
  /** Why the session is read-only, or null. */
  readonly readOnly: SaveflowErrorData | null
  /** Flushes one document, then forgets it (a conversation the user closed). */
  closeDocument(key: string, options?: FlushOptions): Promise<SaveOutcome>
  /**
   * Flushes every document (bounded by `deadlineMs`, default 5000), then stops every actor. Returns the flush
   * outcomes. Safe to call twice: the second call returns the first one's outcomes.
   */
  close(options?: FlushOptions): Promise<SaveOutcome[]>
}

const DEFAULT_CLOSE_DEADLINE_MS = 5000

/** One open document as the session tracks it. */
interface Entry {
  key: string
  actor: Actor<typeof loadMachine>
  /** Newest data known to the session (`undefined` until it loaded or was edited). */
  data: unknown
  loaded: boolean
  editedWhileLoading: boolean
  readOnly: FutureVersionReason | null
  /** The result of the load's current settled state, or null while a step runs. */
  settled: OpenResult | null
  waiters: Array<(result: OpenResult) => void>
}

/**
 * The data of a new document: complete default settings, an empty project named "Untitled", an empty conversation,
 * `null` for a cache. `at` stamps the dates.
 */
export function emptyDocumentData(key: string, at: number): unknown {
  const { kind, id } = parseDocumentKey(key)
  const iso = new Date(at).toISOString()
  switch (kind) {
    case 'settings':
      return userSettingsSchema.parse({})
    case 'project':
      return {
        metadata: { id: 'project', name: 'Untitled', description: '', createdAt: iso, updatedAt: iso },
        tree: [],
        conversations: [],
        settings: { language: 'en', defaultModel: null, systemPrompt: '' },
        version: 0,
        lastSaved: iso,
      }
    case 'conversation':
      return { id, title: '', nodeId: null, messages: [], createdAt: iso, updatedAt: iso }
    case 'cache':
      return null
  }
}

/** Creates a session: the coordinator starts now; documents load when they are opened. */
export function createWorkspaceSession(options: WorkspaceSessionOptions): WorkspaceSession {
  const { repository } = options
  const clock = options.clock
  const now = options.now ?? nowOf(clock)
  const write: WriteFn =
    options.write ?? (({ key, data, revision, signal }) => repository.save(key, data, revision, signal))
  // Without the repository's own validation (an rpc client), the built-in schemas check in this process, the
  // project and conversations by their change after their first save (see `document-validator.ts`).
  const local =
    repository.validate === undefined ? createDocumentValidator((key) => definitionFor(key)) : null
  const validate: ValidateFn =
    options.validate ??
    (local !== null
      ? ({ key, data }) => local.validate(key, data)
      : ({ key, data }) => repository.validate!(key, data))
  const coordinator = createSaveCoordinator({
    write,
    validate,
    ...(options.config === undefined ? {} : { config: options.config }),
    ...(clock === undefined ? {} : { clock }),
    ...(options.random === undefined ? {} : { random: options.random }),
    now,
  })
  let readOnly: SaveflowErrorData | null = options.readOnly ?? null
  if (readOnly !== null) coordinator.setReadOnly(readOnly)
  // Recovery moves and writes files; a read-only session must leave that to the process holding the lock.
  const steps = loadStepsFromRepository(repository, { writable: () => readOnly })
  const machine = loadMachine.provide({ actors: loadActorsFrom(steps) })
  const entries = new Map<string, Entry>()
  const reports = new Map<string, RecoveryReport>()
  const listeners = new Set<(event: WorkspaceSessionEvent) => void>()
  let closing: Promise<SaveOutcome[]> | null = null

  const emit = (event: WorkspaceSessionEvent) => {
    for (const listener of [...listeners]) {
      try {
        listener(event)
      } catch (error) {
        // A listener's bug must not stop a load half-way; it still surfaces as an uncaught error.
        queueMicrotask(() => {
          throw error
        })
      }
    }
  }

  const entryOf = (key: string): Entry => {
    const entry = entries.get(key)
    if (entry === undefined) {
      throw new SaveflowError('not-found', {
        message: `The document "${key}" is not open.`,
        details: { key },
      })
    }
    return entry
  }

  /** The current settled result, or the next one once the running step ends. */
  const current = (entry: Entry): Promise<OpenResult> =>
    entry.settled === null
      ? new Promise((resolve) => entry.waiters.push(resolve))
      : Promise.resolve(entry.settled)

  /** Sends a user's answer to the load, unless it already finished (then the answer has nothing to change). */
  const answer = (entry: Entry, event: Parameters<Actor<typeof loadMachine>['send']>[0]) => {
    if (entry.actor.getSnapshot().status === 'active') entry.actor.send(event)
    return current(entry)
  }

  function needsUserResult(entry: Entry): NeedsUserDocument {
    const { context } = entry.actor.getSnapshot()
    const recovery: RecoveryReport = {
      key: entry.key,
      problem: context.problem!,
      ...(context.quarantinedTo === null ? {} : { quarantinedTo: context.quarantinedTo }),
      triedBackups: context.triedBackups,
      needsUser: true,
      startedEmpty: false,
    }
    return {
      status: 'needsUser',
      key: entry.key,
      recovery,
      backups: context.backups,
      chooseBackup(id) {
        const known = entry.actor.getSnapshot().context.backups.some((backup) => backup.id === id)
        if (!known && entry.actor.getSnapshot().matches('needsUser')) {
          return Promise.reject(
            new SaveflowError('invalid-id', {
              message: 'That is not a backup of this document.',
              details: { key: entry.key, id: String(id).slice(0, 80) },
            }),
          )
        }
        return answer(entry, { type: 'load.useBackup', backupId: id })
      },
      startEmpty: () => answer(entry, { type: 'load.startEmpty' }),
      retry: () => answer(entry, { type: 'load.retry' }),
    }
  }

  function failedResult(entry: Entry, error: SaveflowErrorData): FailedDocument {
    const { context } = entry.actor.getSnapshot()
    const recovery: RecoveryReport | null =
      context.problem === null
        ? null
        : {
            key: entry.key,
            problem: context.problem,
            ...(context.quarantinedTo === null ? {} : { quarantinedTo: context.quarantinedTo }),
            triedBackups: context.triedBackups,
            needsUser: context.needsUser,
            startedEmpty: false,
          }
    return {
      status: 'failed',
      key: entry.key,
      error,
      recovery,
      retry: () => answer(entry, { type: 'load.retry' }),
    }
  }

  /** The load finished: let saving begin (or keep the document read-only), then tell the listeners. */
  function becomeReady(entry: Entry, output: LoadMachineResult): ReadyDocument {
    const { key } = entry
    if (output.readOnly !== null) {
      entry.readOnly = output.readOnly
      // Before markLoaded: the save actor must never pass through a writable "loaded" state for this file.
      coordinator.setDocumentReadOnly(
        key,
        new SaveflowError('future-version', { details: { ...output.readOnly } }).toJSON(),
      )
    }
    coordinator.markLoaded(key, { revision: output.revision })
    entry.loaded = true
    if (!entry.editedWhileLoading) {
      entry.data = output.data
    }
    const document: ReadyDocument = {
      status: 'ready',
      key,
      data: entry.data,
      revision: coordinator.status(key).pendingRevision,
      savedRevision: output.revision,
      source: output.source,
      migratedFrom: output.migratedFrom,
      recovery: output.recovery,
      readOnly: output.readOnly,
      editedWhileLoading: entry.editedWhileLoading,
    }
    if (output.recovery !== null) reports.set(key, output.recovery)
    emit({ type: 'document.loaded', key, document })
    if (output.recovery !== null) emit({ type: 'document.recovered', key, report: output.recovery })
    return document
  }

  /**
   * Follows one load actor. A result is produced once per settled state (ready, needsUser, failed): a state the
   * actor merely stays in (an answer it ignored) is not reported twice.
   */
  function follow(entry: Entry) {
    const onSnapshot = () => {
      const snapshot = entry.actor.getSnapshot()
      let result: OpenResult | null = null
      if (snapshot.status === 'done') {
        if (entry.loaded) return
        result = becomeReady(entry, snapshot.output)
      } else if (snapshot.status === 'error') {
        if (entry.settled !== null) return
        result = failedResult(entry, toSaveflowError(snapshot.error).toJSON())
        emit({ type: 'document.loadFailed', key: entry.key, error: result.error })
      } else if (snapshot.matches('needsUser')) {
        if (entry.settled !== null) return
        const needsUser = needsUserResult(entry)
        result = needsUser
        reports.set(entry.key, needsUser.recovery)
        emit({
          type: 'document.needsUser',
          key: entry.key,
          report: needsUser.recovery,
          backups: needsUser.backups,
        })
      } else if (snapshot.matches('failed')) {
        if (entry.settled !== null) return
        const error = snapshot.context.error ?? new SaveflowError('io').toJSON()
        result = failedResult(entry, error)
        emit({ type: 'document.loadFailed', key: entry.key, error })
      } else {
        entry.settled = null
        return
      }
      entry.settled = result
      const waiters = entry.waiters.splice(0)
      for (const resolve of waiters) resolve(result)
    }
    entry.actor.subscribe({ next: onSnapshot, error: onSnapshot, complete: onSnapshot })
  }

  function open(key: string, openOptions: OpenOptions = {}): Promise<OpenResult> {
    const existing = entries.get(key)
    if (existing !== undefined) return current(existing)
    if (closing !== null) return Promise.reject(new SaveflowError('aborted', { details: { key } }))
    let kind: ReturnType<typeof parseDocumentKey>['kind']
    let schemaVersion: number
    try {
      kind = parseDocumentKey(key).kind
      schemaVersion = schemaVersionOf(repository, key)
    } catch (error) {
      return Promise.reject(toSaveflowError(error))
    }
    // Registered before the first read, as not loaded: edits from now on are kept, and none is written before the
    // load decided what is on disk (zustand issue 562 is what happens otherwise).
    coordinator.register(key, {
      kind,
      loaded: false,
      ...(openOptions.config === undefined ? {} : { config: openOptions.config }),
    })
    const emptyData =
      'emptyData' in openOptions
        ? openOptions.emptyData
        : (options.emptyData?.(key) ?? emptyDocumentData(key, now()))
    const actor = createActor(machine, {
      input: { key, schemaVersion, emptyData },
      ...(clock === undefined ? {} : { clock }),
    })
    const entry: Entry = {
      key,
      actor,
      data: undefined,
      loaded: false,
      editedWhileLoading: false,
      readOnly: null,
      settled: null,
      waiters: [],
    }
    entries.set(key, entry)
    follow(entry)
    actor.start()
    return current(entry)
  }

  /** Stops a document's load; anyone still waiting for it gets an `aborted` failure instead of waiting forever. */
  function stopLoad(entry: Entry) {
    entry.actor.stop()
    if (entry.settled !== null) return
    const result: FailedDocument = {
      ...failedResult(entry, new SaveflowError('aborted', { details: { key: entry.key } }).toJSON()),
      retry: () => Promise.resolve(result),
    }
    entry.settled = result
    for (const resolve of entry.waiters.splice(0)) resolve(result)
  }

  /** Resolves once no write of `key` holds a slot: a write granted before a pause still runs to its end. */
  function writeSettled(key: string): Promise<void> {
    const idle = () =>
      !(coordinator.actor.getSnapshot() as SaveCoordinatorSnapshot).context.holders.some(
        (holder) => holder.key === key,
      )
    if (idle()) return Promise.resolve()
    return new Promise((resolve) => {
      const unsubscribe = coordinator.subscribe(() => {
        if (!idle()) return
        unsubscribe()
        resolve()
      })
    })
  }

  async function restoreOpen(entry: Entry, id: string): Promise<RestoredDocument> {
    const { key } = entry
    // A restore writes the primary: only the process holding the workspace may.
    if (readOnly !== null) throw toSaveflowError(readOnly)
    coordinator.pause()
    try {
      await writeSettled(key)
      const before = new Set((await repository.listBackups(key)).map((backup) => backup.name))
      const restored = await repository.restoreBackup(key, id)
      const undo = (await repository.listBackups(key)).find(
        (backup) => !before.has(backup.name) && backup.name !== id,
      )
      // Unsaved edits (made before or during the restore) would overwrite the restored file once writes resume:
      // the restored data becomes the newest revision instead. Saving it again writes the same data.
      const status = coordinator.status(key)
      if (status.pendingRevision > status.savedRevision) coordinator.change(key, restored.data)
      if (entry.readOnly !== null) {
        // The repository accepts saves of the key again after a restore; so does the coordinator now.
        entry.readOnly = null
        coordinator.setDocumentReadOnly(key, null)
      }
      entry.data = restored.data
      const result: RestoredDocument = {
        key,
        data: restored.data,
        revision: restored.revision,
        backupId: id,
        undoId: undo?.name ?? null,
      }
      emit({ type: 'document.restored', key, restored: result })
      return result
    } catch (error) {
      throw toSaveflowError(error)
    } finally {
      coordinator.resume()
    }
  }

  async function restoreBackup(key: string, id: string): Promise<RestoredDocument> {
    const entry = entryOf(key)
    if (entry.loaded) return restoreOpen(entry, id)
    const settled = await current(entry)
    if (settled.status === 'needsUser') {
      const next = await settled.chooseBackup(id)
      if (next.status === 'ready') {
        const result: RestoredDocument = {
          key,
          data: next.data,
          revision: next.savedRevision,
          backupId: id,
          undoId: null,
        }
        emit({ type: 'document.restored', key, restored: result })
        return result
      }
      const rejected = next.recovery?.triedBackups.findLast((tried) => tried.backup.id === id)
      throw toSaveflowError(rejected?.rejectedFor ?? (next.status === 'failed' ? next.error : 'corrupt'))
    }
    if (settled.status === 'ready') return restoreOpen(entry, id)
    throw toSaveflowError(settled.error)
  }

  return {
    coordinator,
    open: open as WorkspaceSession['open'],
    result: ((key: string) => current(entryOf(key))) as WorkspaceSession['result'],
    data: ((key: string) => entries.get(key)?.data) as WorkspaceSession['data'],
    keys: () => [...entries.keys()],
    change(key, data) {
      const entry = entryOf(key)
      const revision = coordinator.change(key, data)
      entry.data = data
      if (!entry.loaded) entry.editedWhileLoading = true
      return revision
    },
    flush: (key, flushOptions) => coordinator.flush(key, flushOptions),
    flushAll: (flushOptions) => coordinator.flushAll(flushOptions),
    retry: (key) => coordinator.retry(key),
    async listBackups(key) {
      try {
        return (await repository.listBackups(key)).map(backupInfoOf)
      } catch (error) {
        throw toSaveflowError(error)
      }
    },
    async readBackup(key, id) {
      const read = await repository.readBackup(key, id)
      if (!read.ok) return { ok: false, error: toSaveflowError(read.error).toJSON() }
      const savedAt = Date.parse(read.savedAt)
      return {
        ok: true,
        data: read.data,
        revision: read.revision,
        savedAt: Number.isNaN(savedAt) ? null : savedAt,
      } as BackupPreview<never>
    },
    restoreBackup: restoreBackup as WorkspaceSession['restoreBackup'],
    recoveryReports: () => [...reports.values()],
    on(type, handler) {
      const listener = (event: WorkspaceSessionEvent) => {
        if (type === '*' || event.type === type) (handler as (event: WorkspaceSessionEvent) => void)(event)
      }
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    setReadOnly(reason) {
      readOnly = reason
      coordinator.setReadOnly(reason)
      // A workspace-wide "writable" reaches every document; a file from a newer app must stay read-only.
      if (reason === null) {
        for (const entry of entries.values()) {
          if (entry.readOnly === null) continue
          coordinator.setDocumentReadOnly(
            entry.key,
            new SaveflowError('future-version', { details: { ...entry.readOnly } }).toJSON(),
          )
        }
      }
    },
    get readOnly() {
      return readOnly
    },
    async closeDocument(key, flushOptions = {}) {
      const entry = entryOf(key)
      const outcome = await coordinator.unregister(key, flushOptions)
      stopLoad(entry)
      entries.delete(key)
      return outcome
    },
    close(closeOptions = {}) {
      closing ??= (async () => {
        const outcomes = await coordinator.flushAll({
          deadlineMs: closeOptions.deadlineMs ?? DEFAULT_CLOSE_DEADLINE_MS,
        })
        for (const entry of entries.values()) stopLoad(entry)
        coordinator.stop()
        return outcomes
      })()
      return closing
    },
  }
}

/** A `SimulatedClock` knows the time: using it keeps `now` and the timers in agreement. */
function nowOf(clock: Clock | undefined): () => number {
  const withNow = clock as (Clock & { now?: () => number }) | undefined
  return typeof withNow?.now === 'function' ? () => withNow.now!() : Date.now
}
