import { describe, expect, it } from 'vitest'
import { createRepository } from '../../src/core/repository'
import type { ProjectData } from '../../src/core/schemas'
import { createWorkspaceSession, type ReadyDocument } from '../../src/core/workspace-session'
import { type CrashOptions, createMemoryStorage, type MemoryStorage } from '../../src/testing'
import { TestClock } from '../machines/harness'
import { sampleProject } from './support/documents'

/**
 * A simulated power cut right after every step of a save, of a restore and of a recovery, all driven through the
 * session (coordinator, load machine, repository), then a reopen as a new session: DESIGN.md's invariants hold.
 * I1: what loads is data that was saved at the revision it claims. I2: never older than the last acknowledged save.
 * I4: no temp file is left after the open-time cleanup, and the next save succeeds. I5: a cut during recovery too.
 */

const config = { saveDebounce: 100, maxWait: 1000, backupInterval: 0, backupCount: 5 }
const CRASHES: [string, CrashOptions][] = [
  ['unsynced entries lost', { entries: 'drop' }],
  ['unsynced entries kept', { entries: 'keep' }],
]

const project = (revision: number): ProjectData => sampleProject(3, `revision ${revision}`)

function sessionOn(storage: MemoryStorage) {
  const clock = new TestClock()
  const repo = createRepository({ storage, now: () => clock.now(), config })
  const session = createWorkspaceSession({ repository: repo, config, clock })
  return { clock, repo, session }
}

async function savedProjects(n: number): Promise<MemoryStorage> {
  const storage = createMemoryStorage()
  const repo = createRepository({ storage, config })
  for (let revision = 1; revision <= n; revision++) await repo.save('project', project(revision), revision)
  storage.clearLog()
  return storage
}

/** Opens a crashed workspace the way `openWorkspace` does and checks I1 and I4; returns what loaded. */
async function reopen(crashed: MemoryStorage, label: string): Promise<ReadyDocument> {
  const { repo, session } = sessionOn(crashed)
  await repo.removeTempFiles()
  expect(await crashed.listTempFiles(), label).toEqual([])
  const opened = await session.open('project')
  expect(opened.status, label).toBe('ready')
  const document = opened as ReadyDocument
  // I1: the data is the data saved at the revision the file claims.
  expect(document.data, label).toEqual(project(document.savedRevision))
  // I4: the next save succeeds and reads back.
  session.change('project', project(99))
  expect(await session.flush('project'), label).toMatchObject({ result: 'saved' })
  expect(await createRepository({ storage: crashed }).load('project'), label).toMatchObject({
    ok: true,
    data: project(99),
  })
  await session.close()
  return document
}

describe('workspace session across simulated crashes', () => {
  it.each(CRASHES)('keeps I1, I2 and I4 after a cut at any step of a save (%s)', async (_, crash) => {
    const storage = await savedProjects(2)
    const { session } = sessionOn(storage)
    expect((await session.open('project')).status).toBe('ready')

    session.change('project', project(3))
    expect(await session.flush('project')).toMatchObject({ result: 'saved', savedRevision: 3 })
    const acknowledgedAt = storage.log.length

    const seen = new Set<number>()
    for (let n = 0; n <= storage.log.length; n++) {
      const label = `cut after step ${n} (${storage.log[n - 1]?.step ?? 'start'} ${storage.log[n - 1]?.path ?? ''})`
      const loaded = await reopen(storage.crashAfter(n, crash), label)
      // I2: the revision on disk before the save, or the saved one once it was acknowledged.
      expect(loaded.savedRevision, label).toBeGreaterThanOrEqual(n >= acknowledgedAt ? 3 : 2)
      seen.add(loaded.savedRevision)
    }
    expect([...seen].sort()).toEqual([2, 3])
  })

  it.each(CRASHES)('keeps I1, I2 and I4 after a cut at any step of a restore (%s)', async (_, crash) => {
    const storage = await savedProjects(3)
    const { session } = sessionOn(storage)
    expect((await session.open('project')).status).toBe('ready')
    const [newest] = await session.listBackups('project')

    const restored = await session.restoreBackup('project', newest!.id)
    expect(restored).toMatchObject({ revision: 2, data: project(2) })
    const acknowledgedAt = storage.log.length
    expect(acknowledgedAt).toBeGreaterThan(0)

    const seen = new Set<number>()
    for (let n = 0; n <= storage.log.length; n++) {
      const label = `cut after step ${n} (${storage.log[n - 1]?.step ?? 'start'} ${storage.log[n - 1]?.path ?? ''})`
      const loaded = await reopen(storage.crashAfter(n, crash), label)
      // The file before the restore, or the restored one: once acknowledged, the restored one.
      if (n >= acknowledgedAt) expect(loaded.savedRevision, label).toBe(2)
      else expect([2, 3], label).toContain(loaded.savedRevision)
      seen.add(loaded.savedRevision)
    }
    expect([...seen].sort()).toEqual([2, 3])
  })

  it.each(CRASHES)('keeps I1, I4 and I5 after a cut at any step of a recovery (%s)', async (_, crash) => {
    const storage = await savedProjects(3)
    const damaged = '{"format":1,"kind":"project","schemaVersion":1,"revi'
    await storage.writeAtomic('project.json', damaged)
    storage.clearLog()
    const { session } = sessionOn(storage)
    const opened = await session.open('project')
    expect(opened).toMatchObject({ status: 'ready', source: 'backup', savedRevision: 2 })

    for (let n = 0; n <= storage.log.length; n++) {
      const label = `cut after step ${n} (${storage.log[n - 1]?.step ?? 'start'} ${storage.log[n - 1]?.path ?? ''})`
      const crashed = storage.crashAfter(n, crash)
      const loaded = await reopen(crashed, label)
      // The newest good data, whichever step the cut hit; the damaged bytes are kept in quarantine.
      expect(loaded.savedRevision, label).toBe(2)
      const repo = createRepository({ storage: crashed })
      const kept = await Promise.all((await repo.listQuarantine()).map((path) => crashed.readText(path)))
      expect(kept, label).toContain(damaged)
    }
  })
})
