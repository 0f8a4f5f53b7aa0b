import { describe, expect, it } from 'vitest'
import { toSaveflowError } from '../../src/core/errors'
import { createRepository, type Repository, type RepositoryEvent } from '../../src/core/repository'
import type { StorageBackend, StorageData } from '../../src/core/storage'
import {
  createFaultyStorage,
  createMemoryStorage,
  type FaultCode,
  type FaultyCall,
  type MemoryStorage,
  systemError,
} from '../../src/testing'
import { CRASH_DOCS, type CrashDoc } from './support/crash-docs'
import { FAULT_TABLE } from './support/faults'

/**
 * Error injection into the journaled documents (a conversation log, the project journal): every backend call of an
 * append (with a backup due), of a compaction, of a restore and of the repair of a torn tail, with each error of
 * DESIGN.md's table, once (transient) and for good (persistent); and appends that fail after writing part of their
 * bytes. Whatever fails: the error arrives mapped, the document loads as the last acknowledged revision or the one
 * being written (never damaged, never a mix), no temp file is left, every backup verifies, and once the fault is
 * gone the next save succeeds.
 */

const T0 = Date.parse('2026-01-15T10:00:00.000Z')
const HOUR = 3_600_000

const JOURNALED = CRASH_DOCS.filter(([, doc]) => doc.journaled)

function open(storage: StorageBackend, events: RepositoryEvent[] = [], now = T0 + 2 * HOUR): Repository {
  return createRepository({
    storage,
    now: () => now,
    config: { backupInterval: HOUR, backupCount: 3 },
    onEvent: (event) => events.push(event),
  })
}

/** Revision 3 of `doc` saved through the repository, with backups of revisions 0, 1 and 2, an hour apart. */
async function workspace(doc: CrashDoc): Promise<MemoryStorage> {
  const clock = { now: T0 - 3 * HOUR }
  const storage = createMemoryStorage({ now: () => clock.now })
  const repo = createRepository({
    storage,
    now: () => clock.now,
    config: { backupInterval: HOUR, backupCount: 3 },
  })
  for (let revision = 0; revision <= 3; revision++) {
    await repo.save(doc.key, doc.at(revision), revision)
    clock.now += HOUR
  }
  expect((await repo.listBackups(doc.key)).map((b) => b.revision)).toEqual([2, 1, 0])
  return storage
}

interface Scenario {
  name: string
  /** Prepares the workspace (after the load that opens the document). */
  arrange?: (repo: Repository, doc: CrashDoc) => Promise<unknown>
  act: (repo: Repository, doc: CrashDoc) => Promise<unknown>
  /** Revisions the document may load as after the act failed, and the one after it succeeded. */
  afterFailure: number[]
  afterSuccess: number
  /** A failure of call `index` is reported as an event while the act succeeds. */
  tolerated: (index: number, calls: readonly FaultyCall[]) => boolean
}

const inBackups = (call: FaultyCall) => call.path.startsWith('.saveflow/backups')

const SCENARIOS: Scenario[] = [
  {
    name: 'append with a backup due',
    act: (repo, doc) => repo.save(doc.key, doc.at(4), 4),
    afterFailure: [3],
    afterSuccess: 4,
    // Taking and pruning the backup may fail: the user's newest data matters more than an old copy.
    tolerated: (index, calls) => calls[index]!.op !== 'append',
  },
  {
    name: 'compaction on demand',
    act: async (repo, doc) => expect((await repo.compact(doc.key)).bytes).toBeGreaterThan(0),
    afterFailure: [3],
    afterSuccess: 3,
    tolerated: () => false,
  },
  {
    name: 'restore of the oldest backup',
    act: async (repo, doc) => repo.restoreBackup(doc.key, (await repo.listBackups(doc.key)).at(-1)!),
    // Once the restored data is written, only the journal reset and pruning are left.
    afterFailure: [3, 0],
    afterSuccess: 0,
    tolerated: (index, calls) => {
      const write = calls.findLastIndex(
        (c) => c.op === 'writeAtomic' && !inBackups(c) && !c.path.includes('quarantine'),
      )
      return index > write && inBackups(calls[index]!)
    },
  },
  {
    name: 'append after a torn tail',
    arrange: async (repo, doc) => {
      await repo.storage.append(
        repo.pathOf(doc.key) === 'project.json' ? 'project.journal.jsonl' : repo.pathOf(doc.key),
        '{"len":40,"crc":"12',
      )
      const loaded = await repo.load(doc.key)
      expect(loaded.ok && loaded.journal?.tornBytes).toBe(19)
    },
    act: (repo, doc) => repo.save(doc.key, doc.at(4), 4),
    afterFailure: [3],
    afterSuccess: 4,
    tolerated: (index, calls) => inBackups(calls[index]!),
  },
]

/** Opens the document (a load first, as a session does), then the scenario's own preparation. */
async function opened(
  inner: MemoryStorage,
  scenario: Scenario,
  doc: CrashDoc,
  events: RepositoryEvent[] = [],
) {
  const storage = createFaultyStorage(inner)
  const repo = open(storage, events)
  expect((await repo.load(doc.key)).ok).toBe(true)
  await scenario.arrange?.(repo, doc)
  return { storage, repo, start: storage.calls.length }
}

/** A rule hitting exactly call `index` of `calls`: the same op and paths, after the earlier ones that look the same. */
function ruleFor(calls: readonly FaultyCall[], index: number, code: FaultCode, persistent: boolean) {
  const target = calls[index]!
  const same = (c: FaultyCall) => c.op === target.op && c.path === target.path && c.to === target.to
  const skip = calls.slice(0, index).filter(same).length
  const exact = new RegExp(`^${(target.to ?? target.path).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`)
  return { op: target.op, path: exact, code, skip, ...(persistent ? {} : { times: 1 }) }
}

/** The document loads, undamaged, as one of `revisions` with exactly that revision's data; backups verify. */
async function expectIntact(inner: MemoryStorage, doc: CrashDoc, revisions: number[], label: string) {
  const repo = open(inner)
  expect(await inner.listTempFiles(), label).toEqual([])
  const loaded = await repo.load(doc.key)
  expect(loaded.ok, label).toBe(true)
  if (!loaded.ok) return
  expect(revisions, label).toContain(loaded.revision)
  expect(loaded.data, label).toEqual(doc.at(loaded.revision))
  expect(loaded.journal?.damage, label).toBeUndefined()
  for (const backup of await repo.listBackups(doc.key)) {
    const read = await repo.readBackup(doc.key, backup)
    expect(read.ok && read.data, `${label} ${backup.name}`).toEqual(doc.at(backup.revision))
  }
}

describe.each(JOURNALED)('journaled %s under injected faults', (_, doc) => {
  for (const scenario of SCENARIOS) {
    it(`${scenario.name}: every call, every error, transient and persistent`, async () => {
      const base = await workspace(doc)
      const recording = await opened(base.fork(), scenario, doc)
      await scenario.act(recording.repo, doc)
      const calls = recording.storage.calls.slice(recording.start)
      expect(calls.some((call) => call.op === 'writeAtomic' || call.op === 'append')).toBe(true)
      let checked = 0
      for (let index = 0; index < calls.length; index++) {
        for (const [code, mapped] of FAULT_TABLE) {
          for (const persistent of [false, true]) {
            const call = calls[index]!
            const label = `${scenario.name} #${index} ${call.op} ${call.path} ${code} ${persistent ? 'persistent' : 'transient'}`
            const inner = base.fork()
            const events: RepositoryEvent[] = []
            const { storage, repo } = await opened(inner, scenario, doc, events)
            storage.addRule(ruleFor(calls, index, code, persistent))
            const outcome = await scenario.act(repo, doc).then(
              () => null,
              (error: unknown) => toSaveflowError(error),
            )
            expect(
              storage.calls.some((c) => c.fault === code),
              label,
            ).toBe(true)
            if (scenario.tolerated(index, calls)) {
              expect(outcome, label).toBeNull()
              const failed = events.find((event) => event.type === 'backup.failed')
              expect(failed?.type === 'backup.failed' && failed.error.code, label).toBe(mapped)
              await expectIntact(inner, doc, [scenario.afterSuccess], label)
              continue
            }
            expect(outcome?.code, label).toBe(mapped)
            expect(outcome?.sysCode, label).toBe(code)
            await expectIntact(inner, doc, scenario.afterFailure, label)
            // Transient: trying again succeeds. Persistent: it fails the same way, and still harms nothing.
            const retry = await scenario.act(repo, doc).then(
              () => null,
              (error: unknown) => toSaveflowError(error).code,
            )
            expect(retry, label).toBe(persistent ? mapped : null)
            await expectIntact(
              inner,
              doc,
              persistent ? scenario.afterFailure : [scenario.afterSuccess],
              label,
            )
            checked++
          }
        }
      }
      expect(checked).toBeGreaterThan(0)
    })
  }

  it('cuts back the bytes a failed append left, for every length that landed, before appending again', async () => {
    const base = await workspace(doc)
    const probe = open(base.fork(), [], T0 + 1000)
    await probe.load(doc.key)
    const written = (await probe.save(doc.key, doc.at(4), 4)).bytes
    // Every length near both ends (the first line, the last bytes), and a stride through the middle.
    const lengths = [...Array(written + 1).keys()].filter((n) => n < 80 || n > written - 80 || n % 7 === 0)
    for (const landed of lengths) {
      const label = `${landed} of ${written} bytes landed`
      const inner = base.fork()
      let failNext = true
      // An append that writes part of its bytes (even all of them), then reports an I/O error.
      const partial: StorageBackend = {
        ...inner,
        append: async (path: string, data: StorageData) => {
          if (!failNext) return inner.append(path, data)
          failNext = false
          const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data
          if (landed > 0) await inner.append(path, bytes.subarray(0, landed))
          throw systemError('EIO', 'write', path)
        },
      }
      const events: RepositoryEvent[] = []
      const repo = open(partial, events, T0 + 1000)
      await repo.load(doc.key)
      await expect(repo.save(doc.key, doc.at(4), 4), label).rejects.toMatchObject({ code: 'io' })
      // Before the retry: the partial bytes are a torn tail (or, all of them, a whole save nobody acknowledged).
      await expectIntact(inner.fork(), doc, landed === written ? [3, 4] : [3], label)
      await repo.save(doc.key, doc.at(5), 5)
      const reloaded = await open(inner).load(doc.key)
      expect(reloaded, label).toMatchObject({ ok: true, revision: 5, journal: { tornBytes: 0 } })
      expect(reloaded.ok && reloaded.data, label).toEqual(doc.at(5))
      const cut = events.find((event) => event.type === 'journal.repaired')
      expect(cut, label).toEqual(
        landed === 0 ? undefined : expect.objectContaining({ cutBytes: landed, quarantined: null }),
      )
    }
  })

  it('reports an append whose bytes all landed before the error, and never applies it twice', async () => {
    const inner = await workspace(doc)
    const storage = createFaultyStorage(inner, [{ op: 'append', code: 'EIO', when: 'after', times: 1 }])
    const repo = open(storage, [], T0 + 1000)
    await repo.load(doc.key)
    await expect(repo.save(doc.key, doc.at(4), 4)).rejects.toMatchObject({ code: 'io', sysCode: 'EIO' })
    await expectIntact(inner.fork(), doc, [4], 'after the failed append')
    await repo.save(doc.key, doc.at(5), 5)
    await expectIntact(inner, doc, [5], 'after the next save')
  })
})
