/**
 * The seam between saveflow and a disk. The repository speaks only this interface; the fs backend
 * (`saveflow/node`), the memory backend and the faulty wrapper (`saveflow/testing`) implement it, and an rpc client
 * can too.
 *
 * Contract shared by every method:
 * - Paths are workspace-relative, '/'-separated and checked ({@link assertStoragePath}); a bad path rejects with a
 *   `SaveflowError` `invalid-id` before anything is touched.
 * - Failures reject with a Node-like error carrying a system `code` (`ENOENT`, `ENOSPC`, `EACCES`, ...) or with a
 *   `SaveflowError`; callers turn either into a `SaveflowError` with `toSaveflowError`.
 * - A method that changes the disk resolves only once the change is durable: file data fsynced and, when a
 *   directory entry was created, renamed or removed, the folder fsynced too (skipped where the platform cannot,
 *   Windows). That is DESIGN.md's durability rule 1 and 4.
 * - Folders are created as needed (mode 0700 on disk backends); files are created with mode 0600.
 * - A backend never keeps a reference to `data` after the call settles: callers may reuse their buffers.
 */

/** Bytes or text (text is written as UTF-8). */
export type StorageData = Uint8Array | string

/** What {@link StorageBackend.stat} reports. */
export interface StorageStat {
  /** Size in bytes (0 for a folder). */
  size: number
  /** Last modification time, ms since the epoch. */
  mtimeMs: number
  isDirectory: boolean
}

/** One entry of a folder listing. */
export interface StorageEntry {
  name: string
  isDirectory: boolean
}

/** Options of {@link StorageBackend.writeAtomic}. */
export interface WriteAtomicOptions {
  /**
   * Aborts the write while it can still be abandoned (before the rename): it then rejects with an `AbortError`
   * and the target is untouched. Once the rename happened the write completes.
   */
  signal?: AbortSignal
}

/** Options of {@link StorageBackend.append}. */
export interface AppendOptions {
  /**
   * Aborts the append while it can still be abandoned (before the file is opened): it then rejects with an
   * `AbortError` and the file is untouched. Once the file is open the append completes, fsync included.
   */
  signal?: AbortSignal
}

/** Options of {@link StorageBackend.read}. */
export interface ReadOptions {
  /**
   * Largest file that is read. The size is checked before a byte is read; a larger file rejects with a
   * `SaveflowError` `too-large` whose details hold `size` and `maxBytes`.
   */
  maxBytes: number
}

/** How {@link StorageBackend.linkOrCopy} made the second name. */
export type LinkMethod = 'link' | 'copy'

/** The names of the methods of {@link StorageBackend}, for logs, fault rules and the rpc bridge. */
export type StorageOp =
  | 'writeAtomic'
  | 'append'
  | 'read'
  | 'stat'
  | 'list'
  | 'rename'
  | 'linkOrCopy'
  | 'remove'
  | 'truncate'
  | 'listTempFiles'
  | 'removeTempFiles'

/** Every {@link StorageOp}, in a stable order. */
export const STORAGE_OPS: readonly StorageOp[] = [
  'writeAtomic',
  'append',
  'read',
  'stat',
  'list',
  'rename',
  'linkOrCopy',
  'remove',
  'truncate',
  'listTempFiles',
  'removeTempFiles',
]

/** A small, async file store rooted at a workspace folder. */
export interface StorageBackend {
  /**
   * Replaces `path` with `data` atomically and durably: a temp file beside it (named as `isTempFileName`
   * recognises), fsynced, renamed over the target, then the folder fsynced. On any failure the temp file is
   * removed and the old file is untouched; a retry starts from a fresh temp file (an fd is never fsynced twice).
   * A rename that would cross file systems (`EXDEV`) is an error, never a silent non-atomic write.
   */
  writeAtomic(path: string, data: StorageData, options?: WriteAtomicOptions): Promise<void>

  /**
   * Appends `data` to `path` (created if missing) and fsyncs it; the folder is fsynced too when the file was
   * created. For journals: after a crash the file holds the old content plus a prefix of the unsynced append.
   */
  append(path: string, data: StorageData, options?: AppendOptions): Promise<void>

  /** Reads a whole file, refusing one larger than `maxBytes` before reading it. A missing file rejects `ENOENT`. */
  read(path: string, options: ReadOptions): Promise<Uint8Array>

  /** Size, time and type of `path`, or `null` when it does not exist. */
  stat(path: string): Promise<StorageStat | null>

  /** The entries of a folder (`''` is the workspace folder), in no particular order; `[]` for a missing folder. */
  list(dir: string): Promise<StorageEntry[]>

  /**
   * Moves a file, durably (both folders fsynced). Replaces an existing target, like POSIX rename. Used to move a
   * file into quarantine. `EXDEV` is reported, never worked around by a copy and delete.
   */
  rename(from: string, to: string): Promise<void>

  /**
   * Gives the file at `from` a second name `to`: a hard link when the file system allows it, else a durable copy
   * (temp file, fsync, rename). Rejects `EEXIST` when `to` exists, so a backup is never overwritten.
   */
  linkOrCopy(from: string, to: string): Promise<LinkMethod>

  /** Removes a file, durably. A missing file is not an error. */
  remove(path: string): Promise<void>

  /** Cuts a file to `size` bytes and fsyncs it (to cut off a torn journal tail). */
  truncate(path: string, size: number): Promise<void>

  /** Every temp file anywhere in the workspace (what a crash in the middle of a write leaves behind). */
  listTempFiles(): Promise<string[]>

  /**
   * Removes every temp file and returns their paths. Call it when a workspace is opened, before any write: a
   * write in flight owns a temp file that this would remove.
   */
  removeTempFiles(): Promise<string[]>
}
