import { describe, expect, it } from 'vitest'
import { diffPatches } from '../../src/core/journal-store'
import { createRepository, type RepositoryEvent, type RepositoryOptions } from '../../src/core/repository'
import type { Conversation, ProjectData } from '../../src/core/schemas'
import { snapshotCodec } from '../../src/core/snapshot-codec'
import { createFaultyStorage, createMemoryStorage, type MemoryStorage } from '../../src/testing'
import { bytesOf } from './support/bytes'
import { conversationAt, projectAt } from './support/crash-docs'
import { sampleConversation, sampleProject } from './support/documents'

/** The journaled documents through the repository: what a save writes, repairs, damage, compaction, the remote path. */

const T0 = Date.parse('2026-01-15T10:00:00.000Z')
const AT = new Date(T0).toISOString()
const LOG = 'conversations/c1.jsonl'
const JOURNAL = 'project.journal.jsonl'

function setup(options: Partial<RepositoryOptions> & { storage?: MemoryStorage } = {}) {
  const clock = { now: T0 }
  const storage = options.storage ?? createMemoryStorage({ now: () => clock.now })
  const events: RepositoryEvent[] = []
  const repo = createRepository({
    now: () => clock.now,
    onEvent: (event) => events.push(event),
    config: { backupEnabled: false },
    ...options,
    storage,
  })
  return { repo, storage, clock, events }
}

const withMessage = (c: Conversation, id: string, content = `message ${id}`): Conversation => ({
  ...c,
  messages: [...c.messages, { id, role: 'user', content, createdAt: AT }],
})
const retitle = (p: ProjectData, index: number, title: string): ProjectData => ({
  ...p,
  tree: p.tree.with(index, { ...p.tree[index]!, title }),
})
const steps = (storage: MemoryStorage, from: number) =>
  storage.log.slice(from).map((op) => `${op.step} ${op.path}`)

describe('journaled saves', () => {
  it('appends the edits of one save as one batch: one append, one fsync, and reports its size', async () => {
    const { repo, storage } = setup()
    const start = sampleProject(200)
    await repo.save('project', start, 1)
    const before = storage.files()[JOURNAL]!.length
    // A debounce window's worth of edits, merged into one state by the coordinator.
    let next = start
    for (const i of [3, 50, 51, 199]) next = retitle(next, i, `edit ${i}`)
    next = { ...next, metadata: { ...next.metadata, name: 'Renamed' } }
    const mark = storage.log.length
    const { bytes } = await repo.save('project', next, 2)
    expect(steps(storage, mark)).toEqual([`append ${JOURNAL}`, `fsync ${JOURNAL}`])
    expect(bytes).toBe(storage.files()[JOURNAL]!.length - before)
    const records = storage
      .readText(JOURNAL)!
      .slice(new TextDecoder().decode(storage.files()[JOURNAL]!.subarray(0, before)).length)
    expect(
      records
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line).rec.op),
    ).toEqual(['set', 'node', 'node', 'node', 'node'])
    expect(await repo.load('project')).toMatchObject({ ok: true, revision: 2, data: next })
  })

  it('appends one message of a long conversation with little more than the message itself', async () => {
    const { repo } = setup()
    let conversation = sampleConversation()
    for (let i = 0; i < 200; i++)
      conversation = withMessage(conversation, `m${i + 10}`, `reply ${i} `.repeat(20))
    await repo.save('conversation/c1', conversation, 1)
    const next = withMessage(conversation, 'new', 'x'.repeat(1000))
    const { bytes } = await repo.save('conversation/c1', next, 2)
    const message = JSON.stringify(next.messages.at(-1))
    expect(bytes).toBeGreaterThan(message.length)
    expect(bytes).toBeLessThan(message.length + 200)
    expect(await repo.load('conversation/c1')).toMatchObject({ ok: true, revision: 2, data: next })
  })

  it('records a save that changed nothing, so the loaded revision is never older than the saved one', async () => {
    const { repo } = setup()
    await repo.save('conversation/c1', sampleConversation(), 1)
    const { bytes } = await repo.save('conversation/c1', sampleConversation(), 2)
    expect(bytes).toBeGreaterThan(0)
    expect(await repo.load('conversation/c1')).toMatchObject({ ok: true, revision: 2 })
  })

  it('rewrites the log when a message is inserted in the middle, and reads it back in order', async () => {
    const { repo, storage } = setup()
    const start = withMessage(sampleConversation(), 'm3')
    await repo.save('conversation/c1', start, 1)
    const inserted = {
      ...start,
      messages: [start.messages[0]!, { ...start.messages[2]!, id: 'mid' }, ...start.messages.slice(1)],
    }
    const mark = storage.log.length
    await repo.save('conversation/c1', inserted, 2)
    expect(storage.log.slice(mark).some((op) => op.step === 'rename' && op.to === LOG)).toBe(true)
    expect(await repo.load('conversation/c1')).toMatchObject({ ok: true, data: inserted })
  })

  it('never appends to a file it has not read: a fresh repository reads the document before its first save', async () => {
    const { repo, storage } = setup()
    await repo.save('project', projectAt(1), 1)
    const other = setup({ storage }).repo
    await other.save('project', projectAt(2), 2)
    expect(storage.log.filter((op) => op.step === 'append')).toHaveLength(1)
    expect(await repo.load('project')).toMatchObject({ ok: true, data: projectAt(2) })
  })
})

describe('compaction', () => {
  it('rewrites a conversation log once dead records pass the threshold', async () => {
    const { repo, storage, events } = setup({ compaction: { logDeadRecords: 4, logDeadRatio: 0.5 } })
    let conversation = sampleConversation()
    await repo.save('conversation/c1', conversation, 1)
    for (let revision = 2; revision <= 6; revision++) {
      conversation = {
        ...conversation,
        messages: conversation.messages.with(0, { ...conversation.messages[0]!, content: `v${revision}` }),
      }
      await repo.save('conversation/c1', conversation, revision)
    }
    expect(events.filter((e) => e.type === 'compacted')).toEqual([
      expect.objectContaining({ key: 'conversation/c1', reason: 'threshold' }),
    ])
    const lines = storage.readText(LOG)!.trimEnd().split('\n')
    expect(lines.length).toBeLessThan(1 + 2 + 4)
    expect(await repo.load('conversation/c1')).toMatchObject({ ok: true, revision: 6, data: conversation })
  })

  it('folds the project journal into project.json when it passes its record or byte threshold', async () => {
    const { repo, storage, events } = setup({ compaction: { journalMaxRecords: 4 } })
    for (let revision = 1; revision <= 6; revision++)
      await repo.save('project', projectAt(revision), revision)
    expect(events.some((e) => e.type === 'compacted' && e.reason === 'threshold')).toBe(true)
    expect(JSON.parse(storage.readText('project.json')!).revision).toBeGreaterThan(1)
    const bytes = setup({ compaction: { journalMaxBytes: 600 } })
    for (let revision = 1; revision <= 4; revision++)
      await bytes.repo.save('project', projectAt(revision), revision)
    expect(bytes.storage.files()[JOURNAL]!.length).toBeLessThanOrEqual(600)
    expect(await bytes.repo.load('project')).toMatchObject({ ok: true, data: projectAt(4) })
  })

  it('compacts on demand, keeping data and revision, and then has nothing left to do', async () => {
    const { repo, storage, events } = setup()
    for (let revision = 1; revision <= 3; revision++)
      await repo.save('project', projectAt(revision), revision)
    const { bytes } = await repo.compact('project')
    expect(bytes).toBe(storage.files()['project.json']!.length + storage.files()[JOURNAL]!.length)
    expect(storage.readText(JOURNAL)!.trimEnd().split('\n')).toHaveLength(1)
    expect(events.at(-1)).toMatchObject({ type: 'compacted', reason: 'demand', bytes })
    expect(await repo.compact('project')).toEqual({ bytes: 0 })
    expect(await repo.compact('settings')).toEqual({ bytes: 0 })
    expect(await setup({ storage }).repo.load('project')).toMatchObject({
      ok: true,
      revision: 3,
      data: projectAt(3),
    })
  })

  it('serializes a compaction and a save of the same document', async () => {
    const { repo } = setup()
    for (let revision = 1; revision <= 3; revision++)
      await repo.save('conversation/c1', conversationAt(revision), revision)
    await Promise.all([repo.compact('conversation/c1'), repo.save('conversation/c1', conversationAt(4), 4)])
    expect(
      await setup({ storage: repo.storage as MemoryStorage }).repo.load('conversation/c1'),
    ).toMatchObject({
      ok: true,
      revision: 4,
      data: conversationAt(4),
    })
  })
})

describe('repairs', () => {
  it('loads past a torn tail without touching the file, then quarantines it and cuts it before the next append', async () => {
    const { repo, storage, events } = setup()
    await repo.save('conversation/c1', conversationAt(1), 1)
    const whole = storage.files()[LOG]!.length
    const tail = '{"len":99,"crc":"0badf00d","rec":{"op":"add","mess'
    await storage.append(LOG, tail)
    const fresh = setup({ storage })
    const mark = storage.log.length
    const loaded = await fresh.repo.load('conversation/c1')
    expect(loaded).toMatchObject({ ok: true, revision: 1, journal: { tornBytes: tail.length, records: 3 } })
    expect(storage.log.length).toBe(mark)
    await fresh.repo.save('conversation/c1', conversationAt(2), 2)
    const repaired = fresh.events.find((e) => e.type === 'journal.repaired')
    expect(repaired).toMatchObject({ cutAt: whole, cutBytes: tail.length })
    expect(repaired?.type === 'journal.repaired' && storage.readText(repaired.quarantined!)).toBe(tail)
    expect(await setup({ storage }).repo.load('conversation/c1')).toMatchObject({
      ok: true,
      revision: 2,
      data: conversationAt(2),
      journal: { tornBytes: 0 },
    })
    expect(events).toEqual([])
  })

  it('loads the saves before damage in the middle, reports it, and keeps a copy before rewriting', async () => {
    const { repo, storage } = setup()
    for (let revision = 1; revision <= 4; revision++)
      await repo.save('conversation/c1', conversationAt(revision), revision)
    const text = storage.readText(LOG)!
    const lines = text.split('\n')
    // The save of revision 3 starts after the line that closed revision 2; one letter of its last line flips.
    const first = lines.findIndex((line) => line.includes('"rev":2,')) + 1
    const last = lines.findIndex((line) => line.includes('"rev":3,'))
    const offset = lines.slice(0, first).join('\n').length + 1
    const at = lines.slice(0, last).join('\n').length + 20
    const damaged = `${text.slice(0, at)}${text[at] === 'a' ? 'b' : 'a'}${text.slice(at + 1)}`
    await storage.writeAtomic(LOG, damaged)
    const fresh = setup({ storage })
    const loaded = await fresh.repo.load('conversation/c1')
    expect(loaded).toMatchObject({ ok: true, revision: 2, data: conversationAt(2) })
    expect(loaded.ok && loaded.journal?.damage).toMatchObject({
      code: 'corrupt',
      details: {
        reason: 'checksum-mismatch',
        path: LOG,
        line: first + 1,
        offset: bytesOf(text.slice(0, offset)).length,
      },
    })
    expect(fresh.events.map((e) => e.type)).toEqual(['journal.damaged'])
    expect(storage.readText(LOG)).toBe(damaged)
    await fresh.repo.save('conversation/c1', conversationAt(5), 5)
    const [kept] = await fresh.repo.listQuarantine()
    expect(storage.readText(kept!)).toBe(damaged)
    const reloaded = await setup({ storage }).repo.load('conversation/c1')
    expect(reloaded).toMatchObject({ ok: true, revision: 5, data: conversationAt(5) })
    expect(reloaded.ok && reloaded.journal?.damage).toBeUndefined()
  })

  it('skips a stale journal after a compaction whose journal reset failed, and resets it before appending', async () => {
    const inner = createMemoryStorage({ now: () => T0 })
    const storage = createFaultyStorage(inner, [
      { op: 'writeAtomic', path: JOURNAL, code: 'EIO', skip: 1, times: 1 },
    ])
    const { repo } = setup({ storage: storage as unknown as MemoryStorage })
    for (let revision = 1; revision <= 3; revision++)
      await repo.save('project', projectAt(revision), revision)
    await expect(repo.compact('project')).rejects.toMatchObject({ code: 'io' })
    // project.json holds revision 3 whole; the journal still starts from revision 1 and is skipped.
    const stale = await setup({ storage: inner }).repo.load('project')
    expect(stale).toMatchObject({ ok: true, revision: 3, data: projectAt(3) })
    await repo.save('project', projectAt(4), 4)
    const records = inner
      .readText(JOURNAL)!
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line).rec)
    // Reset from the new snapshot (revision 3), then the one save: the stale batches are gone.
    expect(records[0]).toMatchObject({ op: 'journal', base: 3 })
    expect(records.filter((record) => 'rev' in record).map((record) => record.rev)).toEqual([3, 4])
    expect(await setup({ storage: inner }).repo.load('project')).toMatchObject({
      ok: true,
      revision: 4,
      data: projectAt(4),
    })
  })

  it('reads a conversation an earlier version wrote as a snapshot, and replaces it with a log on the first save', async () => {
    const legacy = snapshotCodec.encode({
      kind: 'conversation',
      schemaVersion: 1,
      revision: 4,
      savedAt: AT,
      data: sampleConversation(),
    })
    const storage = createMemoryStorage({ files: { 'conversations/c1.json': legacy } })
    const { repo } = setup({ storage })
    expect(await repo.load('conversation/c1')).toMatchObject({
      ok: true,
      revision: 4,
      path: 'conversations/c1.json',
    })
    await repo.save('conversation/c1', withMessage(sampleConversation(), 'm3'), 5)
    expect(Object.keys(storage.files())).toEqual([LOG])
    expect(await setup({ storage }).repo.load('conversation/c1')).toMatchObject({
      ok: true,
      revision: 5,
      path: LOG,
    })
  })

  it('moves the journal to quarantine with its snapshot', async () => {
    const { repo, storage } = setup()
    await repo.save('project', projectAt(1), 1)
    await repo.save('project', projectAt(2), 2)
    const moved = await repo.quarantine('project', 'corrupt')
    expect(moved.from).toBe('project.json')
    expect(Object.keys(storage.files()).every((path) => path.startsWith('.saveflow/quarantine/'))).toBe(true)
    expect(await repo.listQuarantine()).toHaveLength(2)
  })
})

describe('backups of journaled documents', () => {
  it('are compacted snapshots written out, never links of the live project.json, readable like any backup', async () => {
    const { repo, clock, events } = setup({ config: { backupInterval: 1000, backupCount: 5 } })
    await repo.save('project', projectAt(1), 1)
    clock.now += 2000
    await repo.save('project', projectAt(2), 2)
    clock.now += 2000
    await repo.save('project', projectAt(3), 3)
    const created = events.filter((e) => e.type === 'backup.created')
    expect(created.map((e) => e.type === 'backup.created' && [e.backup.revision, e.method])).toEqual([
      [1, 'copy'],
      [2, 'copy'],
    ])
    for (const backup of await repo.listBackups('project')) {
      expect(await repo.readBackup('project', backup)).toMatchObject({
        ok: true,
        data: projectAt(backup.revision),
      })
    }
    const restored = await repo.restoreBackup('project', (await repo.listBackups('project')).at(-1)!)
    expect(restored).toMatchObject({ revision: 1, data: projectAt(1) })
    expect(await setup({ storage: repo.storage as MemoryStorage }).repo.load('project')).toMatchObject({
      ok: true,
      data: projectAt(1),
    })
    // The restore kept the state it replaced as a backup: it can be undone.
    expect((await repo.listBackups('project')).map((b) => b.revision)).toContain(3)
  })
})

describe('appendPatches (the remote path)', () => {
  it('applies patches computed beside the state, validates the result, and appends them', async () => {
    const { repo, storage } = setup()
    const start = sampleProject(30)
    await repo.save('project', start, 1)
    const next = retitle(start, 12, 'renamed remotely')
    const patches = diffPatches('project', start, next)!
    expect(patches).toHaveLength(1)
    const before = storage.files()[JOURNAL]!.length
    const { bytes } = await repo.appendPatches('project', patches, 1, 2)
    expect(bytes).toBe(storage.files()[JOURNAL]!.length - before)
    expect(await setup({ storage }).repo.load('project')).toMatchObject({ ok: true, revision: 2, data: next })
  })

  it('refuses a stale base, patches that do not parse or apply, an invalid result, and snapshot kinds', async () => {
    const { repo } = setup()
    await repo.save('project', sampleProject(5), 1)
    const node = { ...sampleProject(5).tree[1]!, title: 'x' }
    await expect(repo.appendPatches('project', [{ op: 'node', node }], 0, 2)).rejects.toMatchObject({
      code: 'invalid-data',
      details: { reason: 'stale-base', baseRevision: 0, diskRevision: 1 },
    })
    await expect(
      repo.appendPatches('project', [{ op: 'node', node, rev: 9 } as never], 1, 2),
    ).rejects.toMatchObject({ code: 'invalid-data', details: { reason: 'bad-patch' } })
    await expect(repo.appendPatches('project', [{ op: 'remove', id: 'nope' }], 1, 2)).rejects.toMatchObject({
      code: 'invalid-data',
      details: { reason: 'bad-patch' },
    })
    const orphan = { ...node, id: 'orphan', parentId: 'missing' }
    await expect(repo.appendPatches('project', [{ op: 'node', node: orphan }], 1, 2)).rejects.toMatchObject({
      code: 'invalid-data',
      details: { reason: 'invalid-result' },
    })
    await expect(repo.appendPatches('settings', [], 1, 2)).rejects.toMatchObject({ code: 'invalid-id' })
    expect(await repo.load('project')).toMatchObject({ ok: true, revision: 1, data: sampleProject(5) })
  })

  it('appends conversation patches, and the remote and local paths write the same bytes', async () => {
    const local = setup()
    const remote = setup()
    for (const { repo } of [local, remote]) await repo.save('conversation/c1', conversationAt(1), 1)
    await local.repo.save('conversation/c1', conversationAt(2), 2)
    await remote.repo.appendPatches(
      'conversation/c1',
      diffPatches('conversation/c1', conversationAt(1), conversationAt(2))!,
      1,
      2,
    )
    expect(remote.storage.readText(LOG)).toBe(local.storage.readText(LOG))
  })
})
