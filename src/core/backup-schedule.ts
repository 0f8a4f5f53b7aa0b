import { type BackupInfo, backupFileName, listBackups, pruneBackups, takeBackup } from './backups'
import type { PersistenceConfig } from './config'
import type { DocumentDefinition } from './documents'
import { toSaveflowError } from './errors'
import { backupDir, joinPath } from './paths'
import type { RepositoryEvent } from './repository-types'
import type { StorageBackend } from './storage'

/**
 * The repository's backup policy (DESIGN.md durability rule 6): when one is due, taking it, pruning. Shared by the
 * snapshot documents (a backup is a hard link or copy of the file about to be replaced) and the journaled ones (a
 * backup is a compacted snapshot of the state on disk, written out, because neither a log nor a journal without
 * its snapshot is a document on its own).
 */

/** Why a backup was taken, as `backup.created` reports it. */
export type BackupReason = 'interval' | 'migration' | 'restore' | 'manual'

/** What {@link createBackupSchedule} needs. */
export interface BackupScheduleOptions {
  storage: StorageBackend
  config: PersistenceConfig
  now: () => number
  emit: (event: RepositoryEvent) => void
}

/** The backup policy of one repository. */
export interface BackupSchedule {
  /** True when `key` keeps backups and the newest one is at least `backupInterval` old. */
  due(key: string, definition: DocumentDefinition): Promise<boolean>
  /** Gives the verified file at `path` a backup name (hard link, else copy). */
  link(key: string, path: string, revision: number, reason: BackupReason): Promise<BackupInfo>
  /** Writes `bytes` (a snapshot file the caller just encoded from verified data) as a new backup. */
  write(key: string, bytes: Uint8Array, revision: number, reason: BackupReason): Promise<BackupInfo>
  /** Keeps the newest `backupCount` backups; at least one when `atLeastOne` (after a migration or a restore). */
  prune(key: string, atLeastOne: boolean): Promise<void>
  /** Puts the next backup attempt of `key` an interval away (after a failure, or a file that did not verify). */
  defer(key: string): void
}

/** Creates the backup policy. */
export function createBackupSchedule(options: BackupScheduleOptions): BackupSchedule {
  const { storage, config, now, emit } = options
  /** Newest backup time per key, read from the folder once and then kept. */
  const lastBackupAt = new Map<string, number>()

  const created = (key: string, backup: BackupInfo, method: 'link' | 'copy', reason: BackupReason) => {
    lastBackupAt.set(key, backup.takenAt)
    emit({ type: 'backup.created', key, backup, method, reason })
    return backup
  }

  return {
    async due(key, definition) {
      if (!definition.backup.enabled || !config.backupEnabled || config.backupCount <= 0) return false
      let last = lastBackupAt.get(key)
      if (last === undefined) {
        last = (await listBackups(storage, key))[0]?.takenAt ?? Number.NEGATIVE_INFINITY
        lastBackupAt.set(key, last)
      }
      const elapsed = now() - last
      // A clock that went back would otherwise stop backups until it caught up again.
      return elapsed >= config.backupInterval || elapsed < 0
    },

    async link(key, path, revision, reason) {
      const taken = await takeBackup(storage, key, path, revision, now())
      return created(key, taken.backup, taken.method, reason)
    },

    async write(key, bytes, revision, reason) {
      const takenAt = now()
      const dir = backupDir(key)
      try {
        // A free name first: a backup is never overwritten (two backups in one millisecond get a suffix).
        for (let n = 0; n < 100; n++) {
          const name = backupFileName(takenAt, revision, n)
          const path = joinPath(dir, name)
          if ((await storage.stat(path)) !== null) continue
          await storage.writeAtomic(path, bytes)
          return created(key, { key, name, path, takenAt, revision }, 'copy', reason)
        }
        throw Object.assign(new Error(`No free backup name in ${dir}.`), { code: 'EEXIST' })
      } catch (error) {
        throw toSaveflowError(error)
      }
    },

    async prune(key, atLeastOne) {
      const keep = atLeastOne ? Math.max(config.backupCount, 1) : config.backupCount
      let removed: BackupInfo[]
      try {
        removed = await pruneBackups(storage, key, keep)
      } catch (error) {
        throw toSaveflowError(error)
      }
      if (removed.length > 0) emit({ type: 'backup.pruned', key, removed })
    },

    defer(key) {
      lastBackupAt.set(key, now())
    },
  }
}
