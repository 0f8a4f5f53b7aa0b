import { randomUUID } from 'node:crypto'
import type { FileHandle } from 'node:fs/promises'
import * as fs from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { SaveflowError, toSaveflowError } from '../core/errors'

/**
 * One writer per workspace (DESIGN.md durability rule 7): `<workspace>/.saveflow/lock` names the process that may
 * write. A second opener gets a read-only answer that says who holds the lock and since when.
 *
 * How the lock stays correct without a kernel lock:
 * - **Create** is `open(path, 'wx')` (O_CREAT | O_EXCL): of any number of racing creators exactly one succeeds.
 * - **Heartbeat**: the holder rewrites `heartbeatAt` through a descriptor on which it has just read its own token,
 *   so it only ever writes its own file, even if that file was moved aside meanwhile; it then checks that the lock
 *   path still is that file, and reports the lock as lost otherwise.
 * - **Stale**: on the same host a dead pid (`process.kill(pid, 0)` fails with ESRCH) is stale at once; on any host a
 *   heartbeat older than `staleMs` is stale (a crashed machine, a reused pid, a process frozen for minutes).
 * - **Takeover** of a stale lock is serialised by a claim file named after the stale lock file's identity (device and
 *   inode), created with `wx`: of the openers that judged the same file stale, one wins the claim, checks that the
 *   lock path still is that file, moves it aside with a rename, checks that what it moved is that file (else puts it
 *   back), and only then competes for the lock path with `wx` like any opener. So two racing openers cannot both
 *   win, and nobody removes a lock it did not judge.
 */

/** What the lock file holds. */
export interface LockHolder {
  pid: number
  host: string
  /** When the holder took the lock, ms since the epoch. */
  startedAt: number
  /** The holder's last sign of life, ms since the epoch. */
  heartbeatAt: number
  /** Random id of this acquisition: `release()` and the heartbeat only touch a lock with their own token. */
  token: string
}

/** Options of {@link acquireWorkspaceLock}. */
export interface WorkspaceLockOptions {
  /** How often the holder refreshes `heartbeatAt`, in ms. The timer is unref'd: it never keeps a process alive. @default 5000 */
  heartbeatMs?: number
  /** A lock whose heartbeat is older than this is stale, whatever its host, in ms. @default 30000 */
  staleMs?: number
  /** Called once if the lock is taken away from this process (it was judged stale, e.g. after a long sleep). */
  onLost?: (error: SaveflowError) => void
  /** Current time in ms. @default Date.now */
  now?: () => number
  /** The name this machine is known by in the lock. @default os.hostname() */
  host?: string
}

/** The lock is ours: this process may write. */
export interface WriteLock {
  mode: 'write'
  holder: LockHolder
  /** The lock file. */
  path: string
  /** Stops the heartbeat and removes the lock file if it is still ours. Safe to call twice. */
  release(): Promise<void>
}

/** Another live process holds the lock: open the workspace read-only and show `error`. */
export interface ReadOnlyLock {
  mode: 'read-only'
  /** A `locked` error naming the holder (`details.holder`). */
  error: SaveflowError
  /** The holder, or null when its lock file could not be read (being written at this instant). */
  holder: LockHolder | null
}

/** The answer of {@link acquireWorkspaceLock}. */
export type WorkspaceLock = WriteLock | ReadOnlyLock

const DEFAULT_HEARTBEAT_MS = 5000
const DEFAULT_STALE_MS = 30_000
// Each round either wins, answers read-only, or saw the lock change under it (another opener mid-takeover: up to
// a second of 25 ms pauses), which settles any race.
const MAX_ROUNDS = 40

/**
 * Takes the workspace lock, or tells who holds it. Never throws for a held lock: the answer is `read-only` with a
 * `locked` error. Throws a `SaveflowError` when the `.saveflow` folder cannot be created or read.
 */
export async function acquireWorkspaceLock(
  dir: string,
  options: WorkspaceLockOptions = {},
): Promise<WorkspaceLock> {
  const now = options.now ?? Date.now
  const staleMs = options.staleMs ?? DEFAULT_STALE_MS
  const folder = join(dir, '.saveflow')
  const path = join(folder, 'lock')
  try {
    await fs.mkdir(folder, { recursive: true, mode: 0o700 })
  } catch (error) {
    throw toSaveflowError(error)
  }
  const host = options.host ?? hostname()
  let last: LockHolder | null = null
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const holder: LockHolder = {
      pid: process.pid,
      host,
      startedAt: now(),
      heartbeatAt: now(),
      token: randomUUID(),
    }
    if (await createLock(path, holder)) return writeLock(path, holder, options)

    const seen = await inspect(path)
    if (seen === null) continue // released between our create and our look: try again
    last = seen.holder
    // An unreadable lock is being written at this instant, or is the wreck of a crash between create and write.
    const stale =
      seen.holder === null ? now() - seen.mtimeMs > staleMs : isStale(seen.holder, staleMs, now, host)
    if (!stale) return readOnly(seen.holder)
    await takeOver(folder, path, seen, staleMs, now)
  }
  return readOnly(last)
}

/** A lock file as found: who it names (null when unreadable) and which file it is. */
interface SeenLock {
  holder: LockHolder | null
  dev: bigint
  ino: bigint
  mtimeMs: number
}

async function createLock(path: string, holder: LockHolder): Promise<boolean> {
  let handle: FileHandle
  try {
    handle = await fs.open(path, 'wx', 0o600)
  } catch (error) {
    if (codeOf(error) === 'EEXIST') return false
    throw toSaveflowError(error)
  }
  try {
    // No fsync: a lock only matters while its holder runs, and after a power loss its pid is dead or its heartbeat old.
    await handle.writeFile(JSON.stringify(holder))
  } finally {
    await handle.close()
  }
  return true
}

/** Looks at the lock file: its identity and its content, through one handle so they belong together. */
async function inspect(path: string): Promise<SeenLock | null> {
  let handle: FileHandle
  try {
    handle = await fs.open(path, 'r')
  } catch (error) {
    if (codeOf(error) === 'ENOENT') return null
    throw toSaveflowError(error)
  }
  try {
    const stat = await handle.stat({ bigint: true })
    const holder = parseHolder(await handle.readFile('utf8'))
    return { holder, dev: stat.dev, ino: stat.ino, mtimeMs: Number(stat.mtimeMs) }
  } finally {
    await handle.close()
  }
}

function sameFile(a: { dev: bigint; ino: bigint }, b: { dev: bigint; ino: bigint }): boolean {
  return a.dev === b.dev && a.ino === b.ino
}

/**
 * The very lock file that was judged stale. Device and inode alone are not enough: once a takeover removed the stale
 * file, its inode number is free, and the winner's new lock may get it at once; an opener that judged the old file
 * stale would then move a live lock aside (two writers). Its holder's token and its mtime tell them apart.
 */
function sameLock(a: SeenLock, b: SeenLock): boolean {
  return sameFile(a, b) && a.mtimeMs === b.mtimeMs && (a.holder?.token ?? null) === (b.holder?.token ?? null)
}

function parseHolder(text: string): LockHolder | null {
  try {
    const value = JSON.parse(text) as Partial<LockHolder> | null
    if (
      typeof value?.pid === 'number' &&
      typeof value.host === 'string' &&
      typeof value.startedAt === 'number' &&
      typeof value.heartbeatAt === 'number' &&
      typeof value.token === 'string'
    ) {
      return value as LockHolder
    }
  } catch {
    // Not JSON (yet): the caller judges the file by its age.
  }
  return null
}

async function isOlderThan(path: string, ms: number, now: () => number): Promise<boolean> {
  try {
    return now() - (await fs.stat(path)).mtimeMs > ms
  } catch {
    return false
  }
}

function isStale(holder: LockHolder, staleMs: number, now: () => number, host: string): boolean {
  if (holder.host === host && !isAlive(holder.pid)) return true
  return now() - holder.heartbeatAt > staleMs
}

/** True unless the process certainly does not exist. EPERM means it exists under another user. */
function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return codeOf(error) !== 'ESRCH'
  }
}

/**
 * Moves a stale lock file aside, as the only opener doing so (see the module comment). Returns without a verdict:
 * the caller's next round competes for the lock path with `wx`.
 */
async function takeOver(
  folder: string,
  path: string,
  stale: SeenLock,
  staleMs: number,
  now: () => number,
): Promise<void> {
  const claim = join(folder, `lock.claim-${stale.dev}-${stale.ino}`)
  try {
    await (await fs.open(claim, 'wx', 0o600)).close()
  } catch (error) {
    if (codeOf(error) !== 'EEXIST') throw toSaveflowError(error)
    // Another opener is taking this lock over; a claim left by a crash mid-takeover is cleared once it is old.
    if (await isOlderThan(claim, staleMs, now)) await fs.rm(claim, { force: true })
    else await pause(25)
    return
  }
  try {
    const current = await inspect(path)
    if (current === null || !sameLock(current, stale)) return // it changed since we judged it: judge it again
    const aside = join(folder, `lock.stale-${randomUUID()}`)
    try {
      await fs.rename(path, aside)
    } catch (error) {
      if (codeOf(error) === 'ENOENT') return
      throw toSaveflowError(error)
    }
    const moved = await inspect(aside)
    if (moved === null || !sameLock(moved, stale)) {
      // Between our look and our rename the stale file was replaced by a live lock: put that one back. If the path
      // was taken again meanwhile, that holder's heartbeat finds its file gone and reports the lock lost.
      await fs.link(aside, path).catch(() => undefined)
    }
    await fs.rm(aside, { force: true })
  } finally {
    await fs.rm(claim, { force: true })
  }
}

function writeLock(path: string, holder: LockHolder, options: WorkspaceLockOptions): WriteLock {
  const now = options.now ?? Date.now
  let released = false
  let lost = false
  let beating: Promise<void> = Promise.resolve()

  const loseLock = () => {
    if (lost) return
    lost = true
    clearInterval(timer)
    options.onLost?.(
      new SaveflowError('locked', {
        message: 'The workspace lock was taken over by another process; this one is read-only now.',
        details: { path },
      }),
    )
  }

  const beat = async () => {
    const mine = await openIfMine(path, holder.token, 'r+')
    if (mine === null) return loseLock()
    try {
      holder.heartbeatAt = now()
      const text = JSON.stringify(holder)
      await mine.write(text, 0, 'utf8')
      await mine.truncate(Buffer.byteLength(text))
      // The descriptor is our file wherever it is now; make sure the lock path still is that file.
      const [atPath, ours] = await Promise.all([fs.stat(path).catch(() => null), mine.stat()])
      if (atPath?.ino !== ours.ino || atPath.dev !== ours.dev) loseLock()
    } finally {
      await mine.close()
    }
  }

  const timer = setInterval(() => {
    // One beat at a time; a failed beat (a busy disk) is not a lost lock: the next one tries again.
    beating = beating.then(beat).catch(() => undefined)
  }, options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS)
  timer.unref()

  return {
    mode: 'write',
    holder: { ...holder },
    path,
    async release() {
      if (released) return
      released = true
      clearInterval(timer)
      await beating
      if (lost) return
      const mine = await openIfMine(path, holder.token, 'r')
      if (mine === null) return
      await mine.close()
      await fs.rm(path, { force: true })
    },
  }
}

/** Opens the lock file and returns the handle if it holds `token`; the token is read through that very handle. */
async function openIfMine(path: string, token: string, flags: 'r' | 'r+'): Promise<FileHandle | null> {
  let handle: FileHandle
  try {
    handle = await fs.open(path, flags)
  } catch (error) {
    if (codeOf(error) === 'ENOENT') return null
    throw toSaveflowError(error)
  }
  const holder = parseHolder(await handle.readFile('utf8'))
  if (holder?.token === token) return handle
  await handle.close()
  return null
}

function readOnly(holder: LockHolder | null): ReadOnlyLock {
  const error =
    holder === null
      ? new SaveflowError('locked')
      : new SaveflowError('locked', {
          message: `Another process (pid ${holder.pid} on ${holder.host}, since ${isoTime(holder.startedAt)}) is using this workspace.`,
          details: { holder: { ...holder } },
        })
  return { mode: 'read-only', error, holder }
}

// The lock file may hold anything a process wrote; a time out of range must not turn the answer into a throw.
function isoTime(ms: number): string {
  const date = new Date(ms)
  return Number.isNaN(date.getTime()) ? String(ms) : date.toISOString()
}

function codeOf(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null ? (error as { code?: string }).code : undefined
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
