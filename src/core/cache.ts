import type { LoadResult } from './document-reader'
import { SaveflowError, type SaveflowErrorCode, toSaveflowError } from './errors'
import { CACHE_DIR, isTempFileName, joinPath } from './paths'
import type { StorageBackend } from './storage'

/**
 * Cache documents are rebuildable, so their policy is the opposite of the others: no backups, no quarantine. A
 * cache document older than its TTL or failing any check is removed and loads as `not-found`; the `cache/` folder is
 * kept under a size cap by evicting the least recently written files.
 */

/** True when a cache document saved at `savedAt` (ISO) is older than `ttlMs` at `now`. */
export function isCacheExpired(savedAt: string, ttlMs: number, now: number): boolean {
  const saved = Date.parse(savedAt)
  // A save time in the future means the clock moved back; the entry cannot be trusted to be fresh either.
  return Number.isNaN(saved) || now - saved > ttlMs || saved - now > ttlMs
}

/** A cache file that {@link pruneCache} removed, and why. */
export interface EvictedCacheFile {
  path: string
  reason: 'expired' | 'evicted'
}

/** Options of {@link pruneCache}. */
export interface PruneCacheOptions {
  /** Largest total size of `cache/`, in bytes. */
  maxTotalBytes: number
  /** Files last written more than this long ago are removed whatever the total, in ms. */
  ttlMs: number
  /** The current time, ms since the epoch. */
  now: number
  /** A file never evicted (the one just written). */
  keep?: string
}

/**
 * Removes expired cache files, then the least recently written ones until the folder fits `maxTotalBytes`. Uses the
 * files' modification times, so it reads nothing. Returns what was removed.
 */
export async function pruneCache(
  storage: StorageBackend,
  options: PruneCacheOptions,
): Promise<EvictedCacheFile[]> {
  const files: { path: string; size: number; mtimeMs: number }[] = []
  for (const entry of await storage.list(CACHE_DIR)) {
    if (entry.isDirectory || !entry.name.endsWith('.json') || isTempFileName(entry.name)) continue
    const path = joinPath(CACHE_DIR, entry.name)
    const stat = await storage.stat(path)
    if (stat !== null) files.push({ path, size: stat.size, mtimeMs: stat.mtimeMs })
  }
  files.sort((a, b) => a.mtimeMs - b.mtimeMs)
  let total = files.reduce((sum, file) => sum + file.size, 0)
  const removed: EvictedCacheFile[] = []
  for (const file of files) {
    if (file.path === options.keep) continue
    const expired = options.now - file.mtimeMs > options.ttlMs
    if (!expired && total <= options.maxTotalBytes) continue
    await storage.remove(file.path)
    total -= file.size
    removed.push({ path: file.path, reason: expired ? 'expired' : 'evicted' })
  }
  return removed
}

/** Why a cache document was dropped on load. */
export type CacheDropReason = 'expired' | SaveflowErrorCode

/** Load errors after which a cache file is removed rather than quarantined or recovered. */
const DROPPABLE: ReadonlySet<SaveflowErrorCode> = new Set([
  'corrupt',
  'invalid-data',
  'future-version',
  'too-large',
])

/**
 * Settles the load of a cache document: one that failed a check or expired is removed and reads as `not-found`
 * (with `details.dropped`); a good one and an I/O error pass through unchanged.
 */
export async function settleCacheLoad(
  storage: StorageBackend,
  result: LoadResult,
  ttlMs: number,
  now: number,
): Promise<{ result: LoadResult; dropped: CacheDropReason | null }> {
  let reason: CacheDropReason | null = null
  if (!result.ok) {
    if (DROPPABLE.has(result.error.code)) reason = result.error.code
  } else if (isCacheExpired(result.savedAt, ttlMs, now)) {
    reason = 'expired'
  }
  if (reason === null) return { result, dropped: null }
  try {
    await storage.remove(result.path)
  } catch (error) {
    return { result: { ok: false, error: toSaveflowError(error), path: result.path }, dropped: null }
  }
  const error = new SaveflowError('not-found', {
    message: `The cache was dropped (${reason}).`,
    details: { path: result.path, dropped: reason },
  })
  return { result: { ok: false, error, path: result.path }, dropped: reason }
}
