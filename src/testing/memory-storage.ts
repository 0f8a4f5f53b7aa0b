import { SaveflowError } from '../core/errors'
import {
  assertStorageDir,
  assertStoragePath,
  baseName,
  isTempFileName,
  parentDir,
  tempPathFor,
} from '../core/paths'
import type {
  LinkMethod,
  ReadOptions,
  StorageBackend,
  StorageData,
  StorageEntry,
  StorageOp,
  StorageStat,
  WriteAtomicOptions,
} from '../core/storage'
import {
  type CrashOptions,
  cloneState,
  crashState,
  type Inode,
  type MemoryState,
  stateFromFiles,
  syncDir,
} from './memory-state'
import { systemError } from './system-error'

/**
 * A {@link StorageBackend} in memory that models durability (see `memory-state.ts`) and records every step that
 * changes it, the way the fs backend performs them (a replace is create temp, write, fsync, rename, folder fsync).
 * After each step it keeps a copy of the state, so a test can ask what a power cut right after any step would
 * leave: `crashAfter(n)`. Browser-safe: stories use it too.
 */

/** The steps a call is made of, as a disk sees them. */
export type MemoryStepType =
  | 'mkdir'
  | 'create'
  | 'write'
  | 'append'
  | 'fsync'
  | 'rename'
  | 'link'
  | 'unlink'
  | 'truncate'
  | 'fsync-dir'

/** One recorded step. */
export interface MemoryOp {
  /** 1-based position in the log: `crashAfter(seq)` is the state right after this step. */
  seq: number
  step: MemoryStepType
  /** The backend call the step belongs to, and that call's number (steps of one call share it). */
  call: StorageOp
  callId: number
  /** The file or folder the step acts on. */
  path: string
  /** The target of a rename or link. */
  to?: string
  /** Bytes written, appended, or kept by a truncate. */
  bytes?: number
}

/** What a step hook sees before a step runs. Throwing from the hook fails the step (and so the call). */
export type MemoryStepHook = (step: Omit<MemoryOp, 'seq'>) => void

/** Options of {@link createMemoryStorage}. */
export interface MemoryStorageOptions {
  /** Files present (and durable) at the start. Text is stored as UTF-8. */
  files?: Readonly<Record<string, StorageData>>
  /** Clock for modification times. @default Date.now */
  now?: () => number
  /** False simulates a file system without hard links: `linkOrCopy` copies. @default true */
  hardLinks?: boolean
  /** Keep a state copy per step for `crashAfter` (turn off for long-running stories). @default true */
  record?: boolean
}

/** The memory backend: a {@link StorageBackend} plus the means to inspect it and crash it. */
export interface MemoryStorage extends StorageBackend {
  /** Every step so far (since creation or `clearLog`). */
  readonly log: readonly MemoryOp[]
  /** Simulates a power cut now: what was not durable is lost (see {@link CrashOptions}). */
  crash(options?: CrashOptions): void
  /**
   * A new memory backend holding what a power cut right after step `n` of the log would have left (`0`: before
   * the first step). This backend is not changed. Requires `record`.
   */
  crashAfter(n: number, options?: CrashOptions): MemoryStorage
  /** A new memory backend with the same state, volatile parts included, and an empty log. */
  fork(): MemoryStorage
  /** The files a reader sees now. */
  files(): Record<string, Uint8Array>
  /** The files a crash with `entries: 'drop'` would leave. */
  durableFiles(): Record<string, Uint8Array>
  /** A file as UTF-8 text, or `undefined`. */
  readText(path: string): string | undefined
  /** Forgets the log; `crashAfter(0)` is then the current state. */
  clearLog(): void
  /** Installs (or with `null` removes) a hook that runs before every step and may fail it. */
  setStepHook(hook: MemoryStepHook | null): void
}

const encoder = new TextEncoder()
const decoder = new TextDecoder()
const toBytes = (data: StorageData): Uint8Array =>
  typeof data === 'string' ? encoder.encode(data) : data.slice()

/** Creates a memory backend. */
export function createMemoryStorage(options: MemoryStorageOptions = {}): MemoryStorage {
  const now = options.now ?? Date.now
  const initial: Record<string, Uint8Array> = {}
  for (const [path, data] of Object.entries(options.files ?? {})) {
    assertStoragePath(path)
    initial[path] = toBytes(data)
  }
  return fromState(stateFromFiles(initial, now()), options)
}

function fromState(start: MemoryState, options: MemoryStorageOptions): MemoryStorage {
  const now = options.now ?? Date.now
  const hardLinks = options.hardLinks ?? true
  const record = options.record ?? true
  let state = start
  let base = cloneState(state)
  let log: MemoryOp[] = []
  let states: MemoryState[] = []
  let hook: MemoryStepHook | null = null
  let callCount = 0
  let tempCount = 0

  /** Runs one step: the hook may fail it, then it is applied and recorded. */
  function step(
    call: [StorageOp, number],
    type: MemoryStepType,
    path: string,
    apply: () => void,
    extra: { to?: string; bytes?: number } = {},
  ): void {
    const op = { step: type, call: call[0], callId: call[1], path, ...extra }
    hook?.(op)
    apply()
    log.push({ seq: log.length + 1, ...op })
    if (record) states.push(cloneState(state))
  }

  const inodeOf = (path: string, syscall: string): Inode => {
    const inode = state.files.get(path)
    if (inode === undefined) throw systemError(state.dirs.has(path) ? 'EISDIR' : 'ENOENT', syscall, path)
    return inode
  }

  /** Creates missing folders, each made durable by a fsync of its parent, as the fs backend does. */
  function ensureDir(call: [StorageOp, number], dir: string): void {
    if (dir === '' || state.dirs.has(dir)) return
    ensureDir(call, parentDir(dir))
    if (state.files.has(dir)) throw systemError('EEXIST', 'mkdir', dir)
    step(call, 'mkdir', dir, () => state.dirs.add(dir))
    step(call, 'fsync-dir', parentDir(dir), () => syncDir(state, parentDir(dir)))
  }

  const syncDirStep = (call: [StorageOp, number], dir: string): void =>
    step(call, 'fsync-dir', dir, () => syncDir(state, dir))

  const begin = async (op: StorageOp): Promise<[StorageOp, number]> => {
    // A real backend never completes synchronously; neither does this one, so interleavings stay realistic.
    await Promise.resolve()
    return [op, ++callCount]
  }

  function createTemp(call: [StorageOp, number], path: string, bytes: Uint8Array): string {
    const temp = tempPathFor(path, ++tempCount)
    step(call, 'create', temp, () => {
      state.files.set(temp, {
        data: new Uint8Array(0),
        synced: new Uint8Array(0),
        appendOnly: false,
        mtimeMs: now(),
      })
    })
    step(
      call,
      'write',
      temp,
      () => {
        const inode = inodeOf(temp, 'write')
        inode.data = bytes
        inode.appendOnly = false
        inode.mtimeMs = now()
      },
      { bytes: bytes.length },
    )
    step(call, 'fsync', temp, () => {
      const inode = inodeOf(temp, 'fsync')
      inode.synced = inode.data
      inode.appendOnly = true
    })
    return temp
  }

  /** Removes a failed write's temp file, as write-file-atomic does; a failure here is ignored like there. */
  function discard(call: [StorageOp, number], temp: string): void {
    if (!state.files.has(temp)) return
    try {
      step(call, 'unlink', temp, () => state.files.delete(temp))
    } catch {
      // The temp file stays; removeTempFiles finds it on the next open.
    }
  }

  const backend: StorageBackend = {
    async writeAtomic(path: string, data: StorageData, opts: WriteAtomicOptions = {}): Promise<void> {
      assertStoragePath(path)
      const bytes = toBytes(data)
      const call = await begin('writeAtomic')
      opts.signal?.throwIfAborted()
      if (state.dirs.has(path)) throw systemError('EISDIR', 'rename', path)
      ensureDir(call, parentDir(path))
      let temp: string | undefined
      try {
        temp = createTemp(call, path, bytes)
        opts.signal?.throwIfAborted()
        const from = temp
        step(call, 'rename', from, () => renameEntry(from, path), { to: path })
      } catch (error) {
        if (temp !== undefined) discard(call, temp)
        throw error
      }
      syncDirStep(call, parentDir(path))
    },

    async append(path: string, data: StorageData): Promise<void> {
      assertStoragePath(path)
      const bytes = toBytes(data)
      const call = await begin('append')
      ensureDir(call, parentDir(path))
      const created = !state.files.has(path)
      if (created) {
        step(call, 'create', path, () => {
          const empty = new Uint8Array(0)
          state.files.set(path, { data: empty, synced: empty, appendOnly: true, mtimeMs: now() })
        })
      }
      step(
        call,
        'append',
        path,
        () => {
          const inode = inodeOf(path, 'write')
          const next = new Uint8Array(inode.data.length + bytes.length)
          next.set(inode.data)
          next.set(bytes, inode.data.length)
          inode.data = next
          inode.mtimeMs = now()
        },
        { bytes: bytes.length },
      )
      step(call, 'fsync', path, () => {
        const inode = inodeOf(path, 'fsync')
        inode.synced = inode.data
        inode.appendOnly = true
      })
      if (created) syncDirStep(call, parentDir(path))
    },

    async read(path: string, opts: ReadOptions): Promise<Uint8Array> {
      assertStoragePath(path)
      await begin('read')
      const inode = inodeOf(path, 'open')
      if (inode.data.length > opts.maxBytes) {
        throw new SaveflowError('too-large', {
          message: `The file is ${inode.data.length} bytes; at most ${opts.maxBytes} are read.`,
          details: { path, size: inode.data.length, maxBytes: opts.maxBytes },
        })
      }
      return inode.data.slice()
    },

    async stat(path: string): Promise<StorageStat | null> {
      assertStoragePath(path)
      await begin('stat')
      const inode = state.files.get(path)
      if (inode !== undefined) return { size: inode.data.length, mtimeMs: inode.mtimeMs, isDirectory: false }
      return state.dirs.has(path) ? { size: 0, mtimeMs: 0, isDirectory: true } : null
    },

    async list(dir: string): Promise<StorageEntry[]> {
      assertStorageDir(dir)
      await begin('list')
      const entries: StorageEntry[] = []
      for (const path of state.files.keys()) {
        if (parentDir(path) === dir) entries.push({ name: baseName(path), isDirectory: false })
      }
      for (const sub of state.dirs) {
        if (parentDir(sub) === dir) entries.push({ name: baseName(sub), isDirectory: true })
      }
      return entries
    },

    async rename(from: string, to: string): Promise<void> {
      assertStoragePath(from)
      assertStoragePath(to)
      const call = await begin('rename')
      inodeOf(from, 'rename')
      if (state.dirs.has(to)) throw systemError('EISDIR', 'rename', to)
      ensureDir(call, parentDir(to))
      step(call, 'rename', from, () => renameEntry(from, to), { to })
      syncDirStep(call, parentDir(to))
      if (parentDir(from) !== parentDir(to)) syncDirStep(call, parentDir(from))
    },

    async linkOrCopy(from: string, to: string): Promise<LinkMethod> {
      assertStoragePath(from)
      assertStoragePath(to)
      const call = await begin('linkOrCopy')
      const inode = inodeOf(from, 'link')
      if (state.files.has(to) || state.dirs.has(to)) throw systemError('EEXIST', 'link', to)
      ensureDir(call, parentDir(to))
      if (hardLinks) {
        step(call, 'link', from, () => state.files.set(to, inode), { to })
        syncDirStep(call, parentDir(to))
        return 'link'
      }
      let temp: string | undefined
      try {
        temp = createTemp(call, to, inode.data)
        const tempPath = temp
        step(call, 'rename', tempPath, () => renameEntry(tempPath, to), { to })
      } catch (error) {
        if (temp !== undefined) discard(call, temp)
        throw error
      }
      syncDirStep(call, parentDir(to))
      return 'copy'
    },

    async remove(path: string): Promise<void> {
      assertStoragePath(path)
      const call = await begin('remove')
      if (state.dirs.has(path)) throw systemError('EISDIR', 'unlink', path)
      if (!state.files.has(path)) return
      step(call, 'unlink', path, () => state.files.delete(path))
      syncDirStep(call, parentDir(path))
    },

    async truncate(path: string, size: number): Promise<void> {
      assertStoragePath(path)
      const call = await begin('truncate')
      inodeOf(path, 'open')
      if (!Number.isInteger(size) || size < 0) throw systemError('EINVAL', 'ftruncate', path)
      step(
        call,
        'truncate',
        path,
        () => {
          const inode = inodeOf(path, 'ftruncate')
          const next = new Uint8Array(size)
          next.set(inode.data.subarray(0, size))
          inode.data = next
          inode.appendOnly = false
          inode.mtimeMs = now()
        },
        { bytes: size },
      )
      step(call, 'fsync', path, () => {
        const inode = inodeOf(path, 'fsync')
        inode.synced = inode.data
        inode.appendOnly = true
      })
    },

    async listTempFiles(): Promise<string[]> {
      await begin('listTempFiles')
      return tempFiles()
    },

    async removeTempFiles(): Promise<string[]> {
      const call = await begin('removeTempFiles')
      const removed = tempFiles()
      for (const path of removed) step(call, 'unlink', path, () => state.files.delete(path))
      for (const dir of new Set(removed.map(parentDir))) syncDirStep(call, dir)
      return removed
    },
  }

  function renameEntry(from: string, to: string): void {
    const inode = inodeOf(from, 'rename')
    state.files.delete(from)
    state.files.set(to, inode)
  }

  const tempFiles = (): string[] =>
    [...state.files.keys()].filter((path) => isTempFileName(baseName(path))).sort()

  const snapshotOf = (files: Map<string, Inode>, pick: (inode: Inode) => Uint8Array) =>
    Object.fromEntries(
      [...files].sort(([a], [b]) => (a < b ? -1 : 1)).map(([path, inode]) => [path, pick(inode)]),
    )

  return {
    ...backend,
    get log() {
      return log
    },
    crash(crashOptions?: CrashOptions) {
      state = crashState(state, crashOptions)
    },
    crashAfter(n: number, crashOptions?: CrashOptions) {
      if (!record)
        throw new SaveflowError('io', { message: 'crashAfter needs a memory backend with record: true.' })
      if (!Number.isInteger(n) || n < 0 || n > log.length) {
        throw new SaveflowError('io', { message: `No step ${n} in a log of ${log.length} steps.` })
      }
      const at = n === 0 ? base : states[n - 1]!
      return fromState(crashState(at, crashOptions), options)
    },
    fork() {
      return fromState(cloneState(state), options)
    },
    files: () => snapshotOf(state.files, (inode) => inode.data.slice()),
    durableFiles: () => snapshotOf(crashState(state).files, (inode) => inode.data.slice()),
    readText(path: string) {
      const inode = state.files.get(path)
      return inode === undefined ? undefined : decoder.decode(inode.data)
    },
    clearLog() {
      log = []
      states = []
      base = cloneState(state)
    },
    setStepHook(next: MemoryStepHook | null) {
      hook = next
    },
  }
}
