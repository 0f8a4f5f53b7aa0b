import { describe, expect, it } from 'vitest'
import { projectDataSchema } from '../../src/core/schemas'
import {
  createProjectStore,
  emptyProject,
  mergeProjectEdits,
  projectDataOf,
  selectChildren,
} from '../../src/zustand/project-store'
import { testEnvironment } from './support'

function store() {
  return createProjectStore(testEnvironment())
}

describe('createProjectStore', () => {
  it('makes a fresh store each time', () => {
    const a = store()
    const b = store()
    a.getState().addNode(null, 'Only in a')
    expect(a.getState().tree).toHaveLength(1)
    expect(b.getState().tree).toHaveLength(0)
  })

  it('adds nodes as last children and keeps the project valid', () => {
    const s = store()
    const root = s.getState().addNode(null, 'Root')
    const first = s.getState().addNode(root, 'First', 'about it')
    const second = s.getState().addNode(root, 'Second')
    expect(selectChildren(s.getState(), root).map((n) => n.id)).toEqual([first, second])
    expect(s.getState().version).toBe(3)
    expect(projectDataSchema.safeParse(projectDataOf(s.getState())).success).toBe(true)
  })

  it('keeps every unchanged node the same object on rename and description edits', () => {
    const s = store()
    const a = s.getState().addNode(null, 'A')
    const b = s.getState().addNode(null, 'B')
    const before = s.getState().tree
    s.getState().renameNode(a, 'A2')
    s.getState().setDescription(a, 'described')
    const after = s.getState().tree
    expect(after).not.toBe(before)
    expect(after.find((n) => n.id === b)).toBe(before.find((n) => n.id === b))
    expect(after.find((n) => n.id === a)).toMatchObject({ title: 'A2', description: 'described' })
  })

  it('does nothing when a rename does not change the title', () => {
    const s = store()
    const a = s.getState().addNode(null, 'A')
    const state = s.getState()
    s.getState().renameNode(a, 'A')
    expect(s.getState()).toBe(state)
  })

  it('moves a node between siblings, changing only that node', () => {
    const s = store()
    const [a, b, c] = ['A', 'B', 'C'].map((t) => s.getState().addNode(null, t))
    const before = s.getState().tree
    s.getState().moveNode(c!, null, 1)
    expect(selectChildren(s.getState(), null).map((n) => n.id)).toEqual([a, c, b])
    const changed = s.getState().tree.filter((n, i) => n !== before[i])
    expect(changed.map((n) => n.id)).toEqual([c])
  })

  it('moves a node under another parent and refuses a cycle', () => {
    const s = store()
    const a = s.getState().addNode(null, 'A')
    const child = s.getState().addNode(a, 'Child')
    const b = s.getState().addNode(null, 'B')
    s.getState().moveNode(a, b, 0)
    expect(selectChildren(s.getState(), b).map((n) => n.id)).toEqual([a])
    const state = s.getState()
    expect(() => s.getState().moveNode(b, child, 0)).toThrowError(
      expect.objectContaining({ code: 'invalid-data' }),
    )
    expect(s.getState()).toBe(state)
  })

  it('renumbers a sibling group when repeated moves use up the gap', () => {
    const s = store()
    const [a, b, c] = ['A', 'B', 'C'].map((t) => s.getState().addNode(null, t))
    // Moving the last node between the first two, over and over, halves the gap each time until floats run out.
    for (let i = 0; i < 80; i++) {
      const order = selectChildren(s.getState(), null).map((n) => n.id)
      s.getState().moveNode(order[2]!, null, 1)
    }
    const orders = selectChildren(s.getState(), null).map((n) => n.order)
    expect(new Set(orders).size).toBe(3)
    expect(
      selectChildren(s.getState(), null)
        .map((n) => n.id)
        .sort(),
    ).toEqual([a, b, c].sort())
    expect(projectDataSchema.safeParse(projectDataOf(s.getState())).success).toBe(true)
  })

  it('deletes a node with its subtree and unlinks conversations about it', () => {
    const s = store()
    const a = s.getState().addNode(null, 'A')
    const a1 = s.getState().addNode(a, 'A1')
    const a11 = s.getState().addNode(a1, 'A11')
    const b = s.getState().addNode(null, 'B')
    s.getState().upsertConversationRef({
      id: 'c1',
      title: 'About A11',
      nodeId: a11,
      createdAt: '2026-01-15T10:00:00.000Z',
      updatedAt: '2026-01-15T10:00:00.000Z',
      messageCount: 0,
    })
    s.getState().selectNode(a1)
    expect(s.getState().deleteNode(a).sort()).toEqual([a, a1, a11].sort())
    expect(s.getState().tree.map((n) => n.id)).toEqual([b])
    expect(s.getState().conversations[0]?.nodeId).toBeNull()
    expect(s.getState().selectedNodeId).toBeNull()
  })

  it('rejects unknown ids and invalid values with typed errors, leaving the state unchanged', () => {
    const s = store()
    const state = s.getState()
    expect(() => s.getState().addNode('missing', 'X')).toThrowError(
      expect.objectContaining({ code: 'not-found' }),
    )
    expect(() => s.getState().addNode(null, 'x'.repeat(1001))).toThrowError(
      expect.objectContaining({ code: 'invalid-data' }),
    )
    expect(() => s.getState().updateMetadata({ name: '' })).toThrowError(
      expect.objectContaining({ code: 'invalid-data' }),
    )
    expect(s.getState()).toBe(state)
  })

  it('updates metadata and project settings', () => {
    const s = store()
    s.getState().updateMetadata({ name: 'Saveflow' })
    s.getState().updateProjectSettings({ systemPrompt: 'Be brief.' })
    expect(s.getState().metadata.name).toBe('Saveflow')
    expect(s.getState().settings.systemPrompt).toBe('Be brief.')
    expect(s.getState().version).toBe(2)
  })

  it('leaves the selection out of the persisted data', () => {
    const s = store()
    const a = s.getState().addNode(null, 'A')
    s.getState().selectNode(a)
    const data = projectDataOf(s.getState())
    expect(Object.keys(data).sort()).toEqual(
      ['conversations', 'lastSaved', 'metadata', 'settings', 'tree', 'version'].sort(),
    )
  })
})

describe('mergeProjectEdits', () => {
  it('counts edits made before the load on top of the loaded edit counter', () => {
    const env = testEnvironment()
    const base = emptyProject(env)
    const loaded = { ...emptyProject(env), version: 40 }
    const edited = { ...base, version: 2 }
    expect(mergeProjectEdits(base, edited, loaded).version).toBe(42)
  })
})
