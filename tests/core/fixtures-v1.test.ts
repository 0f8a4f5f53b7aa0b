import fsSync, { cpSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createRepository, type Repository } from '../../src/core/repository'
import { userSettingsSchema } from '../../src/core/schemas'
import { createFsStorage } from '../../src/node'
import { createMemoryStorage } from '../../src/testing'

/** Backward compatibility: a workspace written with schema version 1 of every kind loads through today's code. */

const FIXTURE = join(__dirname, '../fixtures/v1/workspace')
const expected = JSON.parse(readFileSync(join(__dirname, '../fixtures/v1/expected.json'), 'utf8'))
/** An hour after the fixture was written: the cache is still fresh. */
const NOW = Date.parse('2026-01-10T10:00:00.000Z')

function filesUnder(dir: string): Record<string, Uint8Array> {
  const out: Record<string, Uint8Array> = {}
  const walk = (current: string) => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const full = join(current, entry.name)
      if (entry.isDirectory()) walk(full)
      else out[relative(dir, full).split('\\').join('/')] = new Uint8Array(readFileSync(full))
    }
  }
  walk(dir)
  return out
}

async function expectFixtureLoads(repo: Repository) {
  expect(await repo.load('project')).toMatchObject({ ok: true, revision: 12, data: expected.project })
  expect(await repo.load('conversation/c1')).toMatchObject({
    ok: true,
    revision: 4,
    data: expected.conversation,
  })
  expect(await repo.load('cache/models')).toMatchObject({ ok: true, revision: 1, data: expected.cache })
  const settings = await repo.load('settings')
  expect(settings).toMatchObject({ ok: true, revision: 3, migratedFrom: 1 })
  expect(settings.ok && settings.data).toEqual(
    userSettingsSchema.parse({ ...expected.settingsV1, editor: { fontSize: 14, wordWrap: true } }),
  )
  const [backup] = await repo.listBackups('project')
  expect(await repo.readBackup('project', backup!)).toMatchObject({
    ok: true,
    revision: 11,
    data: { version: 6 },
  })
}

const temps: string[] = []
afterEach(() => {
  for (const dir of temps.splice(0)) fsSync.rmSync(dir, { recursive: true, force: true })
})

describe('fixture workspace v1', () => {
  it('loads every kind through the current code, migrating the settings', async () => {
    const storage = createMemoryStorage({ files: filesUnder(FIXTURE) })
    await expectFixtureLoads(createRepository({ storage, now: () => NOW }))
  })

  it('loads from a real folder, backs the v1 settings up before migrating, and saves them as v2', async () => {
    const root = mkdtempSync(join(tmpdir(), 'saveflow-v1-'))
    temps.push(root)
    cpSync(FIXTURE, root, { recursive: true })
    const repo = createRepository({ storage: createFsStorage(root), now: () => NOW })
    await expectFixtureLoads(repo)
    const [migrationBackup] = await repo.listBackups('settings')
    expect(readFileSync(join(root, migrationBackup!.path))).toEqual(
      readFileSync(join(FIXTURE, 'settings.json')),
    )

    const settings = await repo.load('settings')
    if (!settings.ok) throw settings.error
    await repo.save('settings', settings.data, 4)
    const reloaded = await repo.load('settings')
    expect(reloaded).toMatchObject({ ok: true, revision: 4, data: settings.data })
    expect(reloaded.ok && 'migratedFrom' in reloaded).toBe(false)
    expect(JSON.parse(readFileSync(join(root, 'settings.json'), 'utf8')).schemaVersion).toBe(2)
  })

  it('is never changed by the tests', () => {
    const files = Object.keys(filesUnder(FIXTURE)).sort()
    expect(files).toEqual([
      '.saveflow/backups/project/20260110T085000000Z-r11.json',
      'cache/models.json',
      'conversations/c1.json',
      'project.json',
      'settings.json',
    ])
    for (const file of files) {
      expect(JSON.parse(readFileSync(join(FIXTURE, file), 'utf8')).schemaVersion, file).toBe(1)
    }
  })
})
