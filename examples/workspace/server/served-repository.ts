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
 *   save keeps (and prunes to) the new count. A repository keeps per-document state (the journal's base, backup
 *   times), so the replacement waits until every call on the old one has settled and holds new calls meanwhile:
 *   the new one then starts from the folder, exactly as after a server restart. A file from a newer app stays
 *   read-only in the page's coordinator throughout.
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
const WRITES: ReadonlySet<string> = new Set(['save', 'restoreBackup', 'quarantine', 'backupNow'])

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
  let inFlight = 0
  const idleWaiters: Array<() => void> = []
  /** Set while the repository is being replaced: calls wait for it. */
  let replacing: Promise<void> | null = null

  /** Runs one call on the current repository, after any replacement, refusing writes when read-only. */
  const run = async <T>(op: string, call: (repository: Repository) => Promise<T>): Promise<T> => {
    while (replacing !== null) await replacing
    if (WRITES.has(op)) {
      const reason = options.readOnly()
      if (reason !== null) throw toSaveflowError(reason)
    }
    inFlight++
    try {
      return await call(current)
    } finally {
      inFlight--
      if (inFlight === 0) for (const resolve of idleWaiters.splice(0)) resolve()
    }
  }

  /** A durable `settings` document: adopt its backup settings if they differ from the ones in force. */
  const adoptSettings = (settings: UserSettings) => {
    const next = resolvePersistenceConfig(settings.persistence)
    const changed =
      next.backupEnabled !== persistence.backupEnabled ||
      next.backupCount !== persistence.backupCount ||
      next.backupInterval !== persistence.backupInterval ||
      next.validation.enabled !== persistence.validation.enabled
    persistence = next
    if (!changed || replacing !== null) return
    replacing = (async () => {
      if (inFlight > 0) await new Promise<void>((resolve) => idleWaiters.push(resolve))
      current = build()
    })().finally(() => {
      replacing = null
    })
  }

  const repository: ServedRepository = {
    // Pure functions of the document definitions: no state, no waiting.
    definitionFor: (key) => current.definitionFor(key),
    validate: (key, data) => current.validate(key, data),
    load: (key) => run('load', (repo) => repo.load(key)),
    async save(key, data, revision, signal) {
      const result = await run('save', (repo) => repo.save(key, data, revision, signal))
      // Only once the save is durable: settings that never reached the disk must not change the backups.
      if (key === 'settings') adoptSettings(data as UserSettings)
      return result
    },
    listBackups: (key) => run('listBackups', (repo) => repo.listBackups(key)),
    readBackup: (key, backup) => run('readBackup', (repo) => repo.readBackup(key, backup)),
    async restoreBackup(key, backup) {
      const restored = await run('restoreBackup', (repo) => repo.restoreBackup(key, backup))
      if (key === 'settings') adoptSettings(restored.data as UserSettings)
      return restored
    },
    quarantine: (key, reason) => run('quarantine', (repo) => repo.quarantine(key, reason)),
    backupNow: (key) => run('backupNow', (repo) => repo.backupNow(key)),
    listQuarantine: () => run('listQuarantine', (repo) => repo.listQuarantine()),
  }

  return {
    repository,
    get persistence() {
      return persistence
    },
  }
}
