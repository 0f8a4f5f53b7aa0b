import { parentDir } from '../core/paths'

/**
 * The state model of the memory backend, kept apart from the backend so a crash can be computed from any recorded
 * state. Two layers, as on a real disk:
 * - what a running process sees: `files` (path to inode) and `dirs`;
 * - what survives a power cut: `durableFiles` and `durableDirs` (the directory entries as of each folder's last
 *   fsync) plus each inode's `synced` bytes (its data as of its last fsync).
 * File data becomes durable on the file's fsync; creating, renaming, linking or removing an entry becomes durable
 * only on the fsync of its folder; a new folder only on the fsync of its parent.
 */

/** One file's content. Shared by every path that links to it. Byte arrays are never changed in place. */
export interface Inode {
  /** What a reader sees now. */
  data: Uint8Array
  /** What survives a crash: the data as of the last fsync. */
  synced: Uint8Array
  /** True while every change since the last fsync was an append: a crash then keeps a prefix of the new bytes. */
  appendOnly: boolean
  mtimeMs: number
}

/** Everything the memory backend holds. */
export interface MemoryState {
  files: Map<string, Inode>
  dirs: Set<string>
  durableFiles: Map<string, Inode>
  durableDirs: Set<string>
}

/** How a simulated crash treats what was not made durable. */
export interface CrashOptions {
  /**
   * Directory changes (create, rename, link, unlink, mkdir) not yet made durable by a folder fsync: `drop` loses
   * them all (the default, and what the durability rules must survive); `keep` keeps them all, as if the system
   * had flushed them on its own (this is how a crash leaves temp files behind).
   */
  entries?: 'drop' | 'keep'
  /** Bytes of an unsynced append that survive, given how many were appended. @default half, rounded down */
  appendedBytes?: (unsynced: number) => number
}

/** A state with nothing in it. */
export function emptyState(): MemoryState {
  return { files: new Map(), dirs: new Set(), durableFiles: new Map(), durableDirs: new Set() }
}

/** A fully durable state holding `files`; their folders are created too. */
export function stateFromFiles(files: Readonly<Record<string, Uint8Array>>, mtimeMs: number): MemoryState {
  const state = emptyState()
  for (const [path, bytes] of Object.entries(files)) {
    const data = bytes.slice()
    const inode: Inode = { data, synced: data, appendOnly: true, mtimeMs }
    state.files.set(path, inode)
    state.durableFiles.set(path, inode)
    for (let dir = parentDir(path); dir !== ''; dir = parentDir(dir)) {
      state.dirs.add(dir)
      state.durableDirs.add(dir)
    }
  }
  return state
}

/** A deep copy that keeps hard links linked (one inode copy per inode). */
export function cloneState(state: MemoryState): MemoryState {
  const copies = new Map<Inode, Inode>()
  const copy = (inode: Inode): Inode => {
    let clone = copies.get(inode)
    if (clone === undefined) {
      clone = { ...inode }
      copies.set(inode, clone)
    }
    return clone
  }
  return {
    files: new Map([...state.files].map(([path, inode]) => [path, copy(inode)])),
    dirs: new Set(state.dirs),
    durableFiles: new Map([...state.durableFiles].map(([path, inode]) => [path, copy(inode)])),
    durableDirs: new Set(state.durableDirs),
  }
}

/**
 * The state after a power cut in `state`, fully durable: entries as the options say, each file's synced bytes
 * (plus a prefix of an unsynced append), and nothing whose folder did not survive.
 */
export function crashState(state: MemoryState, options: CrashOptions = {}): MemoryState {
  const keep = options.entries === 'keep'
  const appended = options.appendedBytes ?? ((n: number) => Math.floor(n / 2))
  const dirs = keep ? state.dirs : state.durableDirs
  const entries = keep ? state.files : state.durableFiles
  const survives = (dir: string): boolean => dir === '' || (dirs.has(dir) && survives(parentDir(dir)))
  const out = emptyState()
  for (const dir of dirs) {
    if (survives(dir)) {
      out.dirs.add(dir)
      out.durableDirs.add(dir)
    }
  }
  const after = new Map<Inode, Inode>()
  for (const [path, inode] of entries) {
    if (!survives(parentDir(path))) continue
    let survivor = after.get(inode)
    if (survivor === undefined) {
      let data = inode.synced
      const unsynced = inode.data.length - inode.synced.length
      if (inode.appendOnly && unsynced > 0) {
        const kept = Math.max(0, Math.min(unsynced, Math.floor(appended(unsynced))))
        data = inode.data.slice(0, inode.synced.length + kept)
      }
      survivor = { data, synced: data, appendOnly: true, mtimeMs: inode.mtimeMs }
      after.set(inode, survivor)
    }
    out.files.set(path, survivor)
    out.durableFiles.set(path, survivor)
  }
  return out
}

/** Makes the entries of folder `dir` durable: the durable layer now matches what is visible there. */
export function syncDir(state: MemoryState, dir: string): void {
  for (const path of [...state.durableFiles.keys()]) {
    if (parentDir(path) === dir && !state.files.has(path)) state.durableFiles.delete(path)
  }
  for (const [path, inode] of state.files) {
    if (parentDir(path) === dir) state.durableFiles.set(path, inode)
  }
  for (const sub of [...state.durableDirs]) {
    if (parentDir(sub) === dir && !state.dirs.has(sub)) state.durableDirs.delete(sub)
  }
  for (const sub of state.dirs) {
    if (parentDir(sub) === dir) state.durableDirs.add(sub)
  }
}
