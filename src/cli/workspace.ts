import { readdir, stat } from 'node:fs/promises'
import { hostname } from 'node:os'
import { resolve } from 'node:path'
import { DEFAULT_PERSISTENCE_CONFIG, type PersistenceConfig } from '../core/config'
import { settingsDocument } from '../core/documents'
import { toSaveflowError } from '../core/errors'
import { SAVEFLOW_DIR } from '../core/paths'
import { createRepository } from '../core/repository'
import type { RepositoryEvent } from '../core/repository-types'
import type { UserSettings } from '../core/schemas'
import type { StorageBackend } from '../core/storage'
import { createFsStorage } from '../node/fs-backend'
import { acquireWorkspaceLock } from '../node/workspace-lock'
import type { CheckContext } from './checks/checker'
import { inspectFile } from './checks/inspect-file'
import type { LockInfo } from './checks/report'
import { CliError } from './cli-error'
import { EXIT } from './exit-codes'

/**
 * The workspace folder as the commands see it: checked to exist and to be a workspace before anything reads it,
 * opened with its own persistence settings, and locked for the commands that change it.
 */

/** Names whose presence makes a folder a workspace (one is enough: a first run may have written only settings). */
const WORKSPACE_MARKERS = new Set([
  SAVEFLOW_DIR,
  'project.json',
  'settings.json',
  'project.journal.jsonl',
  'conversations',
])

/** What a folder path turned out to be. */
export type FolderState = 'missing' | 'file' | 'empty' | 'workspace' | 'other'

/** Looks at `dir` (absolute) without changing anything. Permission and I/O errors are thrown as `SaveflowError`s. */
export async function folderState(dir: string): Promise<FolderState> {
  let info: Awaited<ReturnType<typeof stat>>
  try {
    info = await stat(dir)
  } catch (error) {
    const code = (error as { code?: unknown }).code
    if (code === 'ENOENT') return 'missing'
    if (code === 'ENOTDIR') return 'file'
    throw toSaveflowError(error)
  }
  if (!info.isDirectory()) return 'file'
  let names: string[]
  try {
    names = await readdir(dir)
  } catch (error) {
    throw toSaveflowError(error)
  }
  if (names.length === 0) return 'empty'
  return names.some((name) => WORKSPACE_MARKERS.has(name)) ? 'workspace' : 'other'
}

/** Resolves `dir` against `cwd` and checks it is a workspace; throws a {@link CliError} (exit code 4) if not. */
export async function resolveWorkspace(cwd: string, dir: string): Promise<string> {
  const absolute = resolve(cwd, dir)
  const state = await folderState(absolute)
  if (state === 'missing') throw new CliError('no-such-folder', absolute, EXIT.badPath)
  if (state === 'file') throw new CliError('not-a-folder', absolute, EXIT.badPath)
  if (state !== 'workspace') throw new CliError('not-a-workspace', absolute, EXIT.badPath)
  return absolute
}

/**
 * The workspace's persistence settings (backup count above all), read from `settings.json` without changing it;
 * the defaults when it is missing or does not verify.
 */
export async function workspaceConfig(storage: StorageBackend): Promise<PersistenceConfig> {
  const settings = await inspectFile(storage, settingsDocument, 'settings.json')
  return settings.result.ok ? (settings.result.data as UserSettings).persistence : DEFAULT_PERSISTENCE_CONFIG
}

/** Opens the storage and a repository over the workspace at `dir` (absolute) for the checkers. */
export async function openCheckContext(dir: string, now: number = Date.now()): Promise<CheckContext> {
  const storage = createFsStorage(dir)
  const config = await workspaceConfig(storage)
  const events: RepositoryEvent[] = []
  const repository = createRepository({ storage, config, onEvent: (event) => events.push(event) })
  return { storage, repository, config, events, now }
}

/**
 * The lock file as found, or `null`; only read, never judged: verify must not take or break a lock. A lock held by
 * this very process (repair's verify after its work) is not another writer and reads as `null`.
 */
export async function readLockInfo(storage: StorageBackend): Promise<LockInfo | null> {
  try {
    const text = new TextDecoder().decode(await storage.read(`${SAVEFLOW_DIR}/lock`, { maxBytes: 4096 }))
    const value = JSON.parse(text) as Record<string, unknown>
    const { pid, host, startedAt, heartbeatAt } = value
    if (typeof pid !== 'number' || typeof host !== 'string') return null
    if (pid === process.pid && host === hostname()) return null
    return { pid, host, startedAt: isoOf(startedAt), heartbeatAt: isoOf(heartbeatAt) }
  } catch {
    // No lock file, or one being written right now: either way nobody is named.
    return null
  }
}

function isoOf(ms: unknown): string {
  const date = new Date(typeof ms === 'number' ? ms : Number.NaN)
  return Number.isNaN(date.getTime()) ? '' : date.toISOString()
}

/**
 * Runs `work` holding the workspace lock (DESIGN.md durability rule 7: one writer per workspace). When another live
 * process holds it, throws a `locked` {@link CliError} naming that process (exit code 3) and changes nothing.
 */
export async function withWorkspaceLock<T>(dir: string, work: () => Promise<T>): Promise<T> {
  const lock = await acquireWorkspaceLock(dir)
  if (lock.mode === 'read-only') {
    const holder = lock.holder === null ? null : { pid: lock.holder.pid, host: lock.holder.host }
    throw new CliError('locked', lock.error.message, EXIT.locked, { details: { holder } })
  }
  try {
    return await work()
  } finally {
    await lock.release()
  }
}
