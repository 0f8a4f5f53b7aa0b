import { formatStamp, parseStamp } from './backups'
import { toSaveflowError } from './errors'
import { baseName, joinPath, parentDir, QUARANTINE_DIR, SAVEFLOW_DIR } from './paths'
import type { StorageBackend } from './storage'

/**
 * Quarantine: a file that failed verification is moved (renamed, never copied and deleted) to
 * `.saveflow/quarantine/`, keeping its folder and name and adding when and why, so a user or a support person can
 * still open it. Recovery never deletes what a user wrote (DESIGN.md durability rule 5).
 */

/** Where a file went. */
export interface QuarantineResult {
  /** The path the file had. */
  from: string
  /** Its path in quarantine. */
  to: string
  /** Why it was moved (a slug such as `checksum-mismatch`). */
  reason: string
}

/** A reason made safe for a file name: lowercase letters, digits and `-`, at most 40 characters. */
export function quarantineReasonSlug(reason: string): string {
  const slug = reason
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 40)
  return slug === '' ? 'unknown' : slug
}

/**
 * The quarantine path of `path`: `project.json` becomes
 * `.saveflow/quarantine/project.20260115T103000123Z-checksum-mismatch.json`; a backup keeps its folder under
 * `quarantine/backups/...`. `n` tells apart two moves in the same millisecond.
 */
export function quarantinePathFor(path: string, reason: string, at: number, n = 0): string {
  const inside = path.startsWith(`${SAVEFLOW_DIR}/`) ? path.slice(SAVEFLOW_DIR.length + 1) : path
  const dir = parentDir(inside)
  const name = baseName(inside)
  const dot = name.lastIndexOf('.')
  const stem = dot > 0 ? name.slice(0, dot) : name
  const ext = dot > 0 ? name.slice(dot) : ''
  const suffix = `${formatStamp(at)}-${quarantineReasonSlug(reason)}${n > 0 ? `-${n}` : ''}`
  const folder = dir === '' ? QUARANTINE_DIR : joinPath(QUARANTINE_DIR, dir)
  return joinPath(folder, `${stem}.${suffix}${ext}`)
}

/**
 * Moves `path` into quarantine, durably. Picks a free name (an existing quarantined file is never replaced).
 * Throws the mapped `SaveflowError` when the move fails; the file then stays where it was.
 */
export async function moveToQuarantine(
  storage: StorageBackend,
  path: string,
  reason: string,
  at: number,
): Promise<QuarantineResult> {
  try {
    for (let n = 0; n < 100; n++) {
      const to = quarantinePathFor(path, reason, at, n)
      if ((await storage.stat(to)) !== null) continue
      await storage.rename(path, to)
      return { from: path, to, reason: quarantineReasonSlug(reason) }
    }
    throw Object.assign(new Error(`No free quarantine name for ${path}.`), { code: 'EEXIST' })
  } catch (error) {
    throw toSaveflowError(error)
  }
}

/**
 * Puts a copy of `path` in quarantine (a hard link, else a durable copy) and leaves the file where it is. For a
 * file about to be replaced anyway (a restore): no crash can then leave the document without any file.
 */
export async function copyToQuarantine(
  storage: StorageBackend,
  path: string,
  reason: string,
  at: number,
): Promise<QuarantineResult> {
  try {
    for (let n = 0; n < 100; n++) {
      const to = quarantinePathFor(path, reason, at, n)
      try {
        await storage.linkOrCopy(path, to)
        return { from: path, to, reason: quarantineReasonSlug(reason) }
      } catch (error) {
        if ((error as { code?: unknown } | null)?.code !== 'EEXIST') throw error
      }
    }
    throw Object.assign(new Error(`No free quarantine name for ${path}.`), { code: 'EEXIST' })
  } catch (error) {
    throw toSaveflowError(error)
  }
}

/** Every file in quarantine (workspace-relative paths), for a recovery report or the CLI. */
export async function listQuarantine(storage: StorageBackend): Promise<string[]> {
  const found: string[] = []
  const walk = async (dir: string, depth: number): Promise<void> => {
    for (const entry of await storage.list(dir)) {
      const path = joinPath(dir, entry.name)
      if (!entry.isDirectory) found.push(path)
      else if (depth < 8) await walk(path, depth + 1)
    }
  }
  await walk(QUARANTINE_DIR, 0)
  return found.sort()
}

/** A file that was moved to quarantine from a document's path, as its name tells it. */
export interface QuarantinedCopy {
  /** Its path in quarantine. */
  path: string
  /** The path it was moved from. */
  from: string
  /** When it was moved, ms since the epoch. */
  at: number
  /** Why (the slug in its name, such as `checksum-mismatch`). */
  reason: string
}

/**
 * The quarantined copies of `path` (named as {@link quarantinePathFor} names them), newest first. An empty list when
 * there are none or the quarantine folder cannot be read: this only adds detail to a report.
 */
export async function quarantinedCopiesOf(storage: StorageBackend, path: string): Promise<QuarantinedCopy[]> {
  const probe = quarantinePathFor(path, 'x', 0)
  const folder = parentDir(probe)
  const name = baseName(path)
  const dot = name.lastIndexOf('.')
  const stem = dot > 0 ? name.slice(0, dot) : name
  const ext = dot > 0 ? name.slice(dot) : ''
  const literal = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  const pattern = new RegExp(
    `^${literal(stem)}\\.(\\d{8}T\\d{9}Z)-([a-z0-9-]+?)(?:-\\d{1,2})?${literal(ext)}$`,
  )
  let entries: Awaited<ReturnType<StorageBackend['list']>>
  try {
    entries = await storage.list(folder)
  } catch {
    return []
  }
  const copies: QuarantinedCopy[] = []
  for (const entry of entries) {
    if (entry.isDirectory) continue
    const m = pattern.exec(entry.name)
    const at = m === null ? null : parseStamp(m[1]!)
    if (m === null || at === null) continue
    copies.push({ path: joinPath(folder, entry.name), from: path, at, reason: m[2]! })
  }
  return copies.sort((a, b) => b.at - a.at || b.path.localeCompare(a.path))
}
