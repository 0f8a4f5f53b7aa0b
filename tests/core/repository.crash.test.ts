import { describe, expect, it } from 'vitest'
import { createRepository } from '../../src/core/repository'
import type { ProjectData } from '../../src/core/schemas'
import { type CrashOptions, createMemoryStorage, type MemoryStorage } from '../../src/testing'
import { recoverDocument, sampleProject } from './support/documents'

/**
 * A simulated power cut after every step of the backend calls, then a reopen: DESIGN.md's invariants must hold.
 * I1: a load returns data that was saved (checksum verified) or a typed error. I2: it is the last acknowledged save
 * or newer. I4: after cleanup no temp file is left and the next save succeeds. I5: a cut during recovery keeps them.
 */

const T0 = Date.parse('2026-01-15T10:00:00.000Z')
const MINUTE = 60_000
const CRASHES: [string, CrashOptions][] = [
  ['unsynced entries lost', { entries: 'drop' }],
  ['unsynced entries kept', { entries: 'keep' }],
]

const project = (revision: number): ProjectData => sampleProject(4, `revision ${revision}`)

function open(storage: MemoryStorage, clock: { now: number }) {
  return createRepository({
    storage,
    now: () => clock.now,
    config: { backupInterval: 5 * MINUTE, backupCount: 2 },
  })
}

/** Reopens a crashed workspace and checks I1, I2 and I4; returns the revision that loaded. */
async function reopenAndCheck(crashed: MemoryStorage, lastAcked: number, label: string): Promise<number> {
  const clock = { now: T0 + 60 * MINUTE }
  const repo = open(crashed, clock)
  await repo.removeTempFiles()
  expect(await crashed.listTempFiles(), label).toEqual([])
  const loaded = await repo.load('project')
  // I1: saved data, verified; here nothing can be damaged, so anything but success is a failure.
  expect(loaded.ok, label).toBe(true)
  if (!loaded.ok) return -1
  expect(loaded.data, label).toEqual(project(loaded.revision))
  // I2: never older than the last acknowledged save.
  expect(loaded.revision, label).toBeGreaterThanOrEqual(lastAcked)
  for (const backup of await repo.listBackups('project')) {
    const read = await repo.readBackup('project', backup)
    expect(read.ok && read.data, `${label} ${backup.name}`).toEqual(project(backup.revision))
  }
  // I4: the next save succeeds.
  await repo.save('project', project(99), 99)
  expect(await repo.load('project'), label).toMatchObject({ ok: true, revision: 99 })
  return loaded.revision
}

describe('repository across simulated crashes', () => {
  it.each(CRASHES)(
    'keeps I1, I2 and I4 after a cut at any step of a series of saves (%s)',
    async (_, crash) => {
      const clock = { now: T0 }
      const storage = createMemoryStorage({ now: () => clock.now })
      const repo = open(storage, clock)
      /** [log length when the save was acknowledged, revision]. */
      const acks: [number, number][] = []
      for (let revision = 1; revision <= 6; revision++) {
        await repo.save('project', project(revision), revision)
        acks.push([storage.log.length, revision])
        clock.now += 3 * MINUTE
      }
      expect(storage.log.some((op) => op.call === 'linkOrCopy')).toBe(true)
      expect(storage.log.some((op) => op.call === 'remove')).toBe(true)
      const seen = new Set<number>()
      for (let n = 0; n <= storage.log.length; n++) {
        const lastAcked = acks.filter(([at]) => at <= n).at(-1)?.[1] ?? 0
        const label = `crash after step ${n} (${storage.log[n - 1]?.step ?? 'start'} ${storage.log[n - 1]?.path ?? ''})`
        if (lastAcked === 0 && (await storage.crashAfter(n, crash).stat('project.json')) === null) continue
        seen.add(await reopenAndCheck(storage.crashAfter(n, crash), lastAcked, label))
      }
      // The cuts reached every revision, so the check above was not vacuous.
      expect([...seen].sort()).toEqual([1, 2, 3, 4, 5, 6])
    },
  )

  it.each(CRASHES)(
    'leaves temp files only where a cut can, and cleanup removes them (%s)',
    async (_, crash) => {
      const clock = { now: T0 }
      const storage = createMemoryStorage({ now: () => clock.now })
      const repo = open(storage, clock)
      await repo.save('project', project(1), 1)
      storage.clearLog()
      await repo.save('project', project(2), 2)
      const leftovers = storage.log.map((_, i) => Object.keys(storage.crashAfter(i + 1, crash).files()))
      const withTemp = leftovers.filter((paths) => paths.some((path) => /\.json\.\d+$/.test(path)))
      // Only a cut that keeps unsynced directory entries can leave the temp file behind.
      expect(withTemp.length > 0).toBe(crash.entries === 'keep')
      for (let n = 0; n <= storage.log.length; n++) {
        await reopenAndCheck(storage.crashAfter(n, crash), n === storage.log.length ? 2 : 1, `step ${n}`)
      }
    },
  )

  it.each(CRASHES)(
    'keeps I1-I4 when the cut comes during recovery from a corrupt file (I5, %s)',
    async (_, crash) => {
      const clock = { now: T0 }
      const storage = createMemoryStorage({ now: () => clock.now })
      const repo = open(storage, clock)
      for (let revision = 1; revision <= 3; revision++) {
        await repo.save('project', project(revision), revision)
        clock.now += 10 * MINUTE
      }
      await storage.writeAtomic('project.json', '{"format":1,"kind":"project","schemaVersion":1,"rev')
      storage.clearLog()
      const first = await recoverDocument(open(storage, clock), 'project')
      expect(first).toMatchObject({ outcome: 'restored', revision: 2 })
      for (let n = 0; n <= storage.log.length; n++) {
        const crashed = storage.crashAfter(n, crash)
        const label = `recovery cut after step ${n}`
        const reopened = open(crashed, { now: T0 + 90 * MINUTE })
        await reopened.removeTempFiles()
        const again = await recoverDocument(reopened, 'project')
        // Either the recovery had finished, or it runs again from the damaged file: never a missing document.
        expect(again.outcome === 'loaded' || again.outcome === 'restored', label).toBe(true)
        expect(again.outcome !== 'needs-user' && again.outcome !== 'failed' && again.revision, label).toBe(2)
        // Nothing the user wrote is gone: the damaged file is in quarantine (and maybe still in place before).
        const damaged = await reopened.listQuarantine()
        expect(damaged.length, label).toBeGreaterThanOrEqual(1)
        for (const path of damaged) expect(crashed.readText(path), label).toMatch(/"rev$/)
        expect(await crashed.listTempFiles(), label).toEqual([])
      }
    },
  )
})
