import { mkdir } from 'node:fs/promises'
import nodePath from 'node:path'
import type { PersistenceConfigInput } from '../core/config'
import type { DataOf, DocumentDefinitions } from '../core/documents'
import { type SaveflowErrorData, toSaveflowError } from '../core/errors'
import { conversationKey } from '../core/paths'
import { createRepository } from '../core/repository'
import type { Repository, RepositoryEvent } from '../core/repository-types'
import type { Clock, SaveCoordinator, SaveOutcome } from '../core/save-coordinator'
import type { Conversation, ProjectData, UserSettings } from '../core/schemas'
import type { StorageBackend } from '../core/storage'
import {
  createWorkspaceSession,
  type FlushOptions,
  type OpenResult,
  type WorkspaceSession,
} from '../core/workspace-session'
import { type ExitFlushOptions, installExitFlush } from './exit-flush'
import { createFsStorage, type FsStorageOptions } from './fs-backend'
import { acquireWorkspaceLock, type WorkspaceLock, type WorkspaceLockOptions } from './workspace-lock'

/**
 * Opens a workspace folder on Node: the folder, its lock, the crash cleanup, the fs backend, the repository and the
 * session, in the order that keeps the durability rules: nothing is written before the lock is ours, temp files
 * are removed before any save (and only by the lock holder, whose writes they could be), and every document loads
 * before it may save.
 */

/** How the exit flush is installed by {@link openWorkspace}. */
export type WorkspaceExitFlushOptions = Pick<
  ExitFlushOptions,
  'deadlineMs' | 'graceMs' | 'signals' | 'beforeExit' | 'exit'
>

/** Options of {@link openWorkspace}. */
export interface OpenWorkspaceOptions {
  /** Persistence settings (debounce, retry, backups). @default the defaults */
  config?: PersistenceConfigInput
  /** The actor clock. @default the real clock */
  clock?: Clock
  /** Current time in ms, for the repository and the session; must agree with `clock`. @default Date.now */
  now?: () => number
  /** Jitter source for retries. @default Math.random */
  random?: () => number
  /** Options of the workspace lock (heartbeat, stale age, host name); it always runs on wall-clock time. */
  lock?: Omit<WorkspaceLockOptions, 'onLost' | 'now'>
  /**
   * Flush on SIGINT/SIGTERM, release the lock and exit with 128 + the signal number; also flush once when the event
   * loop runs dry (`beforeExit`). `true` takes the defaults (5 s deadline). @default false
   */
  exitFlush?: boolean | WorkspaceExitFlushOptions
  /** Options of the fs backend (file and folder modes). */
  storage?: FsStorageOptions
  /** Wraps the fs backend, e.g. in `createFaultyStorage` for a fault panel or a test. */
  wrapStorage?: (storage: StorageBackend) => StorageBackend
  /** Receives the repository's events (backups, quarantine, migrations). Must not throw. */
  onRepositoryEvent?: (event: RepositoryEvent) => void
  /** Replaces built-in document definitions (a test's lower size limit). */
  definitions?: Partial<DocumentDefinitions>
  /** The data of a new document, per key. @default `emptyDocumentData` */
  emptyData?: (key: string) => unknown
}

/** An open workspace. */
export interface Workspace {
  /** The absolute workspace folder. */
  readonly dir: string
  /** Documents, saving and recovery. */
  readonly session: WorkspaceSession
  /** The session's save coordinator, for the UI. */
  readonly coordinator: SaveCoordinator
  readonly repository: Repository
  /** The backend the repository writes through (the wrapped one when `wrapStorage` was given). */
  readonly storage: StorageBackend
  /** The lock as acquired: `write`, or `read-only` with the holder. */
  readonly lock: WorkspaceLock
  /** Why this process may not write (`locked`: another process holds the workspace), or null. */
  readonly readOnly: SaveflowErrorData | null
  /** Temp files a crash had left, removed at open (none in a read-only workspace: they may be the writer's). */
  readonly removedTempFiles: readonly string[]
  /** How the settings opened. */
  readonly settings: OpenResult<UserSettings>
  /** How the project opened. */
  readonly project: OpenResult<ProjectData>
  /** Opens any document by key (`cache/<name>`, `conversation/<id>`). */
  open<K extends string>(key: K): Promise<OpenResult<DataOf<K>>>
  /** Opens the conversation with this id (checked: `[A-Za-z0-9_-]{1,128}`). */
  openConversation(id: string): Promise<OpenResult<Conversation>>
  /**
   * Flushes every document (bounded by `deadlineMs`, default 5000), stops the actors, removes the exit flush and
   * releases the lock. Returns the flush outcomes; a second call returns the first one's.
   */
  close(options?: FlushOptions): Promise<SaveOutcome[]>
}

/**
 * Opens (creating it, mode 0700, if needed) the workspace folder `dir` and its standard documents, settings and
 * project; conversations open on demand. A second process gets the workspace read-only, with a `locked` error
 * naming the holder (`workspace.readOnly`): its loads work, its edits stay in memory. Rejects with a
 * `SaveflowError` when the folder cannot be created or the lock cannot be read.
 */
export async function openWorkspace(dir: string, options: OpenWorkspaceOptions = {}): Promise<Workspace> {
  const root = nodePath.resolve(dir)
  try {
    await mkdir(root, { recursive: true, mode: options.storage?.dirMode ?? 0o700 })
  } catch (error) {
    throw toSaveflowError(error)
  }
  let session: WorkspaceSession | undefined
  const lock = await acquireWorkspaceLock(root, {
    // The lock keeps wall-clock time, never a test's simulated clock: other processes judge its age by their own.
    ...options.lock,
    // Taken over after this process stalled past the stale age: stop writing at once, the other one owns it now.
    onLost: (error) => session?.setReadOnly(error.toJSON()),
  })
  const release = () => (lock.mode === 'write' ? lock.release() : Promise.resolve())

  try {
    const fsStorage = createFsStorage(root, options.storage)
    const storage = options.wrapStorage?.(fsStorage) ?? fsStorage
    const repository = createRepository({
      storage,
      ...(options.config === undefined ? {} : { config: options.config }),
      ...(options.now === undefined ? {} : { now: options.now }),
      ...(options.definitions === undefined ? {} : { definitions: options.definitions }),
      ...(options.onRepositoryEvent === undefined ? {} : { onEvent: options.onRepositoryEvent }),
    })
    // Before any save: a temp file is either a crash's leftover or the holder's write in flight, and only the holder
    // can tell, so only the holder removes them.
    const removedTempFiles = lock.mode === 'write' ? await repository.removeTempFiles() : []
    session = createWorkspaceSession({
      repository,
      readOnly: lock.mode === 'write' ? null : lock.error.toJSON(),
      ...(options.config === undefined ? {} : { config: options.config }),
      ...(options.clock === undefined ? {} : { clock: options.clock }),
      ...(options.now === undefined ? {} : { now: options.now }),
      ...(options.random === undefined ? {} : { random: options.random }),
      ...(options.emptyData === undefined ? {} : { emptyData: options.emptyData }),
    })
    const opened = session
    const [settings, project] = await Promise.all([opened.open('settings'), opened.open('project')])

    let closing: Promise<SaveOutcome[]> | null = null
    let uninstall = () => {}
    if (options.exitFlush !== undefined && options.exitFlush !== false) {
      const exitOptions = options.exitFlush === true ? {} : options.exitFlush
      uninstall = installExitFlush({
        ...exitOptions,
        flushAll: ({ deadlineMs }) => opened.flushAll({ deadlineMs }),
        // After a signal the flush ran (or its deadline passed) and the process exits next: stop the actors and hand
        // the lock back. After `beforeExit` the app may still schedule work, so the workspace stays as it is; its
        // lock names a dead pid once the process ends, which the next opener takes over at once.
        onDone: async (report) => {
          if (report.trigger === 'beforeExit') return
          opened.coordinator.stop()
          await release()
        },
      })
    }

    return {
      dir: root,
      session: opened,
      coordinator: opened.coordinator,
      repository,
      storage,
      lock,
      get readOnly() {
        return opened.readOnly
      },
      removedTempFiles,
      settings,
      project,
      open: (key) => opened.open(key),
      openConversation: (id) => {
        let key: `conversation/${string}`
        try {
          key = conversationKey(id) as `conversation/${string}`
        } catch (error) {
          return Promise.reject(toSaveflowError(error))
        }
        return opened.open(key)
      },
      close(closeOptions = {}) {
        closing ??= (async () => {
          uninstall()
          try {
            return await opened.close(closeOptions)
          } finally {
            await release()
          }
        })()
        return closing
      },
    }
  } catch (error) {
    session?.coordinator.stop()
    await release()
    throw toSaveflowError(error)
  }
}
