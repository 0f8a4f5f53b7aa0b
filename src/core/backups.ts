import { SaveflowError, toSaveflowError } from './errors'
import { backupDir, joinPath } from './paths'
import type { LinkMethod, StorageBackend } from './storage'

/**
 * Backup files: `.saveflow/backups/<key>/<timestamp>-r<revision>.json`, each a byte-for-byte copy (or hard link) of
 * a file that verified. The name alone says when and which revision, so listing needs no reads. Policy (when to
 * take one, how many to keep) is the repository's; this module only names, lists, takes and prunes.
 */

/** One backup of a document. */
export interface BackupInfo {
  /** The document key. */
  key: string
  /** File name, unique within the document's backups. */
  name: string
  /** Workspace-relative path. */
  path: string
  /** When it was taken, ms since the epoch. */
  takenAt: number
  /** The revision of the document in it. */
  revision: number
}

const NAME = /^(\d{8}T\d{9}Z)-r(\d{1,15})(?:-(\d{1,3}))?\.json$/
const STAMP = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z$/

/** A sortable, file-name-safe UTC time stamp (`20260115T103000123Z`): no `:`, which Windows forbids. */
export function formatStamp(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:.]/g, '')
}

/** Reads a {@link formatStamp} back; `null` when it is not one. */
export function parseStamp(stamp: string): number | null {
  const m = STAMP.exec(stamp)
  if (m === null) return null
  const ms = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!, +m[7]!)
  return Number.isNaN(ms) ? null : ms
}

/** The file name of a backup; `n` tells apart two taken in the same millisecond. */
export function backupFileName(takenAt: number, revision: number, n = 0): string {
  return `${formatStamp(takenAt)}-r${revision}${n > 0 ? `-${n}` : ''}.json`
}

function parseBackupName(key: string, dir: string, name: string): (BackupInfo & { n: number }) | null {
  const m = NAME.exec(name)
  if (m === null) return null
  const takenAt = parseStamp(m[1]!)
  if (takenAt === null) return null
  return { key, name, path: joinPath(dir, name), takenAt, revision: Number(m[2]), n: Number(m[3] ?? 0) }
}

/**
 * The {@link BackupInfo} of a backup given by name or info, after checking that the name is a backup name of this
 * key (so a caller-supplied name can never point outside the document's backup folder). Throws `invalid-id`.
 */
export function resolveBackup(key: string, which: BackupInfo | string): BackupInfo {
  const name = typeof which === 'string' ? which : which.name
  const info = typeof name === 'string' ? parseBackupName(key, backupDir(key), name) : null
  if (info === null || (typeof which !== 'string' && which.key !== key)) {
    throw new SaveflowError('invalid-id', {
      message: 'That is not a backup of this document.',
      details: { key, name: String(name).slice(0, 80) },
    })
  }
  const { n: _n, ...backup } = info
  return backup
}

/** The backups of a document, newest first. Files that are not backups (temp files, strays) are ignored. */
export async function listBackups(storage: StorageBackend, key: string): Promise<BackupInfo[]> {
  const dir = backupDir(key)
  const entries = await storage.list(dir)
  const backups = entries
    .filter((entry) => !entry.isDirectory)
    .map((entry) => parseBackupName(key, dir, entry.name))
    .filter((info) => info !== null)
  backups.sort((a, b) => b.takenAt - a.takenAt || b.n - a.n || b.revision - a.revision)
  return backups.map(({ n: _n, ...info }) => info)
}

/** The newest backup of a document, or `null`. */
export async function newestBackup(storage: StorageBackend, key: string): Promise<BackupInfo | null> {
  return (await listBackups(storage, key))[0] ?? null
}

/** What {@link takeBackup} made. */
export interface TakenBackup {
  backup: BackupInfo
  method: LinkMethod
}

/**
 * Gives the file at `sourcePath` a name among the document's backups (hard link, else copy). The caller has
 * verified the file. A name already taken (two backups in one millisecond) gets a `-<n>` suffix; an existing
 * backup is never overwritten.
 */
export async function takeBackup(
  storage: StorageBackend,
  key: string,
  sourcePath: string,
  revision: number,
  takenAt: number,
): Promise<TakenBackup> {
  const dir = backupDir(key)
  for (let n = 0; ; n++) {
    const name = backupFileName(takenAt, revision, n)
    const path = joinPath(dir, name)
    try {
      const method = await storage.linkOrCopy(sourcePath, path)
      return { backup: { key, name, path, takenAt, revision }, method }
    } catch (error) {
      // EEXIST: another backup of the same millisecond; try the next suffix, a bounded number of times.
      const code = (error as { code?: unknown } | null)?.code
      if (code !== 'EEXIST' || n >= 99) throw toSaveflowError(error)
    }
  }
}

/** Removes all but the newest `keep` backups of a document; returns what was removed. */
export async function pruneBackups(
  storage: StorageBackend,
  key: string,
  keep: number,
): Promise<BackupInfo[]> {
  const backups = await listBackups(storage, key)
  const extra = backups.slice(Math.max(0, keep))
  for (const backup of extra) await storage.remove(backup.path)
  return extra
}
