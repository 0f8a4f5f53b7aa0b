import { describe, expect, it } from 'vitest'
import { SaveflowError } from '../../src/core/errors'
import { loadStepsFromRepository } from '../../src/core/load-steps'
import { createRepository } from '../../src/core/repository'
import { userSettingsV1Schema } from '../../src/core/schemas'
import { snapshotCodec } from '../../src/core/snapshot-codec'
import { createFaultyStorage, createMemoryStorage, type MemoryStorage } from '../../src/testing'
import { sampleProject } from './support/documents'

const T0 = Date.parse('2026-01-15T10:00:00.000Z')
const signal = new AbortController().signal

function setup(storage: MemoryStorage = createMemoryStorage({ now: () => T0 })) {
  const repo = createRepository({ storage, now: () => T0, config: { backupInterval: 0 } })
  return { storage, repo, steps: loadStepsFromRepository(repo) }
}

function fileOf(kind: 'project' | 'settings', data: unknown, schemaVersion: number, revision: number) {
  return snapshotCodec.encode({ kind, schemaVersion, revision, savedAt: new Date(T0).toISOString(), data })
}

describe('loadStepsFromRepository', () => {
  it('reports a loaded document at the current version with its save time in ms', async () => {
    const { repo, steps } = setup()
    await repo.save('project', sampleProject(2), 4)

    const outcome = await steps.loadPrimary({ key: 'project' }, signal)

    expect(outcome).toEqual({
      ok: true,
      document: { data: sampleProject(2), revision: 4, schemaVersion: 1, savedAt: T0 },
    })
  })

  it('passes the repository migration through as migratedFrom, at the current version', async () => {
    const v1 = userSettingsV1Schema.parse({ theme: 'dark' })
    const { steps } = setup(createMemoryStorage({ files: { 'settings.json': fileOf('settings', v1, 1, 3) } }))

    const outcome = await steps.loadPrimary({ key: 'settings' }, signal)

    expect(outcome).toMatchObject({
      ok: true,
      document: { revision: 3, schemaVersion: 2, migratedFrom: 1, data: { theme: 'dark', editor: {} } },
    })
  })

  it('hands over a verified file of a newer version as a document of that version', async () => {
    const files = { 'project.json': fileOf('project', { fromTheFuture: true }, 7, 9) }
    const { steps } = setup(createMemoryStorage({ files }))

    const outcome = await steps.loadPrimary({ key: 'project' }, signal)

    expect(outcome).toEqual({
      ok: true,
      document: { data: { fromTheFuture: true }, revision: 9, schemaVersion: 7, savedAt: T0 },
    })
  })

  it('reports damage and absence as error data with the user text', async () => {
    const { steps } = setup(createMemoryStorage({ files: { 'project.json': '{"format":1,"ki' } }))

    const damaged = await steps.loadPrimary({ key: 'project' }, signal)
    const absent = await steps.loadPrimary({ key: 'settings' }, signal)

    expect(damaged).toMatchObject({
      ok: false,
      error: {
        code: 'corrupt',
        hint: expect.stringContaining('quarantine'),
        details: { reason: 'malformed-json' },
      },
    })
    expect(absent).toMatchObject({ ok: false, error: { code: 'not-found' } })
  })

  it('lists backups newest first as id, savedAt and revision, and loads one by id', async () => {
    const { repo, steps } = setup()
    for (let revision = 1; revision <= 3; revision++)
      await repo.save('project', sampleProject(revision), revision)
    const names = (await repo.listBackups('project')).map((backup) => backup.name)

    const listed = await steps.listBackups({ key: 'project' }, signal)
    const loaded = await steps.loadBackup({ key: 'project', backupId: listed[0]!.id }, signal)

    expect(listed.map((backup) => backup.id)).toEqual(names)
    expect(listed.map((backup) => backup.revision)).toEqual([2, 1])
    expect(listed[0]!.savedAt).toBe(T0)
    expect(loaded).toMatchObject({ ok: true, document: { revision: 2, data: sampleProject(2) } })
  })

  it('quarantines under the corrupt reason and says where the file went', async () => {
    const { storage, steps } = setup(createMemoryStorage({ files: { 'project.json': 'x' } }))
    const reason = new SaveflowError('corrupt', { details: { reason: 'checksum-mismatch' } }).toJSON()

    const { quarantinedTo } = await steps.quarantine({ key: 'project', reason }, signal)

    expect(quarantinedTo).toMatch(/^\.saveflow\/quarantine\/project\.\d{8}T\d{9}Z-checksum-mismatch\.json$/)
    expect(storage.readText(quarantinedTo)).toBe('x')
    expect(storage.readText('project.json')).toBeUndefined()
  })

  it('restores a backup over the primary', async () => {
    const { repo, steps } = setup()
    await repo.save('project', sampleProject(1), 1)
    await repo.save('project', sampleProject(5), 2)
    const [backup] = await steps.listBackups({ key: 'project' }, signal)

    await steps.restoreBackup({ key: 'project', backupId: backup!.id }, signal)

    expect(await repo.load('project')).toMatchObject({ ok: true, revision: 1, data: sampleProject(1) })
  })

  it('moves and writes nothing while the workspace is not writable', async () => {
    const storage = createMemoryStorage({ files: { 'project.json': 'x' } })
    const repo = createRepository({ storage, now: () => T0 })
    const locked = new SaveflowError('locked', { message: 'pid 42 holds it' }).toJSON()
    const steps = loadStepsFromRepository(repo, { writable: () => locked })
    const reason = new SaveflowError('corrupt').toJSON()

    await expect(steps.quarantine({ key: 'project', reason }, signal)).rejects.toMatchObject({
      code: 'locked',
      message: 'pid 42 holds it',
    })
    await expect(steps.restoreBackup({ key: 'project', backupId: 'x' }, signal)).rejects.toMatchObject({
      code: 'locked',
    })
    expect(storage.readText('project.json')).toBe('x')
  })

  it('rejects with a classified SaveflowError when the backend fails', async () => {
    const inner = createMemoryStorage({ files: { 'project.json': 'x' } })
    const storage = createFaultyStorage(inner, [{ op: 'rename', code: 'EACCES' }])
    const steps = loadStepsFromRepository(createRepository({ storage, now: () => T0 }))
    const reason = new SaveflowError('corrupt').toJSON()

    const failure = steps.quarantine({ key: 'project', reason }, signal)

    await expect(failure).rejects.toBeInstanceOf(SaveflowError)
    await expect(failure).rejects.toMatchObject({
      code: 'permission-denied',
      sysCode: 'EACCES',
      hint: expect.stringContaining('Retry'),
    })
  })

  it('refuses to migrate, without a damage code', async () => {
    const { steps } = setup()

    const outcome = await steps.migrate({ key: 'settings', data: {}, fromVersion: 1, toVersion: 2 }, signal)

    expect(outcome).toMatchObject({ ok: false, error: { code: 'io' } })
  })
})
