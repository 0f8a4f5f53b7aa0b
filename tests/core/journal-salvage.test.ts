import { describe, expect, it } from 'vitest'
import { createRepository } from '../../src/core/repository'
import type { ProjectData } from '../../src/core/schemas'
import { createWorkspaceSession, type OpenResult, type ReadyDocument } from '../../src/core/workspace-session'
import { createMemoryStorage, type MemoryStorage } from '../../src/testing'
import { TestClock } from '../machines/harness'
import { sampleProject } from './support/documents'

// One backup per interval: the first save backs up the state it replaces, the next ones only append.
const config = { saveDebounce: 100, maxWait: 1000, backupInterval: 600_000, backupCount: 5 }

const project = (revision: number): ProjectData => sampleProject(3, `revision ${revision}`)

function ready<T>(result: OpenResult<T>): ReadyDocument<T> {
  expect(result.status).toBe('ready')
  return result as ReadyDocument<T>
}

/** Flips one letter inside the data of `project.json`: the JSON stays valid, the checksum does not. */
async function damageSnapshot(storage: MemoryStorage): Promise<string> {
  const damaged = storage.readText('project.json')!.replace('revision', 'revisiom')
  await storage.writeAtomic('project.json', damaged)
  return damaged
}

function open(storage: MemoryStorage) {
  const clock = new TestClock()
  const repository = createRepository({ storage, now: () => clock.now(), config })
  const session = createWorkspaceSession({ repository, config, clock, random: () => 0.5 })
  return { clock, session }
}

describe('journal salvage', () => {
  it('replays the quarantined journal on the backup it starts from, so no acknowledged save is lost', async () => {
    const storage = createMemoryStorage()
    const writer = createRepository({ storage, config })
    for (let revision = 1; revision <= 3; revision++)
      await writer.save('project', project(revision), revision)
    const journal = storage.readText('project.journal.jsonl')!
    const damaged = await damageSnapshot(storage)
    const { clock, session } = open(storage)

    const opened = ready(await session.open('project'))

    expect(opened).toMatchObject({ source: 'backup', data: project(3), savedRevision: 3 })
    expect(opened.recovery).toMatchObject({
      problem: { code: 'corrupt' },
      restoredFrom: { revision: 1 },
      replayedTo: 3,
    })
    const quarantined = Object.entries(storage.files())
      .filter(([path]) => path.startsWith('.saveflow/quarantine/'))
      .map(([, bytes]) => new TextDecoder().decode(bytes))
    expect(quarantined.sort()).toEqual([damaged, journal].sort())

    session.change('project', project(4))
    await clock.advance(150)
    expect(await createRepository({ storage, config }).load('project')).toMatchObject({
      ok: true,
      revision: 4,
      data: project(4),
    })
    expect(await storage.listTempFiles()).toEqual([])
  })

  it('opens the backup as it is when the journal starts from another snapshot', async () => {
    const storage = createMemoryStorage()
    const writer = createRepository({ storage, config })
    await writer.save('project', project(1), 1)
    await writer.save('project', project(2), 2)
    // The compaction folds revision 2 into project.json: the journal now starts there, not at backup 1.
    await writer.compact('project')
    await writer.save('project', project(3), 3)
    await damageSnapshot(storage)
    const { session } = open(storage)

    const opened = ready(await session.open('project'))

    expect(opened).toMatchObject({ source: 'backup', data: project(1), savedRevision: 1 })
    expect(opened.recovery).toMatchObject({ restoredFrom: { revision: 1 } })
    expect(opened.recovery).not.toHaveProperty('replayedTo')
  })
})
