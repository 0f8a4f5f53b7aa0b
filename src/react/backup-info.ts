import type { LoadResult } from '../core/document-reader'
import type { BackupInfo } from './types'

/** A backup as the repository lists it (`Repository.listBackups`, or the rpc client's). */
export interface ListedBackup {
  name: string
  takenAt: number
  revision: number
}

/**
 * The recovery dialog's row for a listed backup, from the read that verified it (`readBackup`): its saved time,
 * revision and size when it verifies; marked damaged otherwise, with the size its error reports (or `null`, never
 * a made-up "0 B"). Adapters read every backup when listing, so the dialog marks damaged ones before a user picks.
 */
export function backupInfoFromRead(backup: ListedBackup, read: LoadResult): BackupInfo {
  if (!read.ok) {
    const size = read.error.details?.size
    return {
      id: backup.name,
      savedAt: backup.takenAt,
      revision: backup.revision,
      bytes: typeof size === 'number' ? size : null,
      damaged: true,
    }
  }
  const savedAt = Date.parse(read.savedAt)
  return {
    id: backup.name,
    savedAt: Number.isNaN(savedAt) ? backup.takenAt : savedAt,
    revision: read.revision,
    bytes: read.size,
  }
}
