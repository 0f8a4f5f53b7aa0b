import {
  createRepository,
  type PersistenceConfig,
  type Repository,
  type RepositoryEvent,
  resolvePersistenceConfig,
  type SaveflowErrorData,
  type ServedRepository,
  type StorageBackend,
  toSaveflowError,
  type UserSettings,
} from 'saveflow'

/**
 * The repository the rpc bridge serves to the page. Two things the bare repository does not know about:
 *
 * - The workspace lock. A server that opened the folder read-only (another process holds the lock) must not write
 *   through the bridge either, so every operation that changes the folder fails with the lock's `locked` error.
 * - The user's settings. Backups (`backupEnabled`, `backupCount`, `backupInterval`) are the repository's job, on
 *   this side of the bridge, but the user edits them in the page. When a save of the `settings` document carries
 *   other backup settings, the repository is replaced by one built with them, over the same storage, so the next
 *   save keeps (and prunes to) the new count. Replacing is safe because the repository holds no state a save
 *   depends on: its backup-time cache is read back from the folder, and a file from a newer app stays read-only in
 *   the page's coordinator.
 */

/** Options of {@link createServedRepository}. */
export interface ServedRepositoryOptions {
  storage: StorageBackend
  /** The persistence settings the workspace opened with (from `settings.json`, or the defaults). */
  persistence: PersistenceConfig
  /** Why this process may not write (read on every call: the lock can be lost while the server runs), or null. */
  readOnly: () => SaveflowErrorData | null
  /** Receives the repository's events (backups, quarantine), for the server log. */
  onEvent?: (event: RepositoryEvent) => void
}

/** What {@link createServedRepository} returns. */
export interface ServedRepositoryHandle {
  /** Give this to `createRpcHandler`. */
  readonly repository: ServedRepository
  /** The persistence settings in force: the page's session is created with them when it loads. */
  readonly persistence: PersistenceConfig
}

/** The operations that change the folder; a read-only server refuses them. */
const WRITES = new Set(['save', 'restoreBackup', 'quarantine', 'backupNow'])

/** Creates the served repository; see the module comment. */
export function createServedRepository(options: ServedRepositoryOptions): ServedRepositoryHandle {
  let persistence = options.persistence
  const build = (): Repository =>
    createRepository({
      storage: options.storage,
      config: persistence,
      ...(options.onEvent === undefined ? {} : { onEvent: options.onEvent }),
    })
  let current = build()

  const guard = (op: string) => {
    if (!WRITES.has(op)) return
    const reason = options.readOnly()
    if (reason !== null) throw toSaveflowError(reason)
  }

  /** A saved `settings` document: adopt its backup settings if they differ from the ones in force. */
  const adoptSettings = (settings: UserSettings) => {
    const next = resolvePersistenceConfig(settings.persistence)
    const changed =
      next.backupEnabled !== persistence.backupEnabled ||
      next.backupCount !== persistence.backupCount ||
      next.backupInterval !== persistence.backupInterval ||
      next.validation.enabled !== persistence.validation.enabled
    persistence = next
    if (changed) current = build()
  }

  const repository: ServedRepository = {
    definitionFor: (key) => current.definitionFor(key),
    validate: (key, data) => current.validate(key, data),
    load: (key) => current.load(key),
    async save(key, data, revision, signal) {
      guard('save')
      const result = await current.save(key, data, revision, signal)
      // Only once the save is durable: settings that never reached the disk must not change the backups.
      if (key === 'settings') adoptSettings(data as UserSettings)
      return result
    },
    listBackups: (key) => current.listBackups(key),
    readBackup: (key, backup) => current.readBackup(key, backup),
    async restoreBackup(key, backup) {
      guard('restoreBackup')
      const restored = await current.restoreBackup(key, backup)
      if (key === 'settings') adoptSettings(restored.data as UserSettings)
      return restored
    },
    async quarantine(key, reason) {
      guard('quarantine')
      return current.quarantine(key, reason)
    },
    async backupNow(key) {
      guard('backupNow')
      return current.backupNow(key)
    },
    listQuarantine: () => current.listQuarantine(),
  }

  return {
    repository,
    get persistence() {
      return persistence
    },
  }
}
