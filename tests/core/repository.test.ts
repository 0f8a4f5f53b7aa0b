import { describe, expect, it } from 'vitest'
import type { z } from 'zod'
import { DOCUMENTS, settingsDocument } from '../../src/core/documents'
import { toSaveflowError } from '../../src/core/errors'
import { createRepository, type RepositoryEvent, type RepositoryOptions } from '../../src/core/repository'
import { cacheDataSchema, userSettingsV1Schema } from '../../src/core/schemas'
import { snapshotCodec } from '../../src/core/snapshot-codec'
import { createFaultyStorage, createMemoryStorage, type MemoryStorage } from '../../src/testing'
import { sampleConversation, sampleProject, sampleSettings } from './support/documents'

const T0 = Date.parse('2026-01-15T10:00:00.000Z')
const MINUTE = 60_000

function setup(options: Partial<RepositoryOptions> & { storage?: MemoryStorage } = {}) {
  const clock = { now: T0 }
  const storage = options.storage ?? createMemoryStorage({ now: () => clock.now })
  const events: RepositoryEvent[] = []
  const repo = createRepository({
    now: () => clock.now,
    onEvent: (event) => events.push(event),
    ...options,
    storage,
  })
  return { repo, storage, clock, events }
}

/** File bytes of a document of `kind`, as if saved by some version of saveflow. */
function fileOf(
  kind: 'project' | 'settings' | 'conversation' | 'cache',
  data: unknown,
  schemaVersion = 1,
  revision = 1,
) {
  return snapshotCodec.encode({ kind, schemaVersion, revision, savedAt: new Date(T0).toISOString(), data })
}

describe('repository: round trips', () => {
  it.each([
    ['project', sampleProject(10), ['project.json', 'project.journal.jsonl']],
    ['conversation/c1', sampleConversation('c1'), ['conversations/c1.jsonl']],
  ])('saves and loads journaled %s, whose first save writes it whole', async (key, data, paths) => {
    const { repo, storage } = setup()
    const { bytes } = await repo.save(key, data, 7)
    expect(Object.keys(storage.files()).sort()).toEqual([...paths].sort())
    expect(bytes).toBe(paths.reduce((sum, path) => sum + storage.files()[path]!.length, 0))
    const loaded = await repo.load(key)
    expect(loaded).toMatchObject({ ok: true, data, revision: 7, savedAt: '2026-01-15T10:00:00.000Z' })
    expect(loaded.ok && loaded.size).toBe(bytes)
    expect(loaded.ok && loaded.journal).toMatchObject({ path: paths.at(-1), tornBytes: 0 })
    // Every line is a JSON object other tools can read.
    for (const line of storage.readText(paths.at(-1)!)!.trimEnd().split('\n')) {
      expect(JSON.parse(line)).toMatchObject({ len: expect.any(Number), crc: expect.any(String) })
    }
  })

  it.each([
    ['settings', sampleSettings('light'), 'settings.json'],
    ['cache/models', { models: ['a', 'b'], fetched: 3 }, 'cache/models.json'],
  ])('saves and loads %s', async (key, data, path) => {
    const { repo, storage } = setup()
    const { bytes } = await repo.save(key, data, 7)
    expect(bytes).toBe(storage.files()[path]!.length)
    const loaded = await repo.load(key)
    expect(loaded).toEqual({
      ok: true,
      data,
      revision: 7,
      savedAt: '2026-01-15T10:00:00.000Z',
      path,
      size: bytes,
    })
    const envelope = JSON.parse(storage.readText(path)!)
    expect(envelope).toMatchObject({ format: 1, kind: repo.definitionFor(key).kind, revision: 7 })
  })

  it('works as the coordinator write and validate functions', async () => {
    const { repo, storage } = setup()
    const signal = new AbortController().signal
    const data = await repo.validateFn({ key: 'settings', kind: 'settings', data: { theme: 'dark' } })
    const result = await repo.writeFn({ key: 'settings', kind: 'settings', data, revision: 2, signal })
    expect(result.bytes).toBeGreaterThan(0)
    expect(JSON.parse(storage.readText('settings.json')!).data).toEqual(sampleSettings('dark'))
  })

  it('refuses a coordinator request whose kind disagrees with its key', async () => {
    const { repo, storage } = setup()
    const signal = new AbortController().signal
    expect(() => repo.validateFn({ key: 'settings', kind: 'project', data: {} })).toThrow(
      expect.objectContaining({ code: 'invalid-id' }),
    )
    await expect(
      repo.writeFn({ key: 'settings', kind: 'cache', data: sampleSettings(), revision: 1, signal }),
    ).rejects.toMatchObject({ code: 'invalid-id' })
    expect(storage.files()).toEqual({})
  })
})

describe('repository: validation', () => {
  it('refuses invalid data on save, naming the field, and leaves the last good file', async () => {
    const { repo, storage } = setup()
    await repo.save('project', sampleProject(2), 1)
    const before = storage.readText('project.json')
    const bad = { ...sampleProject(2), version: 'three' }
    const error = await repo.save('project', bad, 2).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'invalid-data', details: { issues: [{ path: 'version' }] } })
    expect(storage.readText('project.json')).toBe(before)
  })

  it('parses each object once when the coordinator validated it first', async () => {
    let parses = 0
    const counting = Object.create(settingsDocument.schema) as typeof settingsDocument.schema
    counting.safeParse = ((data: unknown) => {
      parses++
      return settingsDocument.schema.safeParse(data)
    }) as typeof counting.safeParse
    const { repo } = setup({ definitions: { settings: { ...settingsDocument, schema: counting } } })
    const valid = repo.validate('settings', { theme: 'dark' })
    await repo.save('settings', valid, 1)
    expect(parses).toBe(1)
    await repo.save('settings', { ...valid }, 2)
    expect(parses).toBe(2)
  })

  it('skips validation on save when the configuration turns it off, yet always validates on load', async () => {
    const { repo } = setup({ config: { validation: { enabled: false, strict: false } } })
    await repo.save('conversation/c1', { not: 'a conversation' }, 1)
    const loaded = await repo.load('conversation/c1')
    expect(loaded.ok || loaded.error.code).toBe('invalid-data')
  })
})

describe('repository: load outcomes', () => {
  it('reports a missing file as not-found', async () => {
    const { repo } = setup()
    const result = await repo.load('project')
    expect(result.ok || result.error.code).toBe('not-found')
  })

  it('says so when a missing file has backups, so a loader does not start empty', async () => {
    const { repo, storage } = setup({ config: { backupInterval: 0 } })
    await repo.save('project', sampleProject(1), 1)
    await repo.save('project', sampleProject(1), 2)
    await storage.remove('project.json')
    const result = await repo.load('project')
    expect(result.ok || result.error).toMatchObject({ code: 'not-found', details: { backups: 1 } })
  })

  it('refuses a file over the size limit without reading it', async () => {
    const inner = createMemoryStorage({ files: { 'settings.json': fileOf('settings', sampleSettings(), 2) } })
    const storage = createFaultyStorage(inner)
    const repo = createRepository({
      storage,
      definitions: { settings: { ...settingsDocument, maxBytes: 100 } },
    })
    const result = await repo.load('settings')
    expect(result.ok || result.error.code).toBe('too-large')
    expect(result.ok || result.error.details).toMatchObject({ maxBytes: 100 })
    expect(storage.calls.map((call) => call.op)).toEqual(['stat'])
  })

  it('reports data that fails the schema as invalid-data with the issues', async () => {
    const { repo } = setup({
      storage: createMemoryStorage({
        files: { 'conversations/c1.json': fileOf('conversation', { id: 'c1' }) },
      }),
    })
    const result = await repo.load('conversation/c1')
    expect(result.ok).toBe(false)
    if (result.ok) return
    expect(result.error.code).toBe('invalid-data')
    expect(result.error.details?.issues).toEqual(
      expect.arrayContaining([expect.objectContaining({ path: 'title' })]),
    )
  })

  it('opens a file from a future version read-only: future-version, the envelope, and no save', async () => {
    const storage = createMemoryStorage({
      files: { 'project.json': fileOf('project', { future: true }, 9, 4) },
    })
    const { repo } = setup({ storage })
    const result = await repo.load('project')
    expect(result.ok).toBe(false)
    if (result.ok) return
    expect(result.error.code).toBe('future-version')
    expect(result.error.details).toMatchObject({ schemaVersion: 9, supportedVersion: 1 })
    expect(result.snapshot).toMatchObject({ revision: 4, data: { future: true } })
    await expect(repo.save('project', sampleProject(1), 5)).rejects.toMatchObject({ code: 'future-version' })
    expect(JSON.parse(storage.readText('project.json')!).schemaVersion).toBe(9)
  })

  it('migrates an older file in memory after backing it up', async () => {
    const v1 = userSettingsV1Schema.parse({ theme: 'dark' })
    const storage = createMemoryStorage({ files: { 'settings.json': fileOf('settings', v1, 1, 3) } })
    const { repo, events } = setup({ storage, config: { backupCount: 0 } })
    const result = await repo.load('settings')
    expect(result).toMatchObject({
      ok: true,
      migratedFrom: 1,
      revision: 3,
      data: { theme: 'dark', editor: { fontSize: 14 } },
    })
    const backups = await repo.listBackups('settings')
    expect(backups).toHaveLength(1)
    expect(JSON.parse(storage.readText(backups[0]!.path)!).schemaVersion).toBe(1)
    expect(events.map((e) => e.type)).toEqual(['backup.created', 'migrated'])
    // The file itself changes only with the next save.
    expect(JSON.parse(storage.readText('settings.json')!).schemaVersion).toBe(1)
    await repo.save('settings', result.ok ? result.data : null, 4)
    expect(JSON.parse(storage.readText('settings.json')!).schemaVersion).toBe(2)
  })

  it('fails a migration that cannot take its backup, and changes nothing', async () => {
    const inner = createMemoryStorage({ files: { 'settings.json': fileOf('settings', {}, 1) } })
    const storage = createFaultyStorage(inner, [{ op: 'linkOrCopy', code: 'ENOSPC' }])
    const repo = createRepository({ storage })
    const result = await repo.load('settings')
    expect(result.ok || result.error.code).toBe('disk-full')
    expect(Object.keys(inner.files())).toEqual(['settings.json'])
  })
})

describe('repository: backups', () => {
  it('backs up the replaced file at most once per interval and keeps the newest backupCount', async () => {
    const { repo, clock, storage } = setup({ config: { backupInterval: 10 * MINUTE, backupCount: 2 } })
    await repo.save('project', sampleProject(1, 'r1'), 1)
    expect(await repo.listBackups('project')).toEqual([])
    await repo.save('project', sampleProject(1, 'r2'), 2)
    await repo.save('project', sampleProject(1, 'r3'), 3)
    expect((await repo.listBackups('project')).map((b) => b.revision)).toEqual([1])
    clock.now += 10 * MINUTE
    await repo.save('project', sampleProject(1, 'r4'), 4)
    clock.now += 10 * MINUTE
    await repo.save('project', sampleProject(1, 'r5'), 5)
    const backups = await repo.listBackups('project')
    expect(backups.map((b) => b.revision)).toEqual([4, 3])
    expect(backups[0]!.name).toBe('20260115T102000000Z-r4.json')
    expect(JSON.parse(storage.readText(backups[1]!.path)!).data.metadata.name).toBe('r3')
  })

  it('takes no backups when they are off, and never of a cache', async () => {
    const off = setup({ config: { backupEnabled: false } })
    await off.repo.save('settings', sampleSettings(), 1)
    await off.repo.save('settings', sampleSettings(), 2)
    expect(await off.repo.listBackups('settings')).toEqual([])

    const cache = setup({ config: { backupInterval: 0 } })
    await cache.repo.save('cache/x', 1, 1)
    await cache.repo.save('cache/x', 2, 2)
    expect(await cache.repo.listBackups('cache/x')).toEqual([])
    expect(Object.keys(cache.storage.files())).toEqual(['cache/x.json'])
  })

  it('never backs up a file that does not verify: it goes to quarantine and the save goes on', async () => {
    const storage = createMemoryStorage({ files: { 'project.json': '{"format":1,"kind":"proj' } })
    const { repo, events } = setup({ storage })
    await repo.save('project', sampleProject(1), 1)
    expect(await repo.listBackups('project')).toEqual([])
    const quarantined = await repo.listQuarantine()
    expect(quarantined).toEqual(['.saveflow/quarantine/project.20260115T100000000Z-malformed-json.json'])
    expect(storage.readText(quarantined[0]!)).toBe('{"format":1,"kind":"proj')
    expect(events.map((e) => e.type)).toEqual(['backup.skipped', 'quarantined'])
    expect((await repo.load('project')).ok).toBe(true)
  })

  it('reports a failed backup, still saves, and tries again only after an interval', async () => {
    const inner = createMemoryStorage({ files: { 'settings.json': fileOf('settings', sampleSettings(), 2) } })
    const events: RepositoryEvent[] = []
    const storage = createFaultyStorage(inner, [{ op: 'linkOrCopy', code: 'EACCES' }])
    const clock = { now: T0 }
    const repo = createRepository({
      storage,
      now: () => clock.now,
      config: { backupInterval: 10 * MINUTE },
      onEvent: (e) => events.push(e),
    })
    await repo.save('settings', sampleSettings('light'), 5)
    expect(events).toEqual([
      expect.objectContaining({
        type: 'backup.failed',
        error: expect.objectContaining({ code: 'permission-denied' }),
      }),
    ])
    expect(JSON.parse(inner.readText('settings.json')!).revision).toBe(5)
    const reads = () => storage.calls.filter((call) => call.op === 'read').length
    const before = reads()
    await repo.save('settings', sampleSettings('dark'), 6)
    expect(reads()).toBe(before)
    clock.now += 10 * MINUTE
    await repo.save('settings', sampleSettings('light'), 7)
    expect(reads()).toBe(before + 1)
    expect(events.filter((e) => e.type === 'backup.failed')).toHaveLength(2)
  })

  it('lists backups newest first and reads one back verified', async () => {
    const { repo, clock } = setup({ config: { backupInterval: 0 } })
    for (let revision = 1; revision <= 4; revision++) {
      await repo.save('conversation/c1', { ...sampleConversation(), title: `t${revision}` }, revision)
      clock.now += 1000
    }
    const backups = await repo.listBackups('conversation/c1')
    expect(backups.map((b) => b.revision)).toEqual([3, 2, 1])
    const read = await repo.readBackup('conversation/c1', backups[1]!)
    expect(read).toMatchObject({ ok: true, revision: 2, data: { title: 't2' } })
    const byName = await repo.readBackup('conversation/c1', backups[1]!.name)
    expect(byName.ok && byName.data.title).toBe('t2')
  })

  it('restores a backup and keeps the replaced file as a backup, so the restore can be undone', async () => {
    const { repo, clock, events } = setup({ config: { backupInterval: 0 } })
    await repo.save('settings', sampleSettings('light'), 1)
    clock.now += 1000
    await repo.save('settings', sampleSettings('dark'), 2)
    clock.now += 1000
    const [older] = await repo.listBackups('settings')
    const restored = await repo.restoreBackup('settings', older!)
    expect(restored).toMatchObject({ ok: true, revision: 1, path: 'settings.json', data: { theme: 'light' } })
    expect(await repo.load('settings')).toMatchObject({ ok: true, data: { theme: 'light' } })
    expect(events.at(-1)).toMatchObject({ type: 'backup.created', reason: 'restore' })

    const [undo] = await repo.listBackups('settings')
    expect(undo!.revision).toBe(2)
    clock.now += 1000
    await repo.restoreBackup('settings', undo!)
    expect(await repo.load('settings')).toMatchObject({ ok: true, revision: 2, data: { theme: 'dark' } })
  })

  it('refuses to restore a backup that does not verify, changing nothing', async () => {
    const storage = createMemoryStorage({
      files: {
        'settings.json': fileOf('settings', sampleSettings(), 2, 9),
        '.saveflow/backups/settings/20260115T090000000Z-r1.json': 'garbage',
      },
    })
    const { repo } = setup({ storage })
    const before = storage.files()
    await expect(repo.restoreBackup('settings', '20260115T090000000Z-r1.json')).rejects.toMatchObject({
      code: 'corrupt',
    })
    expect(storage.files()).toEqual(before)
  })

  it('refuses backup names that are not backups of the key', async () => {
    const { repo } = setup()
    for (const name of ['../../project.json', 'x.json', '20260115T090000000Z-r1.json/../a']) {
      await expect(repo.restoreBackup('settings', name)).rejects.toMatchObject({ code: 'invalid-id' })
      expect(await repo.readBackup('settings', name)).toMatchObject({
        ok: false,
        error: { code: 'invalid-id' },
      })
    }
  })

  it('takes a backup on demand and returns null when there is no file', async () => {
    const { repo } = setup({ config: { backupEnabled: false } })
    expect(await repo.backupNow('project')).toBeNull()
    await repo.save('project', sampleProject(1), 3)
    expect(await repo.backupNow('project')).toMatchObject({ revision: 3, key: 'project' })
  })
})

describe('repository: quarantine', () => {
  it('moves a file aside under a new name and never overwrites an earlier one', async () => {
    const { repo, storage } = setup()
    await repo.save('conversation/c1', sampleConversation(), 1)
    const first = await repo.quarantine('conversation/c1', 'Checksum Mismatch!')
    expect(first).toEqual({
      from: 'conversations/c1.jsonl',
      to: '.saveflow/quarantine/conversations/c1.20260115T100000000Z-checksum-mismatch.jsonl',
      reason: 'checksum-mismatch',
    })
    await repo.save('conversation/c1', sampleConversation(), 2)
    const second = await repo.quarantine('conversation/c1', 'checksum-mismatch')
    expect(second.to).toBe(
      '.saveflow/quarantine/conversations/c1.20260115T100000000Z-checksum-mismatch-1.jsonl',
    )
    expect(storage.readText(first.to)).toMatch(/"rev":1,/)
    expect(await repo.listQuarantine()).toEqual([first.to, second.to].sort())
  })

  it('says a missing file with backups was quarantined, when a copy of it is there (a recovery cut short)', async () => {
    const { repo, storage, clock } = setup({ config: { backupInterval: MINUTE } })
    await repo.save('settings', sampleSettings(), 1)
    clock.now += 2 * MINUTE
    await repo.save('settings', sampleSettings(), 2)
    expect(await repo.listBackups('settings')).toHaveLength(1)

    // The app moved the damaged file away and stopped before its restore.
    const moved = await repo.quarantine('settings', 'checksum-mismatch')
    const load = await repo.load('settings')

    expect(load.ok).toBe(false)
    if (load.ok) return
    expect(load.error.code).toBe('not-found')
    expect(load.error.message).toContain(moved.to)
    expect(load.error.message).toContain('damaged (checksum-mismatch)')
    expect(load.error.message).not.toBe('The file does not exist, but backups of it do.')
    expect(load.error.hint).not.toBe('It is created on the first save.')
    expect(load.error.details).toMatchObject({ quarantined: moved.to, quarantineReason: 'checksum-mismatch' })
    // The hint survives the trip as data (events, rpc).
    expect(toSaveflowError(load.error.toJSON()).hint).toBe(load.error.hint)

    // Gone without a quarantined copy: the plain message.
    await storage.rename(moved.to, 'elsewhere.json')
    const plain = await repo.load('settings')
    expect(!plain.ok && plain.error.message).toBe('The file does not exist, but backups of it do.')
  })

  it('tells the size of a damaged backup in its error', async () => {
    const { repo, storage, clock } = setup({ config: { backupInterval: MINUTE } })
    await repo.save('settings', sampleSettings(), 1)
    clock.now += 2 * MINUTE
    await repo.save('settings', sampleSettings(), 2)
    const [backup] = await repo.listBackups('settings')
    const text = storage.readText(backup!.path)!
    await storage.writeAtomic(
      backup!.path,
      text.replace(/"checksum":"crc32:[0-9a-f]{8}"/, '"checksum":"crc32:00000000"'),
    )

    const read = await repo.readBackup('settings', backup!)
    expect(read.ok).toBe(false)
    expect(!read.ok && read.error.code).toBe('corrupt')
    expect(!read.ok && read.error.details?.size).toBe(new TextEncoder().encode(text).length)
  })

  it('reports quarantining a missing file as not-found', async () => {
    const { repo } = setup()
    await expect(repo.quarantine('project', 'corrupt')).rejects.toMatchObject({ code: 'not-found' })
  })
})

describe('repository: caches', () => {
  const cacheDefinition = (ttlMs: number) => ({ ...DOCUMENTS.cache, ttlMs })

  it('drops an expired cache document: not-found, file removed', async () => {
    const { repo, clock, storage, events } = setup({ definitions: { cache: cacheDefinition(60_000) } })
    await repo.save('cache/models', ['a'], 1)
    clock.now += 30_000
    expect((await repo.load('cache/models')).ok).toBe(true)
    clock.now += 31_000
    const result = await repo.load('cache/models')
    expect(result.ok || result.error).toMatchObject({ code: 'not-found', details: { dropped: 'expired' } })
    expect(storage.files()).toEqual({})
    expect(events.at(-1)).toMatchObject({ type: 'cache.dropped', reason: 'expired' })
  })

  it('drops a corrupt cache document instead of quarantining it', async () => {
    const storage = createMemoryStorage({ files: { 'cache/models.json': '{"format":1' } })
    const { repo } = setup({ storage })
    const result = await repo.load('cache/models')
    expect(result.ok || result.error).toMatchObject({ code: 'not-found', details: { dropped: 'corrupt' } })
    expect(storage.files()).toEqual({})
    expect(await repo.listQuarantine()).toEqual([])
  })

  it('keeps the cache folder under its size cap by evicting the least recently written', async () => {
    const { repo, clock, storage, events } = setup({ cacheMaxTotalBytes: 600 })
    for (const name of ['a', 'b', 'c']) {
      await repo.save(`cache/${name}`, 'x'.repeat(150), 1)
      clock.now += 1000
    }
    expect(Object.keys(storage.files()).sort()).toEqual(['cache/b.json', 'cache/c.json'])
    expect(events.filter((e) => e.type === 'cache.dropped')).toEqual([
      expect.objectContaining({ path: 'cache/a.json', reason: 'evicted' }),
    ])
  })

  it('accepts any JSON value in a cache', () => {
    const schema: z.ZodType = cacheDataSchema
    expect(schema.safeParse({ a: [1, null, 'x'] }).success).toBe(true)
    expect(schema.safeParse(() => 1).success).toBe(false)
  })
})

describe('repository: guards', () => {
  it.each([
    ['conversation/..'],
    ['conversation/a/b'],
    ['conversation/a\0b'],
    [`conversation/${'x'.repeat(200)}`],
    ['cache/../settings'],
    ['nothing'],
  ])('rejects the key %j with invalid-id before any path is built', async (key) => {
    const inner = createMemoryStorage()
    const storage = createFaultyStorage(inner)
    const repo = createRepository({ storage })
    await expect(repo.save(key, {}, 1)).rejects.toMatchObject({ code: 'invalid-id' })
    expect(await repo.load(key)).toMatchObject({ ok: false, error: { code: 'invalid-id' } })
    await expect(repo.quarantine(key, 'x')).rejects.toMatchObject({ code: 'invalid-id' })
    await expect(repo.listBackups(key)).rejects.toMatchObject({ code: 'invalid-id' })
    await expect(repo.backupNow(key)).rejects.toMatchObject({ code: 'invalid-id' })
    expect(storage.calls).toEqual([])
  })

  it('does not write when the signal is already aborted', async () => {
    const { repo, storage } = setup()
    const controller = new AbortController()
    controller.abort()
    await expect(repo.save('settings', sampleSettings(), 1, controller.signal)).rejects.toMatchObject({
      code: 'aborted',
    })
    expect(storage.log).toEqual([])
  })

  it('never writes a file larger than it would read back', async () => {
    const { repo, storage } = setup({ definitions: { project: { ...DOCUMENTS.project, maxBytes: 500 } } })
    await expect(repo.save('project', sampleProject(20), 1)).rejects.toMatchObject({ code: 'too-large' })
    expect(storage.files()).toEqual({})
  })

  it('removes temp files left by a crash', async () => {
    const storage = createMemoryStorage({ files: { 'project.json.123': 'half', 'cache/x.json.9': '' } })
    const { repo } = setup({ storage })
    expect(await repo.removeTempFiles()).toEqual(['cache/x.json.9', 'project.json.123'])
    expect(storage.files()).toEqual({})
  })
})
