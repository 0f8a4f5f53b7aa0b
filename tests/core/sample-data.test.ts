import { describe, expect, it } from 'vitest'
import { createSampleRandom, createSampleWorkspace, SAMPLE_SIZES } from '../../src/core/sample-data'
import { conversationSchema, projectDataSchema, userSettingsSchema } from '../../src/core/schemas'

const bytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value))

describe('createSampleWorkspace', () => {
  it('gives deep-equal data for equal seeds and different data for different seeds', () => {
    expect(createSampleWorkspace('small', { seed: 3 })).toEqual(createSampleWorkspace('small', { seed: 3 }))
    expect(createSampleWorkspace('small', { seed: 3 }).project.tree).not.toEqual(
      createSampleWorkspace('small', { seed: 4 }).project.tree,
    )
  })

  it('builds the small sample: 50 nodes, 2 conversations of 20 messages, about 30 KB, valid for the schemas', () => {
    const sample = createSampleWorkspace('small')

    expect(sample.project.tree).toHaveLength(50)
    expect(sample.conversations.map((c) => c.messages.length)).toEqual([20, 20])
    expect(sample.project.conversations.map((ref) => ref.id)).toEqual(sample.conversations.map((c) => c.id))
    const total =
      bytes(sample.project) + bytes(sample.settings) + sample.conversations.reduce((s, c) => s + bytes(c), 0)
    expect(total).toBeGreaterThan(25_000)
    expect(total).toBeLessThan(35_000)
    expect(projectDataSchema.safeParse(sample.project).success).toBe(true)
    expect(userSettingsSchema.safeParse(sample.settings).success).toBe(true)
    for (const conversation of sample.conversations)
      expect(conversationSchema.safeParse(conversation).success).toBe(true)
  })

  it('builds a forest at most 8 deep, with orders unique among siblings', () => {
    const { tree } = createSampleWorkspace({ nodes: 3000, seed: 9 }).project
    const byId = new Map(tree.map((node) => [node.id, node]))
    const depth = (id: string | null): number => (id === null ? 0 : 1 + depth(byId.get(id)!.parentId))
    const siblings = new Set<string>()

    for (const node of tree) {
      expect(depth(node.id)).toBeLessThanOrEqual(8)
      const slot = `${node.parentId}/${node.order}`
      expect(siblings.has(slot)).toBe(false)
      siblings.add(slot)
    }
    expect(tree.filter((node) => node.parentId === null).length).toBeGreaterThan(1)
  })

  it('keeps the tree unchanged when only the conversations grow', () => {
    const few = createSampleWorkspace({ nodes: 100, conversations: 1, messagesPerConversation: 5 })
    const more = createSampleWorkspace({ nodes: 100, conversations: 3, messagesPerConversation: 50 })

    expect(more.project.tree).toEqual(few.project.tree)
  })

  it('names the large preset 20,000 nodes and 200 conversations of 200 messages', () => {
    expect(SAMPLE_SIZES.large).toEqual({ nodes: 20_000, conversations: 200, messagesPerConversation: 200 })
  })

  it('refuses a negative or fractional size', () => {
    expect(() => createSampleWorkspace({ nodes: -1 })).toThrow(RangeError)
    expect(() => createSampleWorkspace({ conversations: 1.5 })).toThrow(RangeError)
  })
})

describe('createSampleRandom', () => {
  it('repeats its sequence for a seed and stays in range', () => {
    const a = createSampleRandom(42)
    const b = createSampleRandom(42)
    const draws = Array.from({ length: 1000 }, () => a.int(3, 7))

    expect(draws).toEqual(Array.from({ length: 1000 }, () => b.int(3, 7)))
    expect(Math.min(...draws)).toBe(3)
    expect(Math.max(...draws)).toBe(7)
  })
})
