import { describe, expect, it } from 'vitest'
import { createRepository, type Repository } from '../../src/core/repository'
import { type CrashOptions, createMemoryStorage, type MemoryStorage } from '../../src/testing'
import { CRASH_DOCS, type CrashDoc } from './support/crash-docs'
import { recoverDocument } from './support/documents'

/**
 * A simulated power cut after every step of the backend calls, then a reopen: DESIGN.md's invariants must hold, for
 * every layout (a snapshot, the project's snapshot plus journal, a conversation log).
 * I1: a load returns data that was saved (checksum verified) or a typed error. I2: it is the last acknowledged save
 * or newer. I3: a journal loads as a gap-free prefix holding every acknowledged record (the data of a revision is
 * exactly what was saved at that revision, and a cut never reads as damage). I4: after cleanup no temp file is left
 * and the next saves succeed. I5: a cut during recovery keeps them.
 */

const T0 = Date.parse('2026-01-15T10:00:00.000Z')
const MINUTE = 60_000

/** Drop or keep unsynced directory entries; of an unsynced append keep half, all but one byte, nothing, or all. */
const CRASHES: [string, CrashOptions][] = [
  ['entries lost, half an append', { entries: 'drop' }],
  ['entries kept, half an append', { entries: 'keep' }],
  ['entries lost, all but one byte of an append', { entries: 'drop', appendedBytes: (n) => n - 1 }],
  ['entries kept, none of an append', { entries: 'keep', appendedBytes: () => 0 }],
  ['entries lost, all of an append', { entries: 'drop', appendedBytes: (n) => n }],
]

function open(storage: MemoryStorage, clock: { now: number }): Repository {
  return createRepository({
    storage,
    now: () => clock.now,
    config: { backupInterval: 5 * MINUTE, backupCount: 2 },
    // Small thresholds, so the series below compacts on its way and the cuts land inside compactions too.
    compaction: { journalMaxRecords: 6, logDeadRecords: 3, logDeadRatio: 0 },
  })
}

/** Reopens a crashed workspace and checks I1-I4; returns the revision that loaded. */
async function reopenAndCheck(doc: CrashDoc, crashed: MemoryStorage, lastAcked: number, label: string) {
  const clock = { now: T0 + 60 * MINUTE }
  const repo = open(crashed, clock)
  await repo.removeTempFiles()
  expect(await crashed.listTempFiles(), label).toEqual([])
  const loaded = await repo.load(doc.key)
  // I1: saved data, verified; nothing here can be damaged, so anything but success is a failure.
  expect(loaded.ok, label).toBe(true)
  if (!loaded.ok) return -1
  // I3: exactly the data of that revision: no record missing, none half applied; a cut is never damage.
  expect(loaded.data, label).toEqual(doc.at(loaded.revision))
  expect(loaded.journal?.damage, label).toBeUndefined()
  // I2: never older than the last acknowledged save.
  expect(loaded.revision, label).toBeGreaterThanOrEqual(lastAcked)
  for (const backup of await repo.listBackups(doc.key)) {
    const read = await repo.readBackup(doc.key, backup)
    expect(read.ok && read.data, `${label} ${backup.name}`).toEqual(doc.at(backup.revision))
  }
  // I4: the next saves succeed (the first one after a torn tail cuts it off), and read back.
  await repo.save(doc.key, doc.at(loaded.revision + 1), 98)
  await repo.save(doc.key, doc.at(loaded.revision + 2), 99)
  const again = await open(crashed, clock).load(doc.key)
  expect(again, label).toMatchObject({ ok: true, revision: 99, data: doc.at(loaded.revision + 2) })
  return loaded.revision
}

describe.each(CRASH_DOCS)('repository across simulated crashes: %s', (_, doc) => {
  it.each(CRASHES)('keeps I1-I4 after a cut at any step of a series of saves (%s)', async (_, crash) => {
    const clock = { now: T0 }
    const storage = createMemoryStorage({ now: () => clock.now })
    const repo = open(storage, clock)
    /** [log length when the save was acknowledged, revision]. */
    const acks: [number, number][] = []
    for (let revision = 1; revision <= 8; revision++) {
      await repo.save(doc.key, doc.at(revision), revision)
      acks.push([storage.log.length, revision])
      clock.now += 3 * MINUTE
    }
    const calls = new Set(storage.log.map((op) => op.call))
    expect(calls.has('linkOrCopy') || calls.has('writeAtomic')).toBe(true)
    expect(calls.has('remove')).toBe(true)
    if (doc.journaled) {
      expect(calls.has('append')).toBe(true)
      // Besides the first save, at least one compaction replaced the file: the cuts land inside one too.
      const replaced = storage.log.filter((op) => op.step === 'rename' && op.to === repo.pathOf(doc.key))
      expect(replaced.length).toBeGreaterThanOrEqual(2)
    }
    const seen = new Set<number>()
    for (let n = 0; n <= storage.log.length; n++) {
      const lastAcked = acks.filter(([at]) => at <= n).at(-1)?.[1] ?? 0
      const step = storage.log[n - 1]
      const label = `cut after step ${n} (${step?.call ?? 'start'} ${step?.step ?? ''} ${step?.path ?? ''})`
      if (lastAcked === 0 && (await open(storage.crashAfter(n, crash), clock).load(doc.key)).ok === false)
        continue
      seen.add(await reopenAndCheck(doc, storage.crashAfter(n, crash), lastAcked, label))
    }
    // The cuts reached every revision, so the checks above were not vacuous.
    expect([...seen].sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8])
  })

  it.each(CRASHES.slice(0, 2))(
    'leaves temp files only where a cut can, and cleanup removes them (%s)',
    async (_, crash) => {
      const clock = { now: T0 }
      const storage = createMemoryStorage({ now: () => clock.now })
      const repo = open(storage, clock)
      await repo.save(doc.key, doc.at(1), 1)
      await repo.save(doc.key, doc.at(2), 2)
      storage.clearLog()
      // A whole write of the document: a snapshot save, or a compaction of a log or journal.
      if (doc.journaled) expect((await repo.compact(doc.key)).bytes).toBeGreaterThan(0)
      else await repo.save(doc.key, doc.at(3), 3)
      const revision = doc.journaled ? 2 : 3
      const leftovers = storage.log.map((_, i) => Object.keys(storage.crashAfter(i + 1, crash).files()))
      const withTemp = leftovers.filter((paths) => paths.some((path) => /\.jsonl?\.\d+$/.test(path)))
      // Only a cut that keeps unsynced directory entries can leave the temp file behind.
      expect(withTemp.length > 0).toBe(crash.entries === 'keep')
      for (let n = 0; n <= storage.log.length; n++) {
        await reopenAndCheck(
          doc,
          storage.crashAfter(n, crash),
          n === storage.log.length ? revision : 2,
          `step ${n}`,
        )
      }
    },
  )
})

describe('repository: recovery across simulated crashes', () => {
  it.each(CRASHES.slice(0, 2))(
    'keeps I1-I4 when the cut comes during recovery from a corrupt project.json (I5, %s)',
    async (_, crash) => {
      const clock = { now: T0 }
      const storage = createMemoryStorage({ now: () => clock.now })
      const project = CRASH_DOCS[1]![1]
      const repo = open(storage, clock)
      for (let revision = 1; revision <= 3; revision++) {
        await repo.save('project', project.at(revision), revision)
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
        expect(again.outcome !== 'needs-user' && again.outcome !== 'failed' && again.data, label).toEqual(
          project.at(2),
        )
        // Nothing the user wrote is gone: the damaged snapshot is in quarantine (and maybe still in place
        // before), and so is the journal that went with it.
        const damaged = await reopened.listQuarantine()
        const snapshots = damaged.filter((path) => path.includes('/project.'))
        expect(snapshots.length, label).toBeGreaterThanOrEqual(1)
        for (const path of snapshots) {
          const text = crashed.readText(path)!
          expect(text.endsWith('"rev') || text.startsWith('{"len":'), label).toBe(true)
        }
        expect(await crashed.listTempFiles(), label).toEqual([])
      }
    },
  )
})
