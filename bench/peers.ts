/**
 * The libraries people reach for today, each driven the way its documentation shows, on the same data and edits as
 * saveflow. Every peer rewrites the whole state on each save; none fsyncs the folder, keeps a checksum or a backup.
 */
import { open, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import Conf from 'conf'
import { Low } from 'lowdb'
import { JSONFile } from 'lowdb/node'
import writeFileAtomic from 'write-file-atomic'
import { createJSONStorage, persist, type StateStorage } from 'zustand/middleware'
import { createStore } from 'zustand/vanilla'

/** One persistence library under test, holding the whole state in one file. */
export interface Peer {
  readonly name: string
  /** Short name for tables and results. */
  readonly id: string
  /** The absolute path of the one file holding the state. */
  readonly file: string
  /** Writes the whole state and resolves when the library says it is saved. */
  save(state: unknown): Promise<void>
  /** Reads the state back from disk, as the library does on start-up. */
  load(): Promise<unknown>
}

/** A factory per peer; each gets its own folder. */
export type PeerFactory = (dir: string) => Promise<Peer>

async function fsyncFolder(dir: string): Promise<void> {
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/** The raw reference: `JSON.stringify`, write-file-atomic (temp, fsync, rename), then a folder fsync. */
export const rawReference: PeerFactory = async (dir) => {
  const file = join(dir, 'project.json')
  return {
    name: 'raw (stringify + atomic write + folder fsync)',
    id: 'raw',
    file,
    async save(state) {
      await writeFileAtomic(file, JSON.stringify(state), { fsync: true })
      await fsyncFolder(dir)
    },
    async load() {
      return JSON.parse(await readFile(file, 'utf8'))
    },
  }
}

/** conf 15 (electron-store's engine): synchronous atomic write of the whole store on every `set`. */
export const confPeer: PeerFactory = async (dir) => {
  const conf = new Conf<Record<string, unknown>>({ cwd: dir, configName: 'project', projectName: 'bench' })
  return {
    name: 'conf 15 (electron-store)',
    id: 'conf',
    file: conf.path,
    async save(state) {
      conf.store = state as Record<string, unknown>
    },
    async load() {
      return new Conf<Record<string, unknown>>({ cwd: dir, configName: 'project', projectName: 'bench' })
        .store
    },
  }
}

/** lowdb 7 over steno: temp file and rename, no fsync. */
export const lowdbPeer: PeerFactory = async (dir) => {
  const file = join(dir, 'db.json')
  const db = new Low<unknown>(new JSONFile(file), {})
  return {
    name: 'lowdb 7 (steno)',
    id: 'lowdb',
    file,
    async save(state) {
      db.data = state
      await db.write()
    },
    async load() {
      const fresh = new Low<unknown>(new JSONFile(file), {})
      await fresh.read()
      return fresh.data
    },
  }
}

/**
 * zustand's `persist` over a file-backed `StateStorage`, the way Electron and local-server apps wire it: `setItem`
 * writes the whole serialized store to one file on every state change.
 */
export const zustandPersistPeer: PeerFactory = async (dir) => {
  const file = (name: string) => join(dir, `${name}.json`)
  let lastWrite: Promise<void> = Promise.resolve()
  const fileStorage: StateStorage = {
    getItem: async (name) => {
      try {
        return await readFile(file(name), 'utf8')
      } catch {
        return null
      }
    },
    setItem: (name, value) => {
      lastWrite = writeFile(file(name), value)
      return lastWrite
    },
    removeItem: async () => {},
  }
  const storage = createJSONStorage<{ state: unknown }>(() => fileStorage)
  const store = createStore<{ state: unknown }>()(
    persist(() => ({ state: null as unknown }), { name: 'project', storage }),
  )
  return {
    name: 'zustand persist (file StateStorage)',
    id: 'zustand',
    file: file('project'),
    async save(state) {
      store.setState({ state })
      await lastWrite
    },
    /**
     * A fresh persisted store, hydrated as on start-up. zustand itself never throws here: it hands a hydration error
     * to `onRehydrateStorage` and keeps the initial state. This load throws that error so callers can see it.
     */
    async load() {
      let failure: unknown = null
      const fresh = createStore<{ state: unknown }>()(
        persist(() => ({ state: null as unknown }), {
          name: 'project',
          storage,
          skipHydration: true,
          onRehydrateStorage: () => (_state, error) => {
            if (error !== undefined) failure = error
          },
        }),
      )
      await fresh.persist.rehydrate()
      if (failure !== null) throw failure
      return fresh.getState().state
    },
  }
}

/**
 * Flushes what a peer's save left in the page cache (an fsync of its file), outside any timing. A peer that does not
 * fsync leaves megabytes of dirty pages behind, and the next fsync of anyone (the next save of an interleaved series)
 * would pay for writing them out: on this machine's ext4, a node edit's append took ~11 ms instead of ~3 ms right
 * after a 20 MB write left unsynced. Settling after each peer keeps every measured save to its own work.
 */
export async function settle(peer: Peer): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>>
  try {
    handle = await open(peer.file, 'r')
  } catch {
    return
  }
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/** Every peer, in the order the results table lists them. */
export const PEERS: readonly PeerFactory[] = [rawReference, confPeer, lowdbPeer, zustandPersistPeer]
