import { describe, expect, it } from 'vitest'
import { createServedRepository } from '../../examples/workspace/server/served-repository'
import { resolvePersistenceConfig } from '../../src/core/config'
import { SaveflowError, type SaveflowErrorData } from '../../src/core/errors'
import { userSettingsSchema } from '../../src/core/schemas'
import { createMemoryStorage } from '../../src/testing/memory-storage'

/**
 * The app server's repository wrapper on its own, over memory storage: what the rpc bridge may do to the folder
 * of a read-only server, and how backup settings saved by the page take effect.
 */

const settingsWith = (persistence: object) => userSettingsSchema.parse({ persistence })

describe('createServedRepository', () => {
  it('refuses every write while the workspace is read-only, and still reads', async () => {
    const storage = createMemoryStorage()
    let readOnly: SaveflowErrorData | null = null
    const { repository } = createServedRepository({
      storage,
      persistence: resolvePersistenceConfig({ backupInterval: 0 }),
      readOnly: () => readOnly,
    })
    await repository.save('settings', settingsWith({}), 1)
    await repository.save('settings', settingsWith({ autoSave: false }), 2)
    const [backup] = await repository.listBackups('settings')
    const before = storage.files()

    readOnly = new SaveflowError('locked', { details: { holder: { pid: 42, host: 'elsewhere' } } }).toJSON()
    const refusals = await Promise.allSettled([
      repository.save('settings', settingsWith({ autoSave: true }), 3),
      repository.restoreBackup('settings', backup!.name),
      repository.quarantine('settings', 'test'),
      repository.backupNow('settings'),
    ])
    expect(refusals.map((refusal) => refusal.status === 'rejected' && refusal.reason.code)).toEqual([
      'locked',
      'locked',
      'locked',
      'locked',
    ])
    expect(storage.files()).toEqual(before)
    expect(await repository.load('settings')).toMatchObject({ ok: true, revision: 2 })
  })

  it('adopts the backup count of a saved settings document for the saves that follow', async () => {
    const storage = createMemoryStorage()
    const served = createServedRepository({
      storage,
      persistence: resolvePersistenceConfig({ backupInterval: 0, backupCount: 5 }),
      readOnly: () => null,
    })
    const { repository } = served
    for (let revision = 1; revision <= 4; revision++) {
      await repository.save('settings', settingsWith({ backupInterval: 0, backupCount: 5 }), revision)
    }
    expect(await repository.listBackups('settings')).toHaveLength(3)

    // The save that carries the new count is itself pruned under the old one; the next save keeps one backup.
    await repository.save('settings', settingsWith({ backupInterval: 0, backupCount: 1 }), 5)
    expect(served.persistence.backupCount).toBe(1)
    await repository.save('settings', settingsWith({ backupInterval: 0, backupCount: 1 }), 6)
    expect((await repository.listBackups('settings')).map((backup) => backup.revision)).toEqual([5])
  })
})
