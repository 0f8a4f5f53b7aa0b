import { constants } from 'node:fs'
import * as nodeFs from 'node:fs/promises'
import nodePath from 'node:path'
import writeFileAtomic from 'write-file-atomic'
import { SaveflowError } from '../core/errors'
import {
  assertStorageDir,
  assertStoragePath,
  isTempFileName,
  joinPath,
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
  StorageStat,
  WriteAtomicOptions,
} from '../core/storage'

/**
 * The {@link StorageBackend} on a real folder (Node only). A replace is write-file-atomic (temp file, fsync,
 * rename) followed by our fsync of the folder; every other change fsyncs what it touched. See `storage.ts` for the
 * contract.
 */

/** The `node:fs/promises` functions the backend uses besides write-file-atomic; tests inject wrappers to watch them. */
export type FsPromises = Pick<
  typeof nodeFs,
  'open' | 'stat' | 'readdir' | 'mkdir' | 'rename' | 'link' | 'copyFile' | 'unlink'
>

/** Options of {@link createFsStorage}. */
export interface FsStorageOptions {
  /** Mode of created files (settings may hold API keys). @default 0o600 */
  fileMode?: number
  /** Mode of created folders. @default 0o700 */
  dirMode?: number
  /** The file system functions to use (not write-file-atomic's own). @default node:fs/promises */
  fs?: FsPromises
  /** Decides whether folders are fsynced: Windows cannot open a folder for fsync. @default process.platform */
  platform?: NodeJS.Platform
}

/** Errors of `link` that mean "this file system has no hard links here": a copy is made instead. */
const NO_LINK = new Set(['EXDEV', 'EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EMLINK', 'ENOSYS'])
/** Errors of a folder fsync that mean "this file system does not fsync folders", not a failed flush. */
const NO_DIR_SYNC = new Set(['EINVAL', 'ENOTSUP', 'EOPNOTSUPP', 'EISDIR'])
/** How deep `listTempFiles` looks; a workspace is shallow (`.saveflow/backups/conversation/<id>/`). */
const MAX_DEPTH = 8

const codeOf = (error: unknown): unknown => (error as { code?: unknown } | null)?.code

function fsError(code: string, message: string, path: string): Error {
  return Object.assign(new Error(`${code}: ${message}, '${path}'`), { code, path })
}

/** Creates the backend for the workspace folder `root` (an absolute path; created on the first write if missing). */
export function createFsStorage(root: string, options: FsStorageOptions = {}): StorageBackend {
  if (!nodePath.isAbsolute(root)) {
    throw new SaveflowError('invalid-id', { message: 'The workspace folder must be an absolute path.' })
  }
  const base = nodePath.resolve(root)
  const fs = options.fs ?? nodeFs
  const fileMode = options.fileMode ?? 0o600
  const dirMode = options.dirMode ?? 0o700
  const syncDirs = (options.platform ?? process.platform) !== 'win32'

  const abs = (relative: string): string =>
    relative === '' ? base : nodePath.join(base, ...relative.split('/'))

  const fsyncDir = (relative: string): Promise<void> => fsyncDirAt(abs(relative))

  async function fsyncDirAt(dirPath: string): Promise<void> {
    if (!syncDirs) return
    const handle = await fs.open(dirPath, 'r')
    try {
      await handle.sync()
    } catch (error) {
      if (!NO_DIR_SYNC.has(codeOf(error) as string)) throw error
    } finally {
      await handle.close()
    }
  }

  /** Creates `dir` and missing parents (mode 0700), fsyncing the parent of each one created so it survives a crash. */
  async function ensureDir(dir: string): Promise<void> {
    const target = abs(dir)
    const first = await fs.mkdir(target, { recursive: true, mode: dirMode })
    if (first === undefined) return
    const created: string[] = []
    for (let p = target; ; p = nodePath.dirname(p)) {
      created.unshift(p)
      if (p === first || p === nodePath.dirname(p)) break
    }
    for (const dirPath of created) await fsyncDirAt(nodePath.dirname(dirPath))
  }

  /** Writes all of `bytes` at `position` (or appends, with `null`), looping over short writes. */
  async function writeAll(handle: nodeFs.FileHandle, bytes: Uint8Array, path: string, append: boolean) {
    let offset = 0
    while (offset < bytes.length) {
      const { bytesWritten } = await handle.write(
        bytes,
        offset,
        bytes.length - offset,
        append ? null : offset,
      )
      if (bytesWritten <= 0) throw fsError('EIO', 'write made no progress', path)
      offset += bytesWritten
    }
  }

  const toBytes = (data: StorageData): Uint8Array =>
    typeof data === 'string' ? Buffer.from(data, 'utf8') : data

  async function walk(dir: string, depth: number, found: string[]): Promise<void> {
    let entries: import('node:fs').Dirent[]
    try {
      entries = await fs.readdir(abs(dir), { withFileTypes: true })
    } catch (error) {
      if (codeOf(error) === 'ENOENT' || codeOf(error) === 'ENOTDIR') return
      throw error
    }
    for (const entry of entries) {
      const path = joinPath(dir, entry.name)
      if (entry.isDirectory() && depth < MAX_DEPTH) await walk(path, depth + 1, found)
      else if (entry.isFile() && isTempFileName(entry.name)) found.push(path)
    }
  }

  return {
    async writeAtomic(path: string, data: StorageData, opts: WriteAtomicOptions = {}): Promise<void> {
      assertStoragePath(path)
      opts.signal?.throwIfAborted()
      const bytes = toBytes(data)
      await ensureDir(parentDir(path))
      // write-file-atomic 7.0.1 writes its data with one fs.write and ignores a short count, so on a filling disk
      // it would fsync and rename a truncated file over the good one. We hand it no data and write the bytes
      // ourselves, looping, in its tmpfileCreated hook (awaited in 7.0.1, though @types 4.0.3 types it as void);
      // it then fsyncs the temp file, renames it, and removes it on any failure, as before.
      await writeFileAtomic(abs(path), '', {
        mode: fileMode,
        fsync: true,
        tmpfileCreated: async (tmpfile: string) => {
          opts.signal?.throwIfAborted()
          const handle = await fs.open(tmpfile, 'r+')
          try {
            await writeAll(handle, bytes, tmpfile, false)
          } finally {
            await handle.close()
          }
          // The last moment to give up: after this hook write-file-atomic fsyncs and renames.
          opts.signal?.throwIfAborted()
        },
      })
      await fsyncDir(parentDir(path))
    },

    async append(path: string, data: StorageData, opts: AppendOptions = {}): Promise<void> {
      assertStoragePath(path)
      opts.signal?.throwIfAborted()
      const bytes = toBytes(data)
      await ensureDir(parentDir(path))
      // The last moment to give up: once the file is opened (perhaps created) the append completes, fsync included.
      opts.signal?.throwIfAborted()
      let created = true
      let handle: nodeFs.FileHandle
      try {
        handle = await fs.open(abs(path), 'ax', fileMode)
      } catch (error) {
        if (codeOf(error) !== 'EEXIST') throw error
        created = false
        handle = await fs.open(abs(path), 'a', fileMode)
      }
      try {
        await writeAll(handle, bytes, path, true)
        await handle.sync()
      } finally {
        await handle.close()
      }
      if (created) await fsyncDir(parentDir(path))
    },

    async read(path: string, opts: ReadOptions): Promise<Uint8Array> {
      assertStoragePath(path)
      const handle = await fs.open(abs(path), 'r')
      try {
        const stat = await handle.stat()
        if (stat.isDirectory()) throw fsError('EISDIR', 'illegal operation on a directory', path)
        if (stat.size > opts.maxBytes) {
          throw new SaveflowError('too-large', {
            message: `The file is ${stat.size} bytes; at most ${opts.maxBytes} are read.`,
            details: { path, size: stat.size, maxBytes: opts.maxBytes },
          })
        }
        const buffer = new Uint8Array(stat.size)
        let offset = 0
        while (offset < buffer.length) {
          const { bytesRead } = await handle.read(buffer, offset, buffer.length - offset, offset)
          if (bytesRead === 0) break
          offset += bytesRead
        }
        return offset === buffer.length ? buffer : buffer.subarray(0, offset)
      } finally {
        await handle.close()
      }
    },

    async stat(path: string): Promise<StorageStat | null> {
      assertStoragePath(path)
      try {
        const stat = await fs.stat(abs(path))
        return {
          size: stat.isDirectory() ? 0 : stat.size,
          mtimeMs: stat.mtimeMs,
          isDirectory: stat.isDirectory(),
        }
      } catch (error) {
        if (codeOf(error) === 'ENOENT' || codeOf(error) === 'ENOTDIR') return null
        throw error
      }
    },

    async list(dir: string): Promise<StorageEntry[]> {
      assertStorageDir(dir)
      try {
        const entries = await fs.readdir(abs(dir), { withFileTypes: true })
        return entries.map((entry) => ({ name: entry.name, isDirectory: entry.isDirectory() }))
      } catch (error) {
        if (codeOf(error) === 'ENOENT' || codeOf(error) === 'ENOTDIR') return []
        throw error
      }
    },

    async rename(from: string, to: string): Promise<void> {
      assertStoragePath(from)
      assertStoragePath(to)
      await ensureDir(parentDir(to))
      // EXDEV (the target folder is on another file system) is thrown as it is: no copy-and-delete fallback.
      await fs.rename(abs(from), abs(to))
      await fsyncDir(parentDir(to))
      if (parentDir(from) !== parentDir(to)) await fsyncDir(parentDir(from))
    },

    async linkOrCopy(from: string, to: string): Promise<LinkMethod> {
      assertStoragePath(from)
      assertStoragePath(to)
      await ensureDir(parentDir(to))
      try {
        await fs.link(abs(from), abs(to))
        await fsyncDir(parentDir(to))
        return 'link'
      } catch (error) {
        if (!NO_LINK.has(codeOf(error) as string)) throw error
      }
      const temp = tempPathFor(to, Math.floor(Math.random() * 4_294_967_296))
      try {
        await fs.copyFile(abs(from), abs(temp), constants.COPYFILE_EXCL)
        const handle = await fs.open(abs(temp), 'r+')
        try {
          await handle.chmod(fileMode)
          await handle.sync()
        } finally {
          await handle.close()
        }
        // rename would replace an existing backup; the check keeps the "never overwrite" promise (one writer).
        if (await exists(abs(to))) throw fsError('EEXIST', 'file already exists', to)
        await fs.rename(abs(temp), abs(to))
      } catch (error) {
        await fs.unlink(abs(temp)).catch(() => {})
        throw error
      }
      await fsyncDir(parentDir(to))
      return 'copy'
    },

    async remove(path: string): Promise<void> {
      assertStoragePath(path)
      try {
        await fs.unlink(abs(path))
      } catch (error) {
        if (codeOf(error) === 'ENOENT') return
        throw error
      }
      await fsyncDir(parentDir(path))
    },

    async truncate(path: string, size: number): Promise<void> {
      assertStoragePath(path)
      const handle = await fs.open(abs(path), 'r+')
      try {
        await handle.truncate(size)
        await handle.sync()
      } finally {
        await handle.close()
      }
    },

    async listTempFiles(): Promise<string[]> {
      const found: string[] = []
      await walk('', 0, found)
      return found.sort()
    },

    async removeTempFiles(): Promise<string[]> {
      const found: string[] = []
      await walk('', 0, found)
      for (const path of found) {
        await fs.unlink(abs(path)).catch((error: unknown) => {
          if (codeOf(error) !== 'ENOENT') throw error
        })
      }
      for (const dir of new Set(found.map(parentDir))) await fsyncDir(dir)
      return found.sort()
    },
  }

  async function exists(path: string): Promise<boolean> {
    try {
      await fs.stat(path)
      return true
    } catch (error) {
      if (codeOf(error) === 'ENOENT') return false
      throw error
    }
  }
}
