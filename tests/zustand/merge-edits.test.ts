import { describe, expect, it } from 'vitest'
import { mergeEarlyEdits } from '../../src/zustand/merge-edits'

const node = (id: string, title = id) => ({ id, title })

describe('mergeEarlyEdits', () => {
  it('returns the loaded value when the app changed nothing', () => {
    const base = { a: 1, list: [] as { id: string; title: string }[] }
    const loaded = { a: 2, list: [node('x')] }
    expect(mergeEarlyEdits(base, base, loaded)).toBe(loaded)
  })

  it('keeps the edits when the disk holds what the app started from', () => {
    const base = { a: 1 }
    const edited = { a: 2 }
    expect(mergeEarlyEdits(base, edited, base)).toBe(edited)
  })

  it('takes untouched keys from disk and edited keys from the app', () => {
    const base = { theme: 'system', language: 'en', nested: { x: 1, y: 1 } }
    const edited = { ...base, theme: 'dark', nested: { x: 1, y: 5 } }
    const loaded = { theme: 'light', language: 'fr', nested: { x: 9, y: 9 } }
    expect(mergeEarlyEdits(base, edited, loaded)).toEqual({
      theme: 'dark',
      language: 'fr',
      nested: { x: 9, y: 5 },
    })
  })

  it('appends records added before the load to the loaded keyed list', () => {
    const added = node('new')
    const loaded = { tree: [node('a'), node('b')] }
    const merged = mergeEarlyEdits({ tree: [] }, { tree: [added] }, loaded)
    expect(merged.tree.map((n) => n.id)).toEqual(['a', 'b', 'new'])
    // Unchanged loaded records stay the same objects, so a diff by reference still sees them as unchanged.
    expect(merged.tree[0]).toBe(loaded.tree[0])
    expect(merged.tree[2]).toBe(added)
  })

  it('merges a changed record field by field and drops records the app deleted', () => {
    const a = { id: 'a', title: 'A', description: 'old' }
    const b = { id: 'b', title: 'B', description: '' }
    const base = [a, b]
    const edited = [{ ...a, title: 'A renamed' }]
    const loaded = [{ ...a, description: 'from disk' }, b, { id: 'c', title: 'C', description: '' }]
    expect(mergeEarlyEdits(base, edited, loaded)).toEqual([
      { id: 'a', title: 'A renamed', description: 'from disk' },
      { id: 'c', title: 'C', description: '' },
    ])
  })

  it('lets a replaced scalar or unkeyed list win', () => {
    const base = { n: 1, tags: ['x'] }
    const edited = { n: 2, tags: ['y'] }
    expect(mergeEarlyEdits(base, edited, { n: 7, tags: ['z'] })).toEqual({ n: 2, tags: ['y'] })
  })

  it('keeps a key the app deleted deleted', () => {
    const base = { a: 1, b: 2 } as Record<string, number>
    const edited = { a: 1 } as Record<string, number>
    expect(mergeEarlyEdits(base, edited, { a: 3, b: 4 })).toEqual({ a: 3 })
  })
})
