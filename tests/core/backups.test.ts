import { describe, expect, it } from 'vitest'
import {
  backupFileName,
  formatStamp,
  listBackups,
  parseStamp,
  pruneBackups,
  resolveBackup,
  takeBackup,
} from '../../src/core/backups'
import { isCacheExpired } from '../../src/core/cache'
import { createMemoryStorage } from '../../src/testing'

const T0 = Date.parse('2026-01-15T10:30:00.123Z')

describe('backups', () => {
  it('names backups with a sortable, file-name-safe stamp that reads back', () => {
    expect(formatStamp(T0)).toBe('20260115T103000123Z')
    expect(parseStamp(formatStamp(T0))).toBe(T0)
    expect(parseStamp('2026-01-15T10:30:00Z')).toBeNull()
    expect(backupFileName(T0, 42)).toBe('20260115T103000123Z-r42.json')
    expect(backupFileName(T0, 42, 2)).toBe('20260115T103000123Z-r42-2.json')
  })

  it('lists backups newest first and ignores everything else in the folder', async () => {
    const dir = '.saveflow/backups/project'
    const storage = createMemoryStorage({
      files: {
        [`${dir}/${backupFileName(T0, 1)}`]: 'a',
        [`${dir}/${backupFileName(T0 + 5, 2)}`]: 'b',
        [`${dir}/${backupFileName(T0 + 5, 2, 1)}`]: 'c',
        [`${dir}/${backupFileName(T0, 1)}.123`]: 'temp',
        [`${dir}/notes.txt`]: 'stray',
        [`${dir}/sub/${backupFileName(T0, 9)}`]: 'nested',
      },
    })
    const backups = await listBackups(storage, 'project')
    expect(backups.map((b) => b.name)).toEqual([
      '20260115T103000128Z-r2-1.json',
      '20260115T103000128Z-r2.json',
      '20260115T103000123Z-r1.json',
    ])
    expect(backups[2]).toEqual({
      key: 'project',
      name: '20260115T103000123Z-r1.json',
      path: `${dir}/20260115T103000123Z-r1.json`,
      takenAt: T0,
      revision: 1,
    })
  })

  it('never overwrites a backup taken in the same millisecond', async () => {
    const storage = createMemoryStorage({ files: { 'settings.json': 'v1' } })
    const first = await takeBackup(storage, 'settings', 'settings.json', 1, T0)
    const second = await takeBackup(storage, 'settings', 'settings.json', 1, T0)
    expect([first.backup.name, second.backup.name]).toEqual([
      '20260115T103000123Z-r1.json',
      '20260115T103000123Z-r1-1.json',
    ])
    expect(first.method).toBe('link')
  })

  it('prunes all but the newest, and resolves only names of the key', async () => {
    const storage = createMemoryStorage({ files: { 'project.json': 'x' } })
    for (let i = 0; i < 4; i++) await takeBackup(storage, 'project', 'project.json', i, T0 + i)
    const removed = await pruneBackups(storage, 'project', 2)
    expect(removed.map((b) => b.revision)).toEqual([1, 0])
    expect((await listBackups(storage, 'project')).map((b) => b.revision)).toEqual([3, 2])
    const [newest] = await listBackups(storage, 'project')
    expect(resolveBackup('project', newest!)).toEqual(newest)
    expect(() => resolveBackup('settings', newest!)).toThrow(expect.objectContaining({ code: 'invalid-id' }))
    expect(() => resolveBackup('project', '../project.json')).toThrow(
      expect.objectContaining({ code: 'invalid-id' }),
    )
  })
})

describe('cache expiry', () => {
  it('expires after the TTL, and distrusts a save time in the future', () => {
    const saved = new Date(T0).toISOString()
    expect(isCacheExpired(saved, 1000, T0 + 1000)).toBe(false)
    expect(isCacheExpired(saved, 1000, T0 + 1001)).toBe(true)
    expect(isCacheExpired(saved, 1000, T0 - 2000)).toBe(true)
    expect(isCacheExpired('not a date', 1000, T0)).toBe(true)
  })
})
