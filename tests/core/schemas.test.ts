import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { documentJsonSchemas } from '../../src/core/json-schemas'
import {
  conversationSchema,
  projectDataSchema,
  userSettingsSchema,
  userSettingsV1Schema,
} from '../../src/core/schemas'
import { sampleConversation, sampleProject } from './support/documents'

const issuesOf = (result: { success: boolean; error?: { issues: { message: string }[] } }) =>
  result.success ? [] : (result.error?.issues.map((issue) => issue.message) ?? [])

describe('schemas', () => {
  it('accepts the sample documents', () => {
    expect(projectDataSchema.safeParse(sampleProject(50)).success).toBe(true)
    expect(conversationSchema.safeParse(sampleConversation()).success).toBe(true)
  })

  it('checks that the tree is a forest: unique ids, present parents, no cycles', () => {
    const dup = sampleProject(3)
    dup.tree[2]!.id = 'n1'
    expect(issuesOf(projectDataSchema.safeParse(dup))).toEqual(['Duplicate node id "n1".'])

    const orphan = sampleProject(3)
    orphan.tree[1]!.parentId = 'ghost'
    expect(issuesOf(projectDataSchema.safeParse(orphan))).toEqual([
      'Node "n1" names a missing parent "ghost".',
    ])

    const cycle = sampleProject(3)
    cycle.tree[0]!.parentId = 'n2'
    cycle.tree[2]!.parentId = 'n0'
    expect(issuesOf(projectDataSchema.safeParse(cycle)).length).toBeGreaterThan(0)
    expect(issuesOf(projectDataSchema.safeParse(cycle))[0]).toMatch(/form a cycle/)
  })

  it('accepts a tree exactly when every parent chain ends at a root', () => {
    fc.assert(
      fc.property(fc.array(fc.option(fc.nat(12), { nil: null }), { maxLength: 12 }), (parents) => {
        const project = sampleProject(parents.length)
        project.tree.forEach((node, i) => {
          const p = parents[i]!
          node.parentId = p === null ? null : `n${p}`
        })
        // Naive reference: follow each chain for at most n steps.
        const valid = parents.every((_, i) => {
          let at: number | null = i
          for (let steps = 0; steps <= parents.length; steps++) {
            if (at === null) return true
            if (at >= parents.length) return false
            at = parents[at]!
          }
          return false
        })
        expect(projectDataSchema.safeParse(project).success).toBe(valid)
      }),
    )
  })

  it('rejects wrong types, bad ids and bad dates', () => {
    const bad = sampleProject(2) as unknown as Record<string, unknown>
    expect(projectDataSchema.safeParse({ ...bad, version: -1 }).success).toBe(false)
    expect(projectDataSchema.safeParse({ ...bad, lastSaved: 'tomorrow' }).success).toBe(false)
    const conversation = sampleConversation()
    expect(conversationSchema.safeParse({ ...conversation, id: '../x' }).success).toBe(false)
    expect(
      conversationSchema.safeParse({
        ...conversation,
        messages: [{ ...conversation.messages[0], role: 'robot' }],
      }).success,
    ).toBe(false)
  })

  it('fills every settings default, the seed persistence config included', () => {
    const settings = userSettingsSchema.parse({})
    expect(settings).toMatchObject({
      theme: 'system',
      language: 'en',
      editor: { fontSize: 14, wordWrap: true },
      persistence: { autoSave: true, saveDebounce: 300, backupEnabled: true, backupCount: 10 },
    })
    expect(userSettingsV1Schema.parse({})).not.toHaveProperty('editor')
  })
})

describe('JSON Schema files', () => {
  it('are up to date with the zod schemas (regenerate: npx tsx scripts/generate-schemas.ts)', () => {
    const generated = documentJsonSchemas()
    expect(Object.keys(generated).sort()).toEqual([
      'cache.schema.json',
      'conversation.schema.json',
      'project.schema.json',
      'settings.schema.json',
    ])
    for (const [name, schema] of Object.entries(generated)) {
      const committed = JSON.parse(readFileSync(join(__dirname, '../../schemas', name), 'utf8'))
      expect(committed, name).toEqual(JSON.parse(JSON.stringify(schema)))
    }
  })

  it('describe the envelope and the data of each kind', () => {
    const project = documentJsonSchemas()['project.schema.json'] as {
      required: string[]
      properties: { kind: { const: string }; data: { required: string[] } }
    }
    expect(project.required).toEqual(
      expect.arrayContaining(['format', 'kind', 'schemaVersion', 'revision', 'savedAt', 'checksum', 'data']),
    )
    expect(project.properties.kind.const).toBe('project')
    expect(project.properties.data.required).toEqual(
      expect.arrayContaining(['metadata', 'tree', 'conversations', 'settings', 'version', 'lastSaved']),
    )
  })
})
