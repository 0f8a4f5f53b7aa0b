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
  AppendOptions,
  LinkMethod,
  ReadOptions,
  StorageBackend,
  StorageData,
  StorageEntry,
  StorageOp,
  StorageStat,
  WriteAtomicOptions,
} from '../core/storage'
import { type Inode, type MemoryState, syncDir } from './memory-state'
import { systemError } from './system-error'

/**
 * The {@link StorageBackend} methods of the memory backend, written as the disk steps the fs backend performs (a
 * replace is create temp, write, fsync, rename, folder fsync). Every change goes through `disk.step`, which lets a
 * hook fail it and records it; `memory-storage.ts` owns the state, the log and the crash API.
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

/** A backend call in progress: its name and its number. */
export type Call = readonly [StorageOp, number]

/** What the backend methods need from the memory storage that owns them. */
export interface MemoryDisk {
  /** The current state (a crash replaces it, so it is read anew each time). */
  readonly state: MemoryState
  now(): number
  /** False: `linkOrCopy` copies, as on a file system without hard links. */
  readonly hardLinks: boolean
  /** Runs one step: the hook may fail it (throw), then `apply` runs and the step is recorded. */
  step(
    call: Call,
    type: MemoryStepType,
    path: string,
    apply: () => void,
    extra?: { to?: string; bytes?: number },
  ): void
  nextCallId(): number
  nextTempNumber(): number
}

const encoder = new TextEncoder()
const toBytes = (data: StorageData): Uint8Array =>
  typeof data === 'string' ? encoder.encode(data) : data.slice()

/** The backend methods over `disk`. */
export function memoryBackend(disk: MemoryDisk): StorageBackend {
  const inodeOf = (path: string, syscall: string): Inode => {
    const inode = disk.state.files.get(path)
    if (inode === undefined) throw systemError(disk.state.dirs.has(path) ? 'EISDIR' : 'ENOENT', syscall, path)
    return inode
  }

  /** Creates missing folders, each made durable by a fsync of its parent, as the fs backend does. */
  function ensureDir(call: Call, dir: string): void {
    if (dir === '' || disk.state.dirs.has(dir)) return
    ensureDir(call, parentDir(dir))
    if (disk.state.files.has(dir)) throw systemError('EEXIST', 'mkdir', dir)
    disk.step(call, 'mkdir', dir, () => disk.state.dirs.add(dir))
    disk.step(call, 'fsync-dir', parentDir(dir), () => syncDir(disk.state, parentDir(dir)))
  }

  const syncDirStep = (call: Call, dir: string): void =>
    disk.step(call, 'fsync-dir', dir, () => syncDir(disk.state, dir))

  const begin = async (op: StorageOp): Promise<Call> => {
    // A real backend never completes synchronously; neither does this one, so interleavings stay realistic.
    await Promise.resolve()
    return [op, disk.nextCallId()]
  }

  /** Creates, writes and fsyncs a temp file; on failure the caller discards it. */
  function createTemp(call: Call, temp: string, bytes: Uint8Array): void {
    disk.step(call, 'create', temp, () => {
      disk.state.files.set(temp, {
        data: new Uint8Array(0),
        synced: new Uint8Array(0),
        appendOnly: false,
        mtimeMs: disk.now(),
      })
    })
    disk.step(
      call,
      'write',
      temp,
      () => {
        const inode = inodeOf(temp, 'write')
        inode.data = bytes
        inode.appendOnly = false
        inode.mtimeMs = disk.now()
      },
      { bytes: bytes.length },
    )
    disk.step(call, 'fsync', temp, () => {
      const inode = inodeOf(temp, 'fsync')
      inode.synced = inode.data
      inode.appendOnly = true
    })
  }

  /** Removes a failed write's temp file, as write-file-atomic does; a failure here is ignored like there. */
  function discard(call: Call, temp: string): void {
    if (!disk.state.files.has(temp)) return
    try {
      disk.step(call, 'unlink', temp, () => disk.state.files.delete(temp))
    } catch {
      // The temp file stays; removeTempFiles finds it on the next open.
    }
  }

  return {
    async writeAtomic(path: string, data: StorageData, opts: WriteAtomicOptions = {}): Promise<void> {
      assertStoragePath(path)
      const bytes = toBytes(data)
      const call = await begin('writeAtomic')
      opts.signal?.throwIfAborted()
      if (disk.state.dirs.has(path)) throw systemError('EISDIR', 'rename', path)
      ensureDir(call, parentDir(path))
      const temp = tempPathFor(path, disk.nextTempNumber())
      try {
        createTemp(call, temp, bytes)
        opts.signal?.throwIfAborted()
        disk.step(call, 'rename', temp, () => renameEntry(temp, path), { to: path })
      } catch (error) {
        discard(call, temp)
        throw error
      }
      syncDirStep(call, parentDir(path))
    },

    async append(path: string, data: StorageData, opts: AppendOptions = {}): Promise<void> {
      assertStoragePath(path)
      const bytes = toBytes(data)
      const call = await begin('append')
      opts.signal?.throwIfAborted()
      ensureDir(call, parentDir(path))
      const created = !disk.state.files.has(path)
      if (created) {
        disk.step(call, 'create', path, () => {
          const empty = new Uint8Array(0)
          disk.state.files.set(path, { data: empty, synced: empty, appendOnly: true, mtimeMs: disk.now() })
        })
      }
      disk.step(
        call,
        'append',
        path,
        () => {
          const inode = inodeOf(path, 'write')
          const next = new Uint8Array(inode.data.length + bytes.length)
          next.set(inode.data)
          next.set(bytes, inode.data.length)
          inode.data = next
          inode.mtimeMs = disk.now()
        },
        { bytes: bytes.length },
      )
      disk.step(call, 'fsync', path, () => {
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
      const inode = disk.state.files.get(path)
      if (inode !== undefined) return { size: inode.data.length, mtimeMs: inode.mtimeMs, isDirectory: false }
      return disk.state.dirs.has(path) ? { size: 0, mtimeMs: 0, isDirectory: true } : null
    },

    async list(dir: string): Promise<StorageEntry[]> {
      assertStorageDir(dir)
      await begin('list')
      const entries: StorageEntry[] = []
      for (const path of disk.state.files.keys()) {
        if (parentDir(path) === dir) entries.push({ name: baseName(path), isDirectory: false })
      }
      for (const sub of disk.state.dirs) {
        if (parentDir(sub) === dir) entries.push({ name: baseName(sub), isDirectory: true })
      }
      return entries
    },

    async rename(from: string, to: string): Promise<void> {
      assertStoragePath(from)
      assertStoragePath(to)
      const call = await begin('rename')
      inodeOf(from, 'rename')
      if (disk.state.dirs.has(to)) throw systemError('EISDIR', 'rename', to)
      ensureDir(call, parentDir(to))
      disk.step(call, 'rename', from, () => renameEntry(from, to), { to })
      syncDirStep(call, parentDir(to))
      if (parentDir(from) !== parentDir(to)) syncDirStep(call, parentDir(from))
    },

    async linkOrCopy(from: string, to: string): Promise<LinkMethod> {
      assertStoragePath(from)
      assertStoragePath(to)
      const call = await begin('linkOrCopy')
      const inode = inodeOf(from, 'link')
      if (disk.state.files.has(to) || disk.state.dirs.has(to)) throw systemError('EEXIST', 'link', to)
      ensureDir(call, parentDir(to))
      if (disk.hardLinks) {
        disk.step(call, 'link', from, () => disk.state.files.set(to, inode), { to })
        syncDirStep(call, parentDir(to))
        return 'link'
      }
      const temp = tempPathFor(to, disk.nextTempNumber())
      try {
        createTemp(call, temp, inode.data)
        disk.step(call, 'rename', temp, () => renameEntry(temp, to), { to })
      } catch (error) {
        discard(call, temp)
        throw error
      }
      syncDirStep(call, parentDir(to))
      return 'copy'
    },

    async remove(path: string): Promise<void> {
      assertStoragePath(path)
      const call = await begin('remove')
      if (disk.state.dirs.has(path)) throw systemError('EISDIR', 'unlink', path)
      if (!disk.state.files.has(path)) return
      disk.step(call, 'unlink', path, () => disk.state.files.delete(path))
      syncDirStep(call, parentDir(path))
    },

    async truncate(path: string, size: number): Promise<void> {
      assertStoragePath(path)
      const call = await begin('truncate')
      inodeOf(path, 'open')
      if (!Number.isInteger(size) || size < 0) throw systemError('EINVAL', 'ftruncate', path)
      disk.step(
        call,
        'truncate',
        path,
        () => {
          const inode = inodeOf(path, 'ftruncate')
          const next = new Uint8Array(size)
          next.set(inode.data.subarray(0, size))
          inode.data = next
          inode.appendOnly = false
          inode.mtimeMs = disk.now()
        },
        { bytes: size },
      )
      disk.step(call, 'fsync', path, () => {
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
      for (const path of removed) disk.step(call, 'unlink', path, () => disk.state.files.delete(path))
      for (const dir of new Set(removed.map(parentDir))) syncDirStep(call, dir)
      return removed
    },
  }

  function renameEntry(from: string, to: string): void {
    const inode = inodeOf(from, 'rename')
    disk.state.files.delete(from)
    disk.state.files.set(to, inode)
  }

  function tempFiles(): string[] {
    return [...disk.state.files.keys()].filter((path) => isTempFileName(baseName(path))).sort()
  }
}
