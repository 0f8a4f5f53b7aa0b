import type { SaveflowErrorData } from '../core/errors'

/** One backup of a document, as the storage layer lists it. */
export interface BackupInfo {
  /** Opaque id, handed back to `restore` and `preview`. */
  id: string
  /** Clock time (ms) at which the backed-up version was saved. */
  savedAt: number
  /** Revision of the backed-up version. */
  revision: number
  /** Size on disk, in bytes; `null` when it is not known (a damaged backup that could not be read). */
  bytes: number | null
  /** True when the backup failed verification; it is listed so the user sees it exists, but cannot be restored. */
  damaged?: boolean
}

/** What the recovery dialog shows of a backup before it is restored. */
export interface BackupPreview {
  /** A readable excerpt of the backed-up data (the adapter decides how much and how it is laid out). */
  text: string
}

/** What a restore reports. */
export interface RestoreResult {
  /** Id of the backup made of the version that the restore replaced, when there was one: restoring it undoes this. */
  undoId?: string
}

/**
 * The backup operations of the storage layer, as the React components use them: an app adapts its session's
 * (`listBackups`, `readBackup`, `restoreBackup`), as the workspace app and the stories do; component tests pass a fake.
 */
export interface BackupsAdapter {
  /** Backups of `key`, newest first. */
  list(key: string): Promise<readonly BackupInfo[]>
  /** Replaces the document with the backup; the replaced version becomes a backup itself, which makes it undoable. */
  restore(key: string, id: string): Promise<RestoreResult | undefined>
  /** Reads a backup without restoring it. */
  preview(key: string, id: string): Promise<BackupPreview>
}

/** What loading a document had to do to open it, as the load machine reports it. */
export interface RecoveryReport {
  /** The document's key. */
  key: string
  /** Why the saved file could not be used as it was. */
  problem: SaveflowErrorData
  /** Where the unusable file was moved; it is never touched again (DESIGN.md rule 5). */
  quarantinedTo?: string
  /** The backup that was opened instead, when one verified. */
  restoredFrom?: { id: string; savedAt: number; revision: number }
  /** The revision opened, when saves made after the backup were replayed on it (see the core `RecoveryReport`). */
  replayedTo?: number
  /** True when nothing valid was left: the user picks a backup or starts empty before anything is written. */
  needsUser: boolean
}
