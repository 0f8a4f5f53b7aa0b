import { link, mkdir, readFile, stat, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import type { CompactReport, InitReport, VerifyReport } from '../../src/cli/checks/report'
import { exportFileSchema } from '../../src/cli/export-format'
import { backupFileName } from '../../src/core/backups'
import { documentPath } from '../../src/core/paths'
import { createRepository } from '../../src/core/repository'
import { createSampleWorkspace } from '../../src/core/sample-data'
import { conversationSchema, projectDataSchema, userSettingsSchema } from '../../src/core/schemas'
import { createSnapshotCodec } from '../../src/core/snapshot-codec'
import { createFsStorage } from '../../src/node/fs-backend'
import {
  appSave,
  flipByte,
  initWorkspace,
  listFiles,
  loadData,
  removeTempFolders,
  renameProject,
  saveflow,
  saveflowJson,
  tempFolder,
} from './support'

afterEach(removeTempFolders)

/** Gives the current project file `count` more backup names, one a minute apart in 2025 (older than any real one). */
async function addOldBackups(dir: string, count: number): Promise<void> {
  await mkdir(join(dir, '.saveflow/backups/project'), { recursive: true })
  for (let i = 0; i < count; i++) {
    const name = backupFileName(Date.UTC(2025, 0, 1, 0, i), 1)
    await link(join(dir, 'project.json'), join(dir, '.saveflow/backups/project', name))
  }
}

const projectBackups = async (dir: string) =>
  (await listFiles(dir)).filter((path) => path.startsWith('.saveflow/backups/project/'))

describe('saveflow compact', { timeout: 30_000 }, () => {
  it('keeps the newest --keep backups per document and removes the rest', async () => {
    const dir = await initWorkspace('small')
    await addOldBackups(dir, 5)
    const newest = (await projectBackups(dir)).slice(-2)

    const { code, json } = await saveflowJson<CompactReport>(['compact', dir, '--keep', '2'])

    expect(code).toBe(0)
    expect(json.keep).toBe(2)
    expect(json.actions.filter((action) => action.type === 'backup-pruned')).toHaveLength(3)
    expect(await projectBackups(dir)).toEqual(newest)
  })

  it('uses backupCount from the workspace settings when --keep is not given', async () => {
    const dir = await initWorkspace('small')
    await appSave(dir, 'settings', (data) => ({
      ...(data as object),
      persistence: { ...(data as { persistence: object }).persistence, backupCount: 1 },
    }))
    await addOldBackups(dir, 3)

    const { json } = await saveflowJson<CompactReport>(['compact', dir])

    expect(json.keep).toBe(1)
    expect(await projectBackups(dir)).toHaveLength(1)
  })

  it('keeps every backup of a document whose file does not verify', async () => {
    const dir = await initWorkspace('small')
    await appSave(dir, 'project', renameProject('Edited'))
    await addOldBackups(dir, 3)
    await flipByte(join(dir, 'project.json'))
    const before = await projectBackups(dir)

    const { json } = await saveflowJson<CompactReport>(['compact', dir, '--keep', '0'])

    expect(json.skipped).toEqual([{ key: 'project', reason: expect.stringContaining('repair') }])
    expect(await projectBackups(dir)).toEqual(before)
  })

  it('drops an expired cache and keeps a fresh one', async () => {
    const dir = await initWorkspace('small')
    await mkdir(join(dir, 'cache'))
    const codec = createSnapshotCodec()
    const cache = (savedAt: string) =>
      codec.encode({ kind: 'cache', schemaVersion: 1, revision: 1, savedAt, data: { models: ['a'] } })
    await writeFile(join(dir, 'cache/old.json'), cache('2020-01-01T00:00:00.000Z'))
    await writeFile(join(dir, 'cache/fresh.json'), cache(new Date().toISOString()))
    const past = new Date('2020-01-01T00:00:00Z')
    await utimes(join(dir, 'cache/old.json'), past, past)

    const verify = await saveflowJson<VerifyReport>(['verify', dir])
    const compact = await saveflowJson<CompactReport>(['compact', dir])

    expect(verify.code).toBe(0)
    expect(verify.json.problems).toContainEqual(
      expect.objectContaining({ code: 'cache-expired', severity: 'info' }),
    )
    expect(compact.json.actions).toEqual([
      expect.objectContaining({ type: 'cache-dropped', key: 'cache/old', reason: 'expired' }),
    ])
    const files = await listFiles(dir)
    expect(files).toContain('cache/fresh.json')
    expect(files).not.toContain('cache/old.json')
  })
})

describe('saveflow compact of logs', { timeout: 30_000 }, () => {
  it('rewrites a conversation log without the records later saves made dead', async () => {
    const dir = await initWorkspace('small')
    const edit = (text: string) => (data: unknown) => {
      const conversation = data as { messages: { content: string }[] }
      const [first, ...rest] = conversation.messages
      return { ...conversation, messages: [{ ...first!, content: text }, ...rest] }
    }
    for (const text of ['first edit', 'second edit', 'third edit'])
      await appSave(dir, 'conversation/c-0000', edit(text))
    const before = await loadData(dir, 'conversation/c-0000')

    const { code, json } = await saveflowJson<CompactReport>(['compact', dir])

    expect(code).toBe(0)
    const compacted = json.actions.filter((action) => action.type === 'journal-compacted')
    expect(compacted).toEqual([expect.objectContaining({ key: 'conversation/c-0000' })])
    const action = compacted[0]!
    if (action.type !== 'journal-compacted') throw new Error('unreachable')
    expect(action.after).toBeLessThan(action.before!)
    expect((await stat(join(dir, documentPath('conversation/c-0000')))).size).toBe(action.after)
    expect(await loadData(dir, 'conversation/c-0000')).toEqual(before)
  })
})

describe('saveflow export', { timeout: 30_000 }, () => {
  it('writes one JSON file that parses, validates and holds the whole project', async () => {
    const dir = await initWorkspace('small')
    const file = join(await tempFolder(), 'export.json')

    const run = await saveflow(['export', dir, file])

    expect(run.code).toBe(0)
    const parsed = exportFileSchema.parse(JSON.parse(await readFile(file, 'utf8')))
    const sample = createSampleWorkspace('small')
    expect(parsed.project).toEqual(sample.project)
    expect(parsed.settings).toEqual(sample.settings)
    expect(parsed.conversations).toEqual(sample.conversations)
    expect(parsed.skipped).toEqual([])
    expect(parsed.documents.map((doc) => doc.key).sort()).toEqual(
      ['conversation/c-0000', 'conversation/c-0001', 'project', 'settings'].sort(),
    )
    // Settings may hold API keys: the export is as private as the workspace.
    expect((await stat(file)).mode & 0o777).toBe(0o600)
  })

  it('leaves out a document that does not verify, lists it and exits 1', async () => {
    const dir = await initWorkspace('small')
    await flipByte(join(dir, documentPath('conversation/c-0001')))

    const run = await saveflow(['export', dir, '-'])

    expect(run.code).toBe(1)
    const parsed = exportFileSchema.parse(JSON.parse(run.stdout))
    expect(parsed.conversations.map((c) => c.id)).toEqual(['c-0000'])
    expect(parsed.skipped).toEqual([
      expect.objectContaining({ key: 'conversation/c-0001', status: 'corrupt', code: 'corrupt' }),
    ])
    expect(run.stderr).toContain('Left out conversation/c-0001')
  })
})

describe('saveflow init', { timeout: 60_000 }, () => {
  it('writes a small sample that verifies, with documents valid for their schemas', async () => {
    const dir = join(await tempFolder(), 'new', 'ws')

    const { code, json } = await saveflowJson<InitReport>(['init', dir, '--sample', 'small'])

    expect(code).toBe(0)
    expect(json).toMatchObject({ nodes: 50, conversations: 2, messages: 40 })
    expect(json.totalBytes).toBeGreaterThan(25_000)
    expect(json.totalBytes).toBeLessThan(36_000)
    // Read back the way the app reads (whatever the file layout), then checked against the schemas here too.
    const repository = createRepository({ storage: createFsStorage(dir) })
    const load = async (key: string) => {
      const loaded = await repository.load(key)
      if (!loaded.ok) throw loaded.error
      return loaded.data
    }
    expect(projectDataSchema.safeParse(await load('project')).success).toBe(true)
    expect(userSettingsSchema.safeParse(await load('settings')).success).toBe(true)
    expect(conversationSchema.safeParse(await load('conversation/c-0000')).success).toBe(true)
    expect((await saveflow(['verify', dir])).code).toBe(0)
  })

  it('writes the same data for the same seed and other data for another seed', async () => {
    const a = join(await tempFolder(), 'a')
    const b = join(await tempFolder(), 'b')
    const c = join(await tempFolder(), 'c')
    await saveflow(['init', a, '--sample', 'small', '--seed', '7'])
    await saveflow(['init', b, '--sample', 'small', '--seed', '7'])
    await saveflow(['init', c, '--sample', 'small', '--seed', '8'])
    const tree = async (dir: string) =>
      (JSON.parse(await readFile(join(dir, 'project.json'), 'utf8')) as { data: { tree: unknown } }).data.tree

    expect(await tree(a)).toEqual(await tree(b))
    expect(await tree(a)).not.toEqual(await tree(c))
  })

  it('refuses a folder that is not empty, with exit code 4, unless --force', async () => {
    const dir = await tempFolder()
    await writeFile(join(dir, 'notes.txt'), 'mine')

    const refused = await saveflow(['init', dir, '--sample', 'small'])
    expect(refused.code).toBe(4)
    expect(refused.stderr).toContain('is not empty')
    expect(refused.stderr).toContain('--force')
    expect(await listFiles(dir)).toEqual(['notes.txt'])

    const forced = await saveflow(['init', dir, '--sample', 'small', '--force'])
    expect(forced.code).toBe(0)
    expect(await readFile(join(dir, 'notes.txt'), 'utf8')).toBe('mine')
  })

  it('backs up every file it replaces with --force', async () => {
    const dir = await initWorkspace('small')
    const before = await readFile(join(dir, 'project.json'))

    const run = await saveflow(['init', dir, '--sample', 'small', '--seed', '2', '--force'])

    expect(run.code).toBe(0)
    const [backup] = await projectBackups(dir)
    expect(await readFile(join(dir, backup!))).toEqual(before)
    expect(backup).toMatch(/-r1\.json$/)
  })

  it('writes a large sample: 20,000 nodes, 200 conversations of 200 messages, about 20 MB', async () => {
    const dir = join(await tempFolder(), 'large')

    const { code, json } = await saveflowJson<InitReport>(['init', dir, '--sample', 'large'])

    expect(code).toBe(0)
    expect(json).toMatchObject({ nodes: 20_000, conversations: 200, messages: 40_000 })
    expect(json.files).toHaveLength(202)
    // About 20 MB of data; the conversation logs add a length and checksum to each message record.
    expect(json.totalBytes).toBeGreaterThan(18_000_000)
    expect(json.totalBytes).toBeLessThan(25_000_000)
    expect((await saveflow(['verify', dir])).code).toBe(0)
  })
})
