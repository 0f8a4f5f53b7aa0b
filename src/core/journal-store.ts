import type { BackupSchedule } from './backup-schedule'
import type { BackupInfo } from './backups'
import {
  applyConversationPatches,
  type ConversationPatch,
  conversationPatchSchema,
  diffConversation,
} from './conversation-log'
import type { CheckHooks, LoadResult, LoadSuccess } from './document-reader'
import type { DocumentDefinition } from './documents'
import { SaveflowError, toSaveflowError } from './errors'
import { readJournaled } from './journal-read'
import { type DocState, type WriteContext, writeBatch, writeCompacted } from './journal-write'
import { companionPaths, documentPath } from './paths'
import { applyProjectPatches } from './project-journal'
import { copyToQuarantine, moveToQuarantine, type QuarantineResult } from './quarantine'
import type { RepositoryEvent } from './repository-types'
import type { WriteResult } from './save-coordinator'
import type { Conversation, ProjectData } from './schemas'
import type { StorageBackend } from './storage'
import { diffProject, isKeyedArray, type ProjectPatch, projectPatchSchema } from './tree-diff'

/**
 * The journaled documents (a conversation log, the project's snapshot plus journal) behind the repository's
 * `load`, `save`, `compact`, `appendPatches`, `backupNow`, `restoreBackup` and `quarantine`. The repository keeps
 * its public surface; this module keeps, per key, the data known to be on disk (the base the next save is diffed
 * against) and what must happen before the next append.
 *
 * Every operation on one key runs after the previous one on that key has settled, so an idle-time compaction can
 * never interleave with a save.
 */

/** When the journaled documents are compacted. */
export interface CompactionOptions {
  /**
   * A conversation log is rewritten when its dead records (edits, deletions, superseded field records, empty
   * saves) reach this many... @default 64
   */
  logDeadRecords?: number
  /** ...and this fraction of its live records (the header and one per message). @default 0.5 */
  logDeadRatio?: number
  /** The project journal is folded into `project.json` when it would pass this many bytes... @default 1 MiB */
  journalMaxBytes?: number
  /** ...or this many records. @default 2000 */
  journalMaxRecords?: number
}

/** {@link CompactionOptions} with every field set. */
export type CompactionConfig = Required<CompactionOptions>

/** Fills in the defaults of {@link CompactionOptions}. */
export function resolveCompaction(options: CompactionOptions = {}): CompactionConfig {
  return {
    logDeadRecords: options.logDeadRecords ?? 64,
    logDeadRatio: options.logDeadRatio ?? 0.5,
    journalMaxBytes: options.journalMaxBytes ?? 1024 * 1024,
    journalMaxRecords: options.journalMaxRecords ?? 2000,
  }
}

/** A patch of either journaled kind, as `Repository.appendPatches` takes it. */
export type DocumentPatch = ProjectPatch | ConversationPatch

/**
 * The patches that turn `prev` into `next` for the document behind `key`, or `null` when only a whole save can say
 * it (a snapshot kind, a conversation whose messages were reordered). Computed beside the state, so unchanged
 * objects shared by reference cost one comparison each.
 */
export function diffPatches(key: string, prev: unknown, next: unknown): DocumentPatch[] | null {
  const lists =
    key === 'project' ? ['tree', 'conversations'] : key.startsWith('conversation/') ? ['messages'] : []
  // Data saved with validation off may lack the keyed lists a diff walks: it is then written whole.
  if (lists.length === 0 || !hasKeyedLists(prev, lists) || !hasKeyedLists(next, lists)) return null
  if (key === 'project') return diffProject(prev as ProjectData, next as ProjectData)
  return diffConversation(prev as Conversation, next as Conversation)
}

function hasKeyedLists(value: unknown, lists: readonly string[]): boolean {
  if (typeof value !== 'object' || value === null) return false
  return lists.every((list) => isKeyedArray((value as Record<string, unknown>)[list]))
}

/** What the store needs from the repository. */
export interface JournalStoreOptions {
  storage: StorageBackend
  now: () => number
  schedule: BackupSchedule
  emit: (event: RepositoryEvent) => void
  compaction: CompactionConfig
  /** Checks data before it is written whole (`WriteContext.checkWhole`). @default none */
  checkWhole?: WriteContext['checkWhole']
}

/** The journaled half of the repository. */
export interface JournalStore {
  load(key: string, definition: DocumentDefinition): Promise<LoadResult>
  /**
   * Saves validated data. `known`: the patches from `known.base` to `data`, found by the validation; appended as
   * they are when `known.base` is the state on disk, instead of diffing again.
   */
  save(
    key: string,
    definition: DocumentDefinition,
    data: unknown,
    revision: number,
    signal?: AbortSignal,
    known?: { base: unknown; patches: readonly DocumentPatch[] },
  ): Promise<WriteResult>
  appendPatches(
    key: string,
    definition: DocumentDefinition,
    patches: readonly unknown[],
    baseRevision: number,
    revision: number,
    signal?: AbortSignal,
  ): Promise<WriteResult>
  compact(key: string, definition: DocumentDefinition, signal?: AbortSignal): Promise<WriteResult>
  backupNow(key: string, definition: DocumentDefinition): Promise<BackupInfo | null>
  /** Replaces the document with restored data (already read from a verified backup), keeping the current state. */
  restore(key: string, definition: DocumentDefinition, restored: LoadSuccess): Promise<void>
  quarantine(key: string, reason: string): Promise<QuarantineResult>
}

/** Load errors after which a save keeps the files in quarantine and starts over. */
const REPLACEABLE: ReadonlySet<string> = new Set(['corrupt', 'invalid-data'])
/** A restore (the user's choice) also replaces a file it cannot read (DESIGN.md "Loading and recovery"). */
const RESTORE_REPLACES: ReadonlySet<string> = new Set([...REPLACEABLE, 'future-version', 'too-large'])

/** Creates the journaled half of a repository. */
export function createJournalStore(options: JournalStoreOptions): JournalStore {
  const { storage, now, schedule, emit, compaction } = options
  const states = new Map<string, DocState>()
  const queues = new Map<string, Promise<unknown>>()
  const ctx: WriteContext = {
    storage,
    now,
    emit,
    compaction,
    ...(options.checkWhole === undefined ? {} : { checkWhole: options.checkWhole }),
  }
  /** A restore writes data the backup's load parsed whole, and first the current state as it is on disk. */
  const restoreCtx: WriteContext = { storage, now, emit, compaction }

  /** Runs `task` after every earlier task on `key` settled. */
  function serial<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = queues.get(key) ?? Promise.resolve()
    const run = previous.then(task, task)
    const settled = run.then(
      () => undefined,
      () => undefined,
    )
    queues.set(key, settled)
    void settled.then(() => {
      if (queues.get(key) === settled) queues.delete(key)
    })
    return run
  }

  function migrationHooks(key: string, definition: DocumentDefinition): CheckHooks {
    return {
      beforeMigrate: async (snapshot) => {
        // The file is a log or a journal, not the old document: the backup is the replayed data, encoded.
        if (definition.backup.enabled) {
          await schedule.write(key, definition.codec.encode(snapshot), snapshot.revision, 'migration')
          await schedule.prune(key, true)
        }
        emit({ type: 'migrated', key, from: snapshot.schemaVersion, to: definition.schemaVersion })
      },
    }
  }

  async function loadNow(key: string, definition: DocumentDefinition): Promise<LoadResult> {
    states.delete(key)
    const read = await readJournaled(storage, key, definition, migrationHooks(key, definition))
    if (read.state !== null) states.set(key, read.state)
    const damage = read.result.ok ? read.result.journal?.damage : undefined
    if (damage !== undefined) emit({ type: 'journal.damaged', key, error: damage })
    return read.result
  }

  /**
   * The state on disk, read if not known. `null`: nothing usable, and what was there (a damaged document, a
   * journal without its snapshot) is copied to quarantine first, since it is about to be replaced (rule 5). Which
   * load errors allow replacing: `corrupt` and `invalid-data` for a save; also `future-version` and `too-large` for
   * a restore, which the user chose. Any other error is thrown and nothing is replaced.
   */
  async function base(
    key: string,
    definition: DocumentDefinition,
    replace = REPLACEABLE,
  ): Promise<DocState | null> {
    const known = states.get(key)
    if (known !== undefined) return known
    const result = await loadNow(key, definition)
    if (result.ok) return states.get(key) ?? null
    const { code } = result.error
    if (code !== 'not-found' && !replace.has(code)) throw result.error
    const detail = result.error.details?.reason
    const reason = code === 'not-found' ? 'orphan-journal' : typeof detail === 'string' ? detail : code
    if (code !== 'not-found') emit({ type: 'backup.skipped', key, code })
    const { journal, legacy } = companionPaths(key)
    for (const path of code === 'not-found' ? [journal] : [documentPath(key), journal, legacy]) {
      if (path === undefined || (await storage.stat(path)) === null) continue
      emit({ type: 'quarantined', key, result: await copyToQuarantine(storage, path, reason, now()) })
    }
    return null
  }

  async function backupIfDue(key: string, definition: DocumentDefinition, state: DocState | null) {
    if (state === null) return
    try {
      if (!(await schedule.due(key, definition))) return
      await takeBackup(key, definition, state, 'interval')
      await schedule.prune(key, false)
    } catch (error) {
      // The next attempt waits an interval: the user's newest data matters more than an old copy.
      schedule.defer(key)
      emit({ type: 'backup.failed', key, error: toSaveflowError(error) })
    }
  }

  /**
   * A backup of the state on disk, written out as a snapshot. Never a hard link of `project.json`: unlike a snapshot
   * file about to be replaced, it stays the live file for many saves, and a link would share its blocks, so damage
   * to the one would be damage to the other.
   */
  async function takeBackup(
    key: string,
    definition: DocumentDefinition,
    state: DocState,
    reason: 'interval' | 'manual' | 'restore',
  ) {
    const bytes = definition.codec.encode({
      kind: definition.kind,
      schemaVersion: definition.schemaVersion,
      revision: state.revision,
      savedAt: state.savedAt,
      data: state.data,
    })
    return schedule.write(key, bytes, state.revision, reason)
  }

  async function write(
    key: string,
    definition: DocumentDefinition,
    data: unknown,
    revision: number,
    patches: readonly DocumentPatch[] | null,
    signal: AbortSignal | undefined,
  ): Promise<WriteResult> {
    const state = states.get(key) ?? null
    const input = { data, revision, savedAt: new Date(now()).toISOString() }
    const update = (next: DocState) => states.set(key, next)
    const bytes =
      state === null || patches === null || state.repair.kind === 'rewrite'
        ? await writeCompacted(ctx, key, definition, state, input, 'rewrite', update, signal)
        : await writeBatch(ctx, key, definition, state, input, patches, update, signal)
    return { bytes }
  }

  return {
    load: (key, definition) => serial(key, () => loadNow(key, definition)),

    save: (key, definition, data, revision, signal, known) =>
      serial(key, async () => {
        if (typeof data !== 'object' || data === null || Array.isArray(data)) {
          throw new SaveflowError('invalid-data', {
            message: `A ${definition.kind} document must be an object.`,
          })
        }
        const state = await base(key, definition)
        await backupIfDue(key, definition, state)
        throwIfAborted(signal)
        const patches =
          state === null
            ? null
            : known !== undefined && known.base === state.data
              ? known.patches
              : diffPatches(key, state.data, data)
        return write(key, definition, data, revision, patches, signal)
      }),

    appendPatches: (key, definition, patches, baseRevision, revision, signal) =>
      serial(key, async () => {
        const schema = definition.kind === 'project' ? projectPatchSchema : conversationPatchSchema
        const parsed = schema.array().safeParse(patches)
        if (!parsed.success) {
          throw new SaveflowError('invalid-data', {
            message: 'The patches are not valid.',
            cause: parsed.error,
            details: { reason: 'bad-patch', issues: parsed.error.issues.slice(0, 10).map((i) => i.message) },
          })
        }
        const state = await base(key, definition)
        if (state === null || state.revision !== baseRevision) {
          // The page diffed against a revision this side does not hold: it must send the whole document.
          throw new SaveflowError('invalid-data', {
            message: 'The patches start from a revision that is not the one on disk.',
            details: { reason: 'stale-base', baseRevision, diskRevision: state?.revision ?? null },
          })
        }
        const next =
          definition.kind === 'project'
            ? applyProjectPatches(state.data, parsed.data as ProjectPatch[])
            : applyConversationPatches(state.data, parsed.data as ConversationPatch[])
        const checked = definition.schema.safeParse(next)
        if (!checked.success) {
          throw new SaveflowError('invalid-data', {
            message: 'The patched document does not match its schema.',
            cause: checked.error,
            details: { reason: 'invalid-result' },
          })
        }
        await backupIfDue(key, definition, state)
        throwIfAborted(signal)
        return write(key, definition, checked.data, revision, parsed.data as DocumentPatch[], signal)
      }),

    compact: (key, definition, signal) =>
      serial(key, async () => {
        const state = await base(key, definition)
        if (state === null || (state.repair.kind === 'none' && state.records <= state.live))
          return { bytes: 0 }
        const update = (next: DocState) => states.set(key, next)
        return { bytes: await writeCompacted(ctx, key, definition, state, state, 'demand', update, signal) }
      }),

    backupNow: (key, definition) =>
      serial(key, async () => {
        const state = await base(key, definition)
        if (state === null) return null
        const taken = await takeBackup(key, definition, state, 'manual')
        await schedule.prune(key, true)
        return taken
      }),

    restore: (key, definition, restored) =>
      serial(key, async () => {
        // Scenario A: the current document loads; it becomes a backup, so the restore can be undone. A project
        // whose journal holds saves is compacted first, so a crash after the restored snapshot is in place leaves
        // a journal with nothing in it to misplace.
        // Scenario B: it is damaged; `base` keeps copies in quarantine. Scenario C: it cannot be read; nothing changes.
        const update = (next: DocState) => states.set(key, next)
        if ((await base(key, definition, RESTORE_REPLACES)) !== null) {
          if (key === 'project' && states.get(key)!.records > 1) {
            const state = states.get(key)!
            await writeCompacted(restoreCtx, key, definition, state, state, 'rewrite', update)
          }
          await takeBackup(key, definition, states.get(key)!, 'restore')
        }
        const input = { data: restored.data, revision: restored.revision, savedAt: restored.savedAt }
        await writeCompacted(restoreCtx, key, definition, states.get(key) ?? null, input, 'rewrite', update)
      }),

    quarantine: (key, reason) =>
      serial(key, async () => {
        states.delete(key)
        const { journal, legacy } = companionPaths(key)
        const primary =
          legacy !== undefined && (await storage.stat(documentPath(key))) === null
            ? legacy
            : documentPath(key)
        const result = await moveToQuarantine(storage, primary, reason, now())
        emit({ type: 'quarantined', key, result })
        // The journal without its snapshot is no document; it goes with it (after it: a crash in between leaves a
        // journal that the next write copies to quarantine before replacing it).
        if (journal !== undefined && (await storage.stat(journal)) !== null) {
          emit({ type: 'quarantined', key, result: await moveToQuarantine(storage, journal, reason, now()) })
        }
        return result
      }),
  }
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new SaveflowError('aborted', { cause: signal.reason })
}
