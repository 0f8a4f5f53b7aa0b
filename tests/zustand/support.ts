import { createRepository, type Repository } from '../../src/core/repository'
import { snapshotCodec } from '../../src/core/snapshot-codec'
import type { StorageBackend } from '../../src/core/storage'
import {
  createWorkspaceSession,
  type SessionRepository,
  type WorkspaceSession,
} from '../../src/core/workspace-session'
import { createMemoryStorage, type MemoryStorage } from '../../src/testing'
import type { BindableSession } from '../../src/zustand/bind-store'
import { TestClock } from '../machines/harness'

/** Deterministic time and ids for the reference stores: the same data on every run. */
export function testEnvironment(start = Date.parse('2026-01-15T10:00:00.000Z')) {
  let now = start
  let next = 0
  return {
    now: () => now,
    createId: () => `id${++next}`,
    advance(ms: number) {
      now += ms
    },
  }
}

export const config = { saveDebounce: 100, maxWait: 1000, backupInterval: 0, backupCount: 5 }

/** A session over the real repository and the memory backend, on a simulated clock. */
export function setup(
  options: {
    storage?: MemoryStorage
    /** Wraps the storage the repository uses (a faulty storage). */
    backend?: (memory: MemoryStorage) => StorageBackend
    wrap?: (repo: Repository) => SessionRepository
  } = {},
) {
  const clock = new TestClock()
  // Near the files' savedAt, so cache documents are within their TTL.
  clock.set(Date.parse('2026-01-15T12:00:00.000Z'))
  const memory = options.storage ?? createMemoryStorage({ now: () => clock.now() })
  const repo = createRepository({
    storage: options.backend?.(memory) ?? memory,
    now: () => clock.now(),
    config,
  })
  const session = createWorkspaceSession({
    repository: options.wrap?.(repo) ?? repo,
    config,
    clock,
    random: () => 0.5,
  })
  return { clock, memory, repo, session }
}

/** Reads a document back the way the next start would: a fresh session over the same storage. */
export async function reload(memory: MemoryStorage, key: string): Promise<unknown> {
  const { session } = setup({ storage: memory.fork() })
  const result = await session.open(key)
  if (result.status !== 'ready') throw new Error(`${key} did not load: ${result.status}`)
  return result.data
}

/** A file an earlier run wrote, verified and complete. */
export function fileOf(
  kind: 'project' | 'settings' | 'conversation' | 'cache',
  data: unknown,
  revision = 1,
  schemaVersion = kind === 'settings' ? 2 : 1,
) {
  return snapshotCodec.encode({
    kind,
    schemaVersion,
    revision,
    savedAt: '2026-01-15T10:00:00.000Z',
    data,
  })
}

/** The session with every `change` recorded (the binding's only way to write). */
export function recording(
  session: WorkspaceSession,
): BindableSession & { changes: Array<[string, unknown]> } {
  const changes: Array<[string, unknown]> = []
  return {
    changes,
    open: session.open,
    result: session.result,
    closeDocument: session.closeDocument,
    on: session.on,
    change(key, data) {
      changes.push([key, data])
      return session.change(key, data)
    },
  }
}

/** A repository whose primary loads wait until `release()`: a load held open while the app edits. */
export function holdLoads(repo: Repository) {
  let release!: () => void
  const gate = new Promise<void>((resolve) => {
    release = resolve
  })
  let waiting = 0
  const held: SessionRepository = {
    load: async (key) => {
      waiting++
      await gate
      return repo.load(key)
    },
    listBackups: (key) => repo.listBackups(key),
    readBackup: (key, backup) => repo.readBackup(key, backup),
    restoreBackup: (key, backup) => repo.restoreBackup(key, backup),
    quarantine: (key, reason) => repo.quarantine(key, reason),
    definitionFor: (key) => repo.definitionFor(key),
    validate: (key, data) => repo.validate(key, data),
    save: (key, data, revision, signal) => repo.save(key, data, revision, signal),
  }
  return { held, release, waiting: () => waiting }
}
