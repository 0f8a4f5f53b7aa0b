import { describe, expect, it } from 'vitest'
import { toSaveflowError } from '../../src/core/errors'
import { createRepository, type Repository, type RepositoryEvent } from '../../src/core/repository'
import type { UserSettings } from '../../src/core/schemas'
import { snapshotCodec } from '../../src/core/snapshot-codec'
import {
  createFaultyStorage,
  createMemoryStorage,
  type FaultCode,
  type FaultyCall,
  type FaultyStorage,
  type MemoryStorage,
  systemError,
} from '../../src/testing'
import { settingsAt } from './support/crash-docs'
import { FAULT_TABLE } from './support/faults'

/**
 * Error injection at every backend call of a save (with its backup), of an on-demand backup and of a restore, with
 * each error of DESIGN.md's table, once (transient) and for good (persistent). Whatever fails: the error arrives
 * mapped, the previous file stays as it was, no temp file is left, every backup still verifies. This file covers a
 * snapshot document (the settings); `journal.faults.test.ts` covers the conversation log and the project journal.
 */

const T0 = Date.parse('2026-01-15T10:00:00.000Z')
const HOUR = 3_600_000

const settings = (revision: number): UserSettings => settingsAt(revision)
const fileOf = (revision: number, at: number) =>
  snapshotCodec.encode({
    kind: 'settings',
    schemaVersion: 2,
    revision,
    savedAt: new Date(at).toISOString(),
    data: settings(revision),
  })

/** A workspace with settings revision 3 and three backups (r0, r1, r2), an hour after the newest backup. */
function workspace(hardLinks: boolean): MemoryStorage {
  const backup = (revision: number) =>
    `.saveflow/backups/settings/2026011${5 + revision}T100000000Z-r${revision}.json`
  return createMemoryStorage({
    hardLinks,
    now: () => T0,
    files: {
      'settings.json': fileOf(3, T0),
      [backup(0)]: fileOf(0, T0 - 3 * HOUR),
      [backup(1)]: fileOf(1, T0 - 2 * HOUR),
      [backup(2)]: fileOf(2, T0 - HOUR),
    },
  })
}

interface Scenario {
  name: string
  /** Runs the operation; resolves with nothing or rejects. */
  act: (repo: Repository) => Promise<unknown>
  /** The revision `settings.json` holds after the operation succeeded. */
  revisionAfter: number
  /** True when a failure of call `index` is reported as an event while the operation itself succeeds. */
  tolerated: (index: number, calls: readonly FaultyCall[]) => boolean
}

const isPrimaryWrite = (call: FaultyCall) => call.op === 'writeAtomic' && call.path === 'settings.json'

const SCENARIOS: Scenario[] = [
  {
    name: 'save with its backup',
    act: (repo) => repo.save('settings', settings(4), 4),
    revisionAfter: 4,
    // A backup failure must not cost the user's newest data: only the write of the document fails a save.
    tolerated: (index, calls) => !isPrimaryWrite(calls[index]!),
  },
  {
    name: 'backup on demand',
    act: (repo) => repo.backupNow('settings'),
    revisionAfter: 3,
    tolerated: () => false,
  },
  {
    name: 'restore of the oldest backup',
    act: (repo) => repo.restoreBackup('settings', '20260115T100000000Z-r0.json'),
    revisionAfter: 0,
    // Once the restored file is in place, only pruning is left; its failure is reported, the restore stands.
    tolerated: (index, calls) => index > calls.findIndex(isPrimaryWrite),
  },
]

function open(storage: FaultyStorage, events: RepositoryEvent[] = []) {
  return createRepository({
    storage,
    now: () => T0 + 2 * HOUR,
    config: { backupInterval: HOUR, backupCount: 3 },
    onEvent: (event) => events.push(event),
  })
}

/** The calls an operation makes when nothing fails. */
async function recordCalls(scenario: Scenario, hardLinks: boolean): Promise<FaultyCall[]> {
  const storage = createFaultyStorage(workspace(hardLinks))
  await scenario.act(open(storage))
  return [...storage.calls]
}

/** A rule hitting exactly call `index`: same op and paths, after skipping the earlier calls that look the same. */
function ruleFor(calls: readonly FaultyCall[], index: number, code: FaultCode, persistent: boolean) {
  const target = calls[index]!
  const same = (c: FaultyCall) => c.op === target.op && c.path === target.path && c.to === target.to
  const skip = calls.slice(0, index).filter(same).length
  const exact = new RegExp(`^${(target.to ?? target.path).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`)
  return { op: target.op, path: exact, code, skip, ...(persistent ? {} : { times: 1 }) }
}

/** Every file still loads or verifies: the primary (at `revision`) and each backup. */
async function expectIntact(inner: MemoryStorage, revision: number) {
  const repo = createRepository({ storage: inner, now: () => T0 + 2 * HOUR })
  expect(await inner.listTempFiles()).toEqual([])
  const primary = await repo.load('settings')
  expect(primary.ok && primary.revision).toBe(revision)
  for (const backup of await repo.listBackups('settings')) {
    expect((await repo.readBackup('settings', backup)).ok, backup.name).toBe(true)
  }
}

describe.each([
  ['hard links', true],
  ['copies', false],
])('repository under injected faults (backups by %s)', (_, hardLinks) => {
  for (const scenario of SCENARIOS) {
    it(`${scenario.name}: every call, every error, transient and persistent`, async () => {
      const calls = await recordCalls(scenario, hardLinks)
      expect(calls.length).toBeGreaterThan(4)
      let checked = 0
      for (let index = 0; index < calls.length; index++) {
        for (const [code, mapped] of FAULT_TABLE) {
          for (const persistent of [false, true]) {
            const label = `${scenario.name} #${index} ${calls[index]!.op} ${calls[index]!.path} ${code} ${persistent ? 'persistent' : 'transient'}`
            const inner = workspace(hardLinks)
            const storage = createFaultyStorage(inner, [ruleFor(calls, index, code, persistent)])
            const events: RepositoryEvent[] = []
            const repo = open(storage, events)
            const outcome = await scenario.act(repo).then(
              () => null,
              (error: unknown) => error,
            )
            expect(
              storage.calls.some((call) => call.fault === code),
              label,
            ).toBe(true)
            if (scenario.tolerated(index, calls)) {
              expect(outcome, label).toBeNull()
              const failed = events.find((event) => event.type === 'backup.failed')
              expect(failed && failed.type === 'backup.failed' && failed.error.code, label).toBe(mapped)
              await expectIntact(inner, scenario.revisionAfter)
            } else {
              expect(toSaveflowError(outcome).code, label).toBe(mapped)
              expect(toSaveflowError(outcome).sysCode, label).toBe(code)
              await expectIntact(inner, 3)
              // Transient: trying again succeeds. Persistent: it fails the same way, and still harms nothing.
              const retry = await scenario.act(repo).then(
                () => null,
                (error: unknown) => toSaveflowError(error).code,
              )
              expect(retry, label).toBe(persistent ? mapped : null)
              await expectIntact(inner, persistent ? 3 : scenario.revisionAfter)
            }
            checked++
          }
        }
      }
      expect(checked).toBe(calls.length * FAULT_TABLE.length * 2)
    })
  }
})

describe('repository under faults inside a backend call', () => {
  it('leaves no temp file when a step of the write fails, and the durable file is the previous one', async () => {
    for (const step of ['create', 'write', 'fsync', 'rename', 'fsync-dir'] as const) {
      for (const [code, mapped] of FAULT_TABLE) {
        const inner = workspace(true)
        const repo = createRepository({
          storage: inner,
          now: () => T0 + 2 * HOUR,
          config: { backupEnabled: false },
        })
        inner.setStepHook((s) => {
          if (s.call === 'writeAtomic' && s.step === step) throw systemError(code, s.step, s.path)
        })
        const error = await repo.save('settings', settings(4), 4).catch((e: unknown) => e)
        expect(toSaveflowError(error).code, `${step} ${code}`).toBe(mapped)
        inner.setStepHook(null)
        expect(await inner.listTempFiles()).toEqual([])
        // The folder fsync failed after the rename: the new file is visible but was never acknowledged, and a
        // crash would bring back the previous one.
        const visible = await repo.load('settings')
        expect(visible.ok && visible.revision).toBe(step === 'fsync-dir' ? 4 : 3)
        inner.crash()
        const durable = await repo.load('settings')
        expect(durable.ok && durable.revision).toBe(3)
        await repo.save('settings', settings(5), 5)
        expect(await repo.load('settings')).toMatchObject({ ok: true, revision: 5 })
      }
    }
  })

  it('reports a write that failed after it reached the disk, and loads one of the two versions', async () => {
    const inner = workspace(true)
    const storage = createFaultyStorage(inner, [{ op: 'writeAtomic', code: 'EIO', when: 'after', times: 1 }])
    const repo = open(storage)
    await expect(repo.save('settings', settings(4), 4)).rejects.toMatchObject({ code: 'io', sysCode: 'EIO' })
    const loaded = await repo.load('settings')
    expect(loaded.ok && [3, 4]).toContain(loaded.ok && loaded.revision)
    expect(await inner.listTempFiles()).toEqual([])
  })
})
