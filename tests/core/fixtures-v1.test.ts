import { createHash } from 'node:crypto'
import fsSync, { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { crc32 } from '../../src/core/checksum'
import { createRepository, type Repository } from '../../src/core/repository'
import type { Conversation, ProjectData } from '../../src/core/schemas'
import { userSettingsSchema } from '../../src/core/schemas'
import { createWorkspaceSession } from '../../src/core/workspace-session'
import { createFsStorage } from '../../src/node'
import { createMemoryStorage } from '../../src/testing'
import { TestClock } from '../machines/harness'

/**
 * Backward compatibility: workspaces written by earlier code load through today's code. `workspace/` holds the
 * snapshot formats (schema version 1 of every kind, a conversation in the legacy `conversations/<id>.json`);
 * `journaled/` holds the record formats (`project.json` with its `project.journal.jsonl`, conversation logs).
 */

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

const JOURNALED = join(__dirname, '../fixtures/v1/journaled')
const journaledExpected = JSON.parse(
  readFileSync(join(__dirname, '../fixtures/v1/expected-journaled.json'), 'utf8'),
) as {
  project: Record<string, ProjectData>
  conversation: Record<string, Conversation>
  importedConversation: Conversation
}

/** The bytes of every file of `journaled/`, as generated on 2026-12-04 (see the README beside them). */
const JOURNALED_SHA256: Record<string, string> = {
  '.saveflow/backups/conversation/c2/20260112T091100000Z-r1.json':
    'd28ad2d9a738b598fdcf573d976a844b6e10b8243dac33a94caf806eac4c111a',
  '.saveflow/backups/conversation/c2/20260112T094100000Z-r4.json':
    'a8a64b96c5912add0c5c1675db8cba38babbc17cf0b6a79661079263cb62e655',
  '.saveflow/backups/project/20260112T091000000Z-r1.json':
    'a1574706a752305b1be31fb3eff2b656ba8e927092a300afaf925966cb711c1a',
  '.saveflow/backups/project/20260112T094000000Z-r4.json':
    'a87f0de8b36ce1875c3ec6456a1798d73cf18332c4185db44d018fb564ae080e',
  'conversations/c2.jsonl': '47872d1f47073a097c530e675e8b3ffc50878f6065451b3c1367c894b1d69c39',
  'conversations/c3.jsonl': '6c9409bdd313e30be49d41f70c82966f7bbf382f3fe0a0ca73339b45d1628775',
  'project.journal.jsonl': 'de93167a844683df64024277feac0823d14d4fc36d3dbce3f3fedcadc2f6f725',
  'project.json': 'a1574706a752305b1be31fb3eff2b656ba8e927092a300afaf925966cb711c1a',
}

/** Each record line of a journal or log file: `{len, crc, rec}`, checked by hand (not with saveflow's reader). */
function recordLines(file: string): Record<string, unknown>[] {
  const bytes = readFileSync(file)
  const text = bytes.toString('utf8')
  expect(text.endsWith('\n'), file).toBe(true)
  return text
    .slice(0, -1)
    .split('\n')
    .map((line) => {
      const match = /^\{"len":(\d+),"crc":"([0-9a-f]{8})","rec":(.*)\}$/.exec(line)
      expect(match, line).not.toBeNull()
      const body = Buffer.from(match![3]!, 'utf8')
      expect(body.length, line).toBe(Number(match![1]))
      expect(crc32(body).toString(16).padStart(8, '0'), line).toBe(match![2])
      return JSON.parse(match![3]!) as Record<string, unknown>
    })
}

const opsOf = (records: Record<string, unknown>[]) => records.map((record) => record.op)
const batchEnds = (records: Record<string, unknown>[]) =>
  records.filter((record) => 'rev' in record).map((record) => record.rev)

async function expectJournaledLoads(repo: Repository) {
  const project = await repo.load('project')
  expect(project).toMatchObject({ ok: true, revision: 7, data: journaledExpected.project['7'] })
  expect(project.ok && project.journal).toMatchObject({
    path: 'project.journal.jsonl',
    records: 21,
    tornBytes: 0,
  })
  expect(project.ok && project.journal?.damage).toBeUndefined()

  const conversation = await repo.load('conversation/c2')
  expect(conversation).toMatchObject({ ok: true, revision: 7, data: journaledExpected.conversation['7'] })
  expect(conversation.ok && conversation.journal).toMatchObject({ records: 11, tornBytes: 0 })
  expect(conversation.ok && conversation.journal?.damage).toBeUndefined()

  expect(await repo.load('conversation/c3')).toMatchObject({
    ok: true,
    revision: 1,
    data: journaledExpected.importedConversation,
  })

  // Backups of journaled documents are snapshots of the data at their revision.
  for (const [key, history] of [
    ['project', journaledExpected.project],
    ['conversation/c2', journaledExpected.conversation],
  ] as const) {
    const backups = await repo.listBackups(key)
    expect(
      backups.map((backup) => backup.revision),
      key,
    ).toEqual([4, 1])
    for (const backup of backups) {
      expect(await repo.readBackup(key, backup), `${key} ${backup.name}`).toMatchObject({
        ok: true,
        revision: backup.revision,
        data: history[String(backup.revision)],
      })
    }
  }
}

describe('fixture workspace v1, journaled layouts (journal format 1, log format 1)', () => {
  it('holds every record kind as written: the journal after its snapshot, logs with header, edits, deletions', () => {
    const journal = recordLines(join(JOURNALED, 'project.journal.jsonl'))
    expect(journal[0]).toMatchObject({ op: 'journal', format: 1, kind: 'project', base: 1, rev: 1 })
    expect(journal[0]!.snapshot).toBe(
      JSON.parse(readFileSync(join(JOURNALED, 'project.json'), 'utf8')).checksum,
    )
    expect(new Set(opsOf(journal))).toEqual(
      new Set(['journal', 'set', 'node', 'remove', 'order', 'ref', 'refOrder', 'commit', 'unref']),
    )
    expect(batchEnds(journal)).toEqual([1, 2, 3, 4, 5, 6, 7])

    const log = recordLines(join(JOURNALED, 'conversations/c2.jsonl'))
    expect(opsOf(log)).toEqual([
      'header',
      'add',
      'add',
      'fields',
      'add',
      'edit',
      'delete',
      'fields',
      'commit',
      'edit',
      'add',
    ])
    expect(log[0]).toMatchObject({ format: 1, kind: 'conversation', schemaVersion: 1 })
    expect(batchEnds(log)).toEqual([1, 2, 3, 4, 5, 6, 7])
    expect(opsOf(recordLines(join(JOURNALED, 'conversations/c3.jsonl')))).toEqual(['header', 'messages'])
  })

  it('loads every revision it was written at through the current code (memory backend)', async () => {
    const storage = createMemoryStorage({ files: filesUnder(JOURNALED) })
    await expectJournaledLoads(createRepository({ storage, now: () => NOW }))
  })

  it('opens through a workspace session as the files are, with nothing to recover', async () => {
    const clock = new TestClock()
    const storage = createMemoryStorage({ files: filesUnder(JOURNALED) })
    const session = createWorkspaceSession({
      repository: createRepository({ storage, now: () => clock.now() }),
      clock,
    })
    for (const [key, revision, data] of [
      ['project', 7, journaledExpected.project['7']],
      ['conversation/c2', 7, journaledExpected.conversation['7']],
      ['conversation/c3', 1, journaledExpected.importedConversation],
    ] as const) {
      expect(await session.open(key), key).toMatchObject({
        status: 'ready',
        source: 'primary',
        savedRevision: revision,
        data,
        recovery: null,
        readOnly: null,
      })
    }
    await session.close()
    expect(storage.files()).toEqual(filesUnder(JOURNALED))
  })

  it('loads from a real folder and appends the next save after the old records', async () => {
    const root = mkdtempSync(join(tmpdir(), 'saveflow-v1-journaled-'))
    temps.push(root)
    cpSync(JOURNALED, root, { recursive: true })
    const repo = createRepository({ storage: createFsStorage(root), now: () => NOW })
    await expectJournaledLoads(repo)

    const project = journaledExpected.project['7']!
    const nextProject: ProjectData = {
      ...project,
      tree: project.tree.map((node) =>
        node.id === 'search' ? { ...node, title: 'Search everywhere' } : node,
      ),
      version: 8,
    }
    const chat = journaledExpected.conversation['7']!
    const nextChat: Conversation = {
      ...chat,
      messages: [...chat.messages, { id: 'm5', role: 'user', content: 'Thanks', createdAt: chat.updatedAt }],
    }
    await repo.save('project', nextProject, 8)
    await repo.save('conversation/c2', nextChat, 8)

    // Appended, not rewritten: the old bytes are a prefix of the new files, and project.json is untouched.
    for (const file of ['project.journal.jsonl', 'conversations/c2.jsonl', 'project.json']) {
      const before = readFileSync(join(JOURNALED, file))
      const after = readFileSync(join(root, file))
      expect(after.subarray(0, before.length).equals(before), file).toBe(true)
      expect(after.length > before.length, file).toBe(file !== 'project.json')
    }
    const fresh = createRepository({ storage: createFsStorage(root), now: () => NOW })
    expect(await fresh.load('project')).toMatchObject({ ok: true, revision: 8, data: nextProject })
    expect(await fresh.load('conversation/c2')).toMatchObject({ ok: true, revision: 8, data: nextChat })
  })

  it('is never changed by the tests', () => {
    const files = filesUnder(JOURNALED)
    expect(Object.keys(files).sort()).toEqual(Object.keys(JOURNALED_SHA256).sort())
    for (const [file, bytes] of Object.entries(files)) {
      expect(createHash('sha256').update(bytes).digest('hex'), file).toBe(JOURNALED_SHA256[file])
    }
  })
})

describe('fixture workspace v1, legacy conversation snapshot', () => {
  it('replaces conversations/<id>.json with a log on the first save, keeping every message', async () => {
    const root = mkdtempSync(join(tmpdir(), 'saveflow-v1-legacy-'))
    temps.push(root)
    cpSync(FIXTURE, root, { recursive: true })
    const repo = createRepository({ storage: createFsStorage(root), now: () => NOW })
    const legacy = await repo.load('conversation/c1')
    expect(legacy).toMatchObject({ ok: true, revision: 4, data: expected.conversation })
    expect(legacy.ok && legacy.path).toBe('conversations/c1.json')

    const next: Conversation = {
      ...expected.conversation,
      messages: [
        ...expected.conversation.messages,
        { id: 'm-next', role: 'user', content: 'After the upgrade', createdAt: '2026-01-10T10:00:00.000Z' },
      ],
    }
    await repo.save('conversation/c1', next, 5)
    expect(existsSync(join(root, 'conversations/c1.json'))).toBe(false)
    expect(opsOf(recordLines(join(root, 'conversations/c1.jsonl')))[0]).toBe('header')
    const reloaded = await createRepository({ storage: createFsStorage(root), now: () => NOW }).load(
      'conversation/c1',
    )
    expect(reloaded).toMatchObject({ ok: true, revision: 5, data: next, path: 'conversations/c1.jsonl' })
  })
})
