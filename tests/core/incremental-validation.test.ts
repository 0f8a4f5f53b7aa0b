import { afterEach, describe, expect, it, vi } from 'vitest'
import { checkChange } from '../../src/core/change-check'
import { createDocumentValidator } from '../../src/core/document-validator'
import { DOCUMENTS } from '../../src/core/documents'
import { createRepository, type RepositoryEvent, type RepositoryOptions } from '../../src/core/repository'
import {
  type Conversation,
  conversationSchema,
  type ProjectData,
  projectDataSchema,
  type TreeNode,
} from '../../src/core/schemas'
import { createWorkspaceSession } from '../../src/core/workspace-session'
import { createFaultyStorage, createMemoryStorage, type MemoryStorage } from '../../src/testing'
import { sampleConversation, sampleProject } from './support/documents'

/**
 * Saves of the project and of conversations are validated by their change (`change-check.ts`,
 * `document-validator.ts`): only what differs from the last valid data is parsed, and invalid data is still never
 * written.
 */

const T0 = Date.parse('2026-01-15T10:00:00.000Z')
const AT = new Date(T0).toISOString()
const JOURNAL = 'project.journal.jsonl'
const LOG = 'conversations/c1.jsonl'

function setup(options: Partial<RepositoryOptions> & { storage?: MemoryStorage } = {}) {
  const storage = options.storage ?? createMemoryStorage({ now: () => T0 })
  const events: RepositoryEvent[] = []
  const repo = createRepository({
    now: () => T0,
    config: { backupEnabled: false },
    onEvent: (event) => events.push(event),
    ...options,
    storage,
  })
  return { repo, storage, events }
}

/** Counts whole-document parses of the project and conversation schemas. */
function countFullParses() {
  const project = vi.spyOn(projectDataSchema, 'safeParse')
  const conversation = vi.spyOn(conversationSchema, 'safeParse')
  return {
    get project() {
      return project.mock.calls.length
    },
    get conversation() {
      return conversation.mock.calls.length
    },
    reset() {
      project.mockClear()
      conversation.mockClear()
    },
  }
}

afterEach(() => {
  vi.restoreAllMocks()
})

const editNode = (p: ProjectData, index: number, change: Partial<TreeNode>): ProjectData => ({
  ...p,
  tree: p.tree.with(index, { ...p.tree[index]!, ...change } as TreeNode),
})
const withMessage = (c: Conversation, id: string, extra: Record<string, unknown> = {}): Conversation => ({
  ...c,
  messages: [...c.messages, { id, role: 'user', content: `message ${id}`, createdAt: AT, ...extra }],
})

/** A project saved and loaded again, as an app holds it after opening. */
async function loadedProject(nodes = 50) {
  const { repo, storage } = setup()
  await repo.save('project', sampleProject(nodes), 1)
  const loaded = await repo.load('project')
  if (!loaded.ok) throw loaded.error
  return { repo, storage, project: loaded.data }
}

describe('incremental validation of the project', () => {
  it('parses only the changed node after a load, and appends it', async () => {
    const { repo, storage, project } = await loadedProject()
    const parses = countFullParses()
    const next = editNode(project, 7, { title: 'Renamed' })
    const before = storage.files()[JOURNAL]!.length
    // The data returned is the caller's own object: the next save diffs against it by reference.
    expect(repo.validate('project', next)).toBe(next)
    await repo.save('project', next, 2)
    expect(parses.project).toBe(0)
    expect(storage.files()[JOURNAL]!.length).toBeGreaterThan(before)
    expect(await repo.load('project')).toMatchObject({ ok: true, revision: 2, data: next })
  })

  it('parses the first save of a new document whole, and the next one by its change', async () => {
    const { repo } = setup()
    const parses = countFullParses()
    const start = sampleProject(20)
    await repo.save('project', start, 1)
    expect(parses.project).toBe(1)
    parses.reset()
    // The base is zod's copy of `start`: the diff compares by content once, then by reference.
    const second = editNode(start, 3, { title: 'second' })
    await repo.save('project', second, 2)
    const third = editNode(second, 4, { title: 'third' })
    await repo.save('project', third, 3)
    expect(parses.project).toBe(0)
    expect(await repo.load('project')).toMatchObject({ ok: true, revision: 3, data: third })
  })

  it.each<[string, (p: ProjectData) => ProjectData]>([
    ['a title over the limit', (p) => editNode(p, 5, { title: 'x'.repeat(1001) })],
    ['a bad id', (p) => editNode(p, 5, { id: 'bad id!' })],
    ['a bad date', (p) => editNode(p, 5, { updatedAt: 'yesterday' })],
    ['a parent that does not exist', (p) => editNode(p, 5, { parentId: 'missing' })],
    ['a cycle', (p) => editNode(p, 0, { parentId: 'n7' })],
    ['a node whose parent was removed', (p) => ({ ...p, tree: p.tree.filter((n) => n.id !== 'n1') })],
    [
      'a new node under a missing parent',
      (p) => ({ ...p, tree: [...p.tree, { ...p.tree[0]!, id: 'new', parentId: 'nope' }] }),
    ],
    ['a repeated id', (p) => ({ ...p, tree: [...p.tree, p.tree[3]!] })],
    [
      'a null node',
      (p) => ({ ...p, tree: [...p.tree.slice(0, 5), null, ...p.tree.slice(5)] }) as unknown as ProjectData,
    ],
    [
      'a node without an id',
      (p) => ({ ...p, tree: [...p.tree, { ...p.tree[9]!, id: undefined }] }) as unknown as ProjectData,
    ],
    ['bad metadata', (p) => ({ ...p, metadata: { ...p.metadata, name: '' } })],
    ['bad settings', (p) => ({ ...p, settings: { ...p.settings, language: 'x' } })],
    ['a negative version', (p) => ({ ...p, version: -1 })],
    [
      'a bad conversation reference',
      (p) => ({ ...p, conversations: [{ ...p.conversations[0]!, messageCount: -1 }] }),
    ],
    ['a missing field', (p) => ({ ...p, lastSaved: undefined }) as unknown as ProjectData],
  ])('refuses %s: invalid-data, nothing appended', async (_, change) => {
    const { repo, storage, project } = await loadedProject()
    const files = storage.files()
    const next = change(project)
    expect(() => repo.validate('project', next)).toThrow(expect.objectContaining({ code: 'invalid-data' }))
    await expect(repo.save('project', next, 2)).rejects.toMatchObject({ code: 'invalid-data' })
    expect(storage.files()).toEqual(files)
    // The last valid data stays the base: a valid edit of it saves, by its change.
    const parses = countFullParses()
    const valid = editNode(project, 2, { title: 'fine' })
    await repo.save('project', valid, 3)
    expect(parses.project).toBe(0)
    expect(await repo.load('project')).toMatchObject({ ok: true, revision: 3, data: valid })
  })

  it('accepts structural changes that keep the tree a forest, without a full parse', async () => {
    const { repo, project } = await loadedProject()
    const parses = countFullParses()
    // A move, a new leaf, and the removal of a leaf (n49 has no children in a 50-node sample).
    let next = editNode(project, 9, { parentId: 'n0', order: 0.5 })
    next = { ...next, tree: [...next.tree, { ...next.tree[0]!, id: 'leaf', parentId: 'n3' }] }
    next = { ...next, tree: next.tree.filter((n) => n.id !== 'n49') }
    await repo.save('project', next, 2)
    expect(parses.project).toBe(0)
    expect(await repo.load('project')).toMatchObject({ ok: true, data: next })
  })

  it('parses the document whole when a change carries keys the schema strips, and writes it stripped', async () => {
    const { repo, project } = await loadedProject(10)
    const parses = countFullParses()
    const extra = editNode(project, 4, { note: 'not in the schema' } as Partial<TreeNode>)
    const written = repo.validate('project', extra) as ProjectData
    expect(parses.project).toBe(1)
    expect(written).not.toBe(extra)
    expect(written.tree[4]).not.toHaveProperty('note')
    const topLevel = { ...project, extra: 1 } as ProjectData
    expect(repo.validate('project', topLevel)).not.toHaveProperty('extra')
    expect(parses.project).toBe(2)
    await repo.save('project', extra, 2)
    const loaded = await repo.load('project')
    expect(loaded.ok && loaded.data.tree[4]).not.toHaveProperty('note')
  })

  it('keeps only the newest change, so older versions of the document can be collected', () => {
    const validator = createDocumentValidator((key) => DOCUMENTS[key as 'project'])
    const v1 = sampleProject(10)
    validator.trust('project', v1)
    const v2 = editNode(v1, 2, { title: 'two' })
    const v3 = editNode(v2, 3, { title: 'three' })

    expect(validator.validate('project', v2)).toBe(v2)
    expect(validator.validate('project', v3)).toBe(v3)

    expect(validator.changeOf(v3)).toMatchObject({ base: v2 })
    // v2's own change would hold v1, and v1 the version before it: a chain that keeps every version alive.
    expect(validator.changeOf(v2)).toBeUndefined()
  })

  it('refuses a field the schema does not know under strict validation, and writes nothing', async () => {
    const { repo, storage } = setup({ config: { backupEnabled: false, validation: { strict: true } } })
    await repo.save('project', sampleProject(10), 1)
    const loaded = await repo.load('project')
    if (!loaded.ok) throw loaded.error
    const before = storage.files()
    const extra = editNode(loaded.data, 4, { note: 'not in the schema' } as Partial<TreeNode>)

    await expect(repo.save('project', extra, 2)).rejects.toMatchObject({
      code: 'invalid-data',
      details: { reason: 'unknown-key', issues: [{ path: 'tree.4.note' }] },
    })
    expect(() => repo.validate('settings', { theme: 'dark', colour: 'red' })).toThrow(/"colour"/)
    expect(storage.files()).toEqual(before)
    expect(repo.validate('project', editNode(loaded.data, 4, { title: 'Fine' }))).toBeDefined()
  })

  it('parses whole a document with another schema (a replaced definition)', async () => {
    const schema = projectDataSchema.extend({})
    const { repo } = setup({ definitions: { project: { ...DOCUMENTS.project, schema } } })
    const spy = vi.spyOn(schema, 'safeParse')
    const start = sampleProject(5)
    await repo.save('project', start, 1)
    await repo.save('project', editNode(start, 1, { title: 'again' }), 2)
    expect(spy).toHaveBeenCalledTimes(2)
  })

  it('a rewrite of change-checked data parses it whole; data changed in place is refused there', async () => {
    // A compaction whose project.json write fails leaves a repair: the next save rewrites the document whole.
    const inner = createMemoryStorage({ now: () => T0 })
    const storage = createFaultyStorage(inner, [
      { op: 'writeAtomic', path: 'project.json', code: 'EIO', skip: 1, times: 1 },
    ])
    const { repo } = setup({ storage: storage as unknown as MemoryStorage })
    await repo.save('project', sampleProject(10), 1)
    const loaded = await repo.load('project')
    if (!loaded.ok) throw loaded.error
    const next = editNode(loaded.data, 3, { title: 'saved' })
    await repo.save('project', next, 2)
    await expect(repo.compact('project')).rejects.toMatchObject({ code: 'io' })
    // Against the contract: the saved state is changed in place. A diff by reference cannot see it...
    ;(next.tree[6] as { title: string }).title = 'x'.repeat(2000)
    const after = editNode(next, 2, { title: 'another edit' })
    const files = inner.files()
    // ...but the rewrite parses the document whole, refuses it, and leaves the files as they were.
    await expect(repo.save('project', after, 3)).rejects.toMatchObject({ code: 'invalid-data' })
    expect(inner.files()).toEqual(files)
    // The base is dropped: the next save is parsed whole, and refused while the bad node is in it.
    const parses = countFullParses()
    await expect(repo.save('project', editNode(after, 1, { title: 'x' }), 4)).rejects.toMatchObject({
      code: 'invalid-data',
    })
    expect(parses.project).toBe(1)
    const fixed = editNode(after, 6, { title: 'fixed' })
    await repo.save('project', fixed, 5)
    expect(await repo.load('project')).toMatchObject({ ok: true, revision: 5, data: fixed })
  })

  it('a compaction writes the state its saves checked, without parsing it again', async () => {
    const { repo, events } = setup({ compaction: { journalMaxRecords: 3 } })
    let data = sampleProject(10)
    await repo.save('project', data, 1)
    const parses = countFullParses()
    for (const [i, title] of ['a', 'b', 'c'].entries()) {
      data = editNode(data, i + 1, { title })
      await repo.save('project', data, i + 2)
    }
    // The third edit passed the record threshold: that save compacted.
    expect(events.filter((e) => e.type === 'compacted')).toHaveLength(1)
    data = editNode(data, 5, { title: 'd' })
    await repo.save('project', data, 5)
    await repo.compact('project')
    expect(events.filter((e) => e.type === 'compacted')).toHaveLength(2)
    expect(parses.project).toBe(0)
    expect(await repo.load('project')).toMatchObject({ ok: true, revision: 5, data })
  })

  it('with validation off, nothing is parsed', async () => {
    const { repo } = setup({ config: { backupEnabled: false, validation: { enabled: false } } })
    const parses = countFullParses()
    const data = sampleProject(5)
    await repo.save('project', data, 1)
    await repo.save('project', editNode(data, 1, { title: 'x' }), 2)
    await repo.compact('project')
    expect(parses.project).toBe(0)
  })
})

describe('incremental validation of a conversation', () => {
  async function loadedConversation() {
    const { repo, storage } = setup()
    await repo.save('conversation/c1', sampleConversation(), 1)
    const loaded = await repo.load('conversation/c1')
    if (!loaded.ok) throw loaded.error
    return { repo, storage, conversation: loaded.data }
  }

  it('parses only the new message', async () => {
    const { repo, conversation } = await loadedConversation()
    const parses = countFullParses()
    let next = withMessage(conversation, 'm3')
    await repo.save('conversation/c1', next, 2)
    next = { ...withMessage(next, 'm4'), title: 'Renamed' }
    await repo.save('conversation/c1', next, 3)
    expect(parses.conversation).toBe(0)
    expect(await repo.load('conversation/c1')).toMatchObject({ ok: true, revision: 3, data: next })
  })

  it.each<[string, (c: Conversation) => Conversation]>([
    ['a bad role', (c) => withMessage(c, 'm3', { role: 'robot' })],
    ['a message without content', (c) => withMessage(c, 'm3', { content: undefined })],
    ['a bad message id', (c) => withMessage(c, 'bad id')],
    ['a bad title', (c) => ({ ...c, title: 'x'.repeat(1001) })],
    [
      'an edited message made invalid',
      (c) => ({ ...c, messages: c.messages.with(0, { ...c.messages[0]!, createdAt: 'now' }) }),
    ],
  ])('refuses %s: invalid-data, nothing appended', async (_, change) => {
    const { repo, storage, conversation } = await loadedConversation()
    const before = storage.files()[LOG]!
    await expect(repo.save('conversation/c1', change(conversation), 2)).rejects.toMatchObject({
      code: 'invalid-data',
    })
    expect(storage.files()[LOG]).toEqual(before)
  })

  it('parses whole a conversation whose messages were reordered (no keyed patch says it)', async () => {
    const { repo, conversation } = await loadedConversation()
    const parses = countFullParses()
    const next = { ...conversation, messages: [...conversation.messages].reverse() }
    await repo.save('conversation/c1', next, 2)
    expect(parses.conversation).toBe(1)
    expect(await repo.load('conversation/c1')).toMatchObject({ ok: true, data: next })
  })
})

describe('a session whose repository does not validate (an rpc client)', () => {
  it('checks saves in this process, the project by its change after its first save', async () => {
    // The repository checks nothing itself here, so every parse counted is the session's.
    const { repo, storage } = setup({ config: { backupEnabled: false, validation: { enabled: false } } })
    const { validate: _, ...remote } = repo
    const session = createWorkspaceSession({ repository: remote, config: { saveDebounce: 0 } })
    const parses = countFullParses()
    const opened = await session.open('project', { emptyData: sampleProject(20) })
    if (opened.status !== 'ready') throw new Error(opened.status)
    let data = editNode(opened.data, 1, { title: 'first' })
    session.change('project', data)
    expect(await session.flush('project')).toMatchObject({ result: 'saved' })
    expect(parses.project).toBe(1)
    for (const [i, title] of ['second', 'third'].entries()) {
      data = editNode(data, 2 + i, { title })
      session.change('project', data)
      expect(await session.flush('project')).toMatchObject({ result: 'saved' })
    }
    expect(parses.project).toBe(1)
    const files = storage.files()
    session.change('project', editNode(data, 4, { parentId: 'nowhere' }))
    expect(await session.flush('project')).toMatchObject({
      result: 'failed',
      error: { code: 'invalid-data' },
    })
    expect(storage.files()).toEqual(files)
    await session.close()
  })
})

describe('checkChange', () => {
  it('returns the patches that prove the change, or null when only a full parse can tell', () => {
    const base = projectDataSchema.parse(sampleProject(5))
    const next = editNode(base, 1, { title: 'x' })
    expect(checkChange('project', base, next)).toEqual([{ op: 'node', node: next.tree[1] }])
    expect(checkChange('project', base, base)).toEqual([])
    expect(checkChange('project', base, null)).toBeNull()
    expect(checkChange('project', base, [])).toBeNull()
    expect(checkChange('project', base, { ...next, tree: 'nodes' })).toBeNull()
    expect(checkChange('project', base, { ...next, tree: [...next.tree, 3] })).toBeNull()
    expect(checkChange('project', base, { ...next, tree: [null, ...next.tree] })).toBeNull()
    const conversation = conversationSchema.parse(sampleConversation())
    expect(checkChange('conversation', conversation, withMessage(conversation, 'm9'))).toHaveLength(1)
    expect(checkChange('conversation', conversation, { ...conversation, extra: 1 })).toBeNull()
  })
})
