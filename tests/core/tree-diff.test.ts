import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { applyProjectPatches } from '../../src/core/project-journal'
import { type ProjectData, projectDataSchema, type TreeNode } from '../../src/core/schemas'
import { diffKeyed, diffProject, jsonEqual, KeyedList, projectPatchSchema } from '../../src/core/tree-diff'
import { sampleProject } from './support/documents'

/** Keyed diffs by reference, and their replay. */

interface Item {
  id: string
  v: number
}

/** Replays a keyed diff the way the journal does: replace in place, remove, append, then reorder. */
function replay(prev: readonly Item[], diff: NonNullable<ReturnType<typeof diffKeyed<Item>>>): unknown {
  const list = new KeyedList(prev)
  for (const id of diff.removed) list.remove(id)
  for (const item of [...diff.changed, ...diff.added]) list.put(item)
  if (diff.order !== null) list.reorder(diff.order)
  return list.value()
}

/** An object that throws when anything but its id is read: proof that a diff compared it by reference only. */
function untouchable(item: Item): Item {
  return new Proxy(item, {
    get(target, key) {
      if (key === 'id') return target.id
      throw new Error(`read ${String(key)} of an unchanged item`)
    },
    ownKeys() {
      throw new Error('listed the keys of an unchanged item')
    },
  })
}

const items = (n: number, offset = 0): Item[] =>
  Array.from({ length: n }, (_, i) => ({ id: `i${i + offset}`, v: i }))

describe('diffKeyed', () => {
  it('finds one changed item among shared ones without reading the shared ones', () => {
    // Only the changed item's old version may be read: it is compared by content with its new one.
    const prev = items(1000).map((item, i) => (i === 500 ? item : untouchable(item)))
    const next = prev.with(500, { id: 'i500', v: -1 })
    const diff = diffKeyed(prev, next)
    expect(diff).toEqual({ changed: [{ id: 'i500', v: -1 }], added: [], removed: [], order: null })
  })

  it('compares by content when references differ but content is equal', () => {
    const prev = items(5)
    const next = prev.map((item) => ({ ...item }))
    expect(diffKeyed(prev, next)).toEqual({ changed: [], added: [], removed: [], order: null })
  })

  it('appends new items, removes gone ones, and needs no order when replay reproduces it', () => {
    const prev = items(5)
    const next = [prev[0]!, prev[2]!, prev[3]!, { id: 'i4', v: 9 }, { id: 'new', v: 0 }]
    const diff = diffKeyed(prev, next)!
    expect(diff).toEqual({
      changed: [{ id: 'i4', v: 9 }],
      added: [{ id: 'new', v: 0 }],
      removed: ['i1'],
      order: null,
    })
    expect(replay(prev, diff)).toEqual(next)
  })

  it('gives the full order when an item is inserted in the middle or the list is sorted anew', () => {
    const prev = items(4)
    const inserted = [prev[0]!, { id: 'x', v: 0 }, ...prev.slice(1)]
    expect(diffKeyed(prev, inserted)!.order).toEqual(['i0', 'x', 'i1', 'i2', 'i3'])
    const reversed = [...prev].reverse()
    expect(diffKeyed(prev, reversed)!.order).toEqual(['i3', 'i2', 'i1', 'i0'])
    expect(replay(prev, diffKeyed(prev, reversed)!)).toEqual(reversed)
  })

  it('gives up (null) on repeated ids, which a keyed diff cannot describe', () => {
    const prev = items(3)
    expect(diffKeyed(prev, [...prev, { id: 'i0', v: 5 }])).toBeNull()
    expect(diffKeyed([...prev, prev[0]!], prev)).toBeNull()
  })

  it('turns any list into any other list by replay (property)', () => {
    const list = fc
      .uniqueArray(
        fc.record({ id: fc.constantFrom(...'abcdefghij'.split('')), v: fc.integer({ min: 0, max: 3 }) }),
        {
          selector: (item) => item.id,
          maxLength: 10,
        },
      )
      .map((array) => array as Item[])
    fc.assert(
      fc.property(list, list, (prev, next) => {
        // Share references where ids and content agree, as an immutable update would.
        const byId = new Map(prev.map((item) => [item.id, item]))
        const shared = next.map((item) => {
          const old = byId.get(item.id)
          return old !== undefined && jsonEqual(old, item) ? old : item
        })
        const diff = diffKeyed(prev, shared)
        expect(diff).not.toBeNull()
        expect(replay(prev, diff!)).toEqual(shared)
      }),
      { numRuns: 500 },
    )
  })
})

describe('diffProject', () => {
  const base = (): ProjectData => sampleProject(50)
  const edit = (project: ProjectData, index: number, title: string): ProjectData => ({
    ...project,
    tree: project.tree.with(index, { ...project.tree[index]!, title }),
  })

  it('is empty when nothing changed', () => {
    const project = base()
    expect(diffProject(project, project)).toEqual([])
    expect(diffProject(project, structuredClone(project))).toEqual([])
  })

  it('writes one node patch for one edited node', () => {
    const project = base()
    expect(diffProject(project, edit(project, 7, 'renamed'))).toEqual([
      { op: 'node', node: { ...project.tree[7]!, title: 'renamed' } },
    ])
  })

  it('keys every kind of change: nodes, removals, refs, metadata, settings, scalars', () => {
    const project = base()
    const node: TreeNode = { ...project.tree[1]!, id: 'added', parentId: 'n0' }
    const next: ProjectData = {
      ...project,
      metadata: { ...project.metadata, name: 'Renamed' },
      settings: { ...project.settings, systemPrompt: 'Be thorough.' },
      version: 2,
      tree: [...project.tree.filter((n) => n.id !== 'n49'), node],
      conversations: [{ ...project.conversations[0]!, messageCount: 3 }],
    }
    const patches = diffProject(project, next)
    expect(patches).toEqual([
      { op: 'set', field: 'metadata', value: next.metadata },
      { op: 'set', field: 'settings', value: next.settings },
      { op: 'set', field: 'version', value: 2 },
      { op: 'remove', id: 'n49' },
      { op: 'node', node },
      { op: 'ref', ref: next.conversations[0] },
    ])
    for (const patch of patches) expect(projectPatchSchema.safeParse(patch).success).toBe(true)
    expect(applyProjectPatches(project, patches)).toEqual(next)
  })

  it('replays to the new project for random edits (property)', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('edit' as const), at: fc.nat(), title: fc.string({ maxLength: 8 }) }),
      fc.record({ kind: fc.constant('add' as const), at: fc.nat(), middle: fc.boolean() }),
      fc.record({ kind: fc.constant('removeLeaf' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('rename' as const), name: fc.string({ minLength: 1, maxLength: 8 }) }),
    )
    fc.assert(
      fc.property(fc.array(op, { maxLength: 12 }), (ops) => {
        let project = sampleProject(12)
        const start = project
        let added = 0
        for (const step of ops) {
          const { tree } = project
          if (step.kind === 'edit') project = edit(project, step.at % tree.length, step.title)
          else if (step.kind === 'rename')
            project = { ...project, metadata: { ...project.metadata, name: step.name } }
          else if (step.kind === 'add') {
            const parent = tree[step.at % tree.length]!
            const node = { ...parent, id: `a${added++}`, parentId: parent.id }
            const at = step.middle ? Math.floor(tree.length / 2) : tree.length
            project = { ...project, tree: tree.toSpliced(at, 0, node) }
          } else {
            const parents = new Set(tree.map((n) => n.parentId))
            const leaves = tree.filter((n) => !parents.has(n.id) && n.parentId !== null)
            if (leaves.length === 0) continue
            const gone = leaves[step.at % leaves.length]!.id
            project = { ...project, tree: tree.filter((n) => n.id !== gone) }
          }
        }
        const patches = diffProject(start, project)
        const replayed = applyProjectPatches(start, patches)
        expect(replayed).toEqual(project)
        expect(projectDataSchema.safeParse(replayed).success).toBe(true)
      }),
      { numRuns: 300 },
    )
  })
})
