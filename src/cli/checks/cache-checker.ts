import { isCacheExpired, pruneCache } from '../../core/cache'
import { toSaveflowError } from '../../core/errors'
import { CACHE_DIR, documentPath, ID_PATTERN, isTempFileName, joinPath } from '../../core/paths'
import { FIX_TEXT, PROBLEM_TEXT } from '../text'
import type { CheckContext, CompactOutcome, Discovery, DocumentCheck, KindChecker } from './checker'
import { inspectFile } from './inspect-file'
import type { CompactAction, DocumentReport, FileStatus, Problem, RepairAction } from './report'

/**
 * The checker of `cache/<name>.json`. Caches are rebuildable, so the policy is the opposite of the snapshot
 * documents': no backups, no quarantine; a cache that fails a check is removed (as a load removes it), an expired one
 * is only noted (the next load or `compact` drops it).
 */

/** The same cap the repository applies after each cache save. */
const CACHE_MAX_TOTAL_BYTES = 64 * 1024 * 1024

/** Statuses after which a load removes a cache file. */
const DROPPED_ON_LOAD: ReadonlySet<FileStatus> = new Set([
  'corrupt',
  'invalid',
  'too-large',
  'future-version',
  'expired',
])

async function discover(ctx: CheckContext): Promise<Discovery> {
  const keys: string[] = []
  const strays: string[] = []
  for (const entry of await ctx.storage.list(CACHE_DIR)) {
    if (!entry.isDirectory && isTempFileName(entry.name)) continue
    const path = joinPath(CACHE_DIR, entry.name)
    const dot = entry.name.indexOf('.')
    const name = dot === -1 ? entry.name : entry.name.slice(0, dot)
    // Only the very file documentPath names for the key: the layout stays the repository's to decide.
    if (!entry.isDirectory && ID_PATTERN.test(name) && documentPath(`cache/${name}`) === path)
      keys.push(`cache/${name}`)
    else strays.push(path)
  }
  return { keys: keys.sort(), strays }
}

async function check(ctx: CheckContext, key: string): Promise<DocumentCheck> {
  const definition = ctx.repository.definitionFor(key)
  const path = documentPath(key)
  const inspected = await inspectFile(ctx.storage, definition, path)
  const ttlMs = definition.ttlMs ?? Number.POSITIVE_INFINITY
  const savedAt = inspected.snapshot?.savedAt ?? null
  const expired = inspected.status === 'ok' && savedAt !== null && isCacheExpired(savedAt, ttlMs, ctx.now)
  const status: FileStatus = expired ? 'expired' : inspected.status
  const document: DocumentReport = {
    key,
    kind: 'cache',
    path,
    status,
    revision: inspected.snapshot?.revision ?? null,
    savedAt,
    schemaVersion: inspected.snapshot?.schemaVersion ?? null,
    size: inspected.size,
    error: inspected.error,
    journal: null,
    backups: [],
  }
  const problems: Problem[] = []
  if (expired && savedAt !== null) {
    problems.push({
      code: 'cache-expired',
      severity: 'info',
      key,
      path,
      message: PROBLEM_TEXT.expired(savedAt),
      fix: FIX_TEXT.expiredCache,
    })
  } else if (status !== 'ok' && status !== 'missing') {
    const droppable = DROPPED_ON_LOAD.has(status)
    problems.push({
      code: 'cache-invalid',
      // An unreadable cache (permissions, I/O) cannot be removed either; the app just rebuilds it in memory.
      severity: droppable ? 'repairable' : 'info',
      key,
      path,
      message: inspected.error?.message ?? status,
      fix: droppable ? FIX_TEXT.dropCache : FIX_TEXT.unreadableCache,
    })
  }
  return { document, problems }
}

async function repair(ctx: CheckContext, { document }: DocumentCheck): Promise<RepairAction[]> {
  if (!DROPPED_ON_LOAD.has(document.status)) return []
  const { key, path } = document
  try {
    // The repository's own load drops a bad or expired cache: the same rule as when the app opens it.
    const seen = ctx.events.length
    await ctx.repository.load(key)
    const dropped = ctx.events
      .slice(seen)
      .find((event) => event.type === 'cache.dropped' && event.key === key)
    if (dropped?.type !== 'cache.dropped') return []
    return [{ type: 'cache-dropped', key, path, reason: String(dropped.reason) }]
  } catch (error) {
    const e = toSaveflowError(error)
    return [{ type: 'failed', key, path, error: { code: e.code, message: e.message, hint: e.hint } }]
  }
}

async function compact(ctx: CheckContext, checks: DocumentCheck[]): Promise<CompactOutcome> {
  const actions: CompactAction[] = []
  const sizes = new Map(checks.map(({ document }) => [document.path, document.size]))
  // Expired by the time saved in the file, as a load judges it...
  for (const { document } of checks) {
    if (document.status !== 'expired') continue
    await ctx.storage.remove(document.path)
    actions.push({
      type: 'cache-dropped',
      key: document.key,
      path: document.path,
      reason: 'expired',
      size: document.size,
    })
  }
  // ...then by file time and the folder's size cap, as the repository does after each cache save.
  // Every cache document shares one definition; any valid name reads it.
  const ttlMs = ctx.repository.definitionFor('cache/any').ttlMs ?? Number.POSITIVE_INFINITY
  const removed = await pruneCache(ctx.storage, { maxTotalBytes: CACHE_MAX_TOTAL_BYTES, ttlMs, now: ctx.now })
  for (const file of removed) {
    const name = file.path.slice(CACHE_DIR.length + 1)
    const key = `cache/${name.slice(0, name.indexOf('.'))}`
    actions.push({
      type: 'cache-dropped',
      key,
      path: file.path,
      reason: file.reason,
      size: sizes.get(file.path) ?? null,
    })
  }
  return { actions, skipped: [] }
}

/** The cache checker. */
export const cacheChecker: KindChecker = { kind: 'cache', discover, check, repair, compact }
