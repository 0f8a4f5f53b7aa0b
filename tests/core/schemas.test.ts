import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import Ajv2020 from 'ajv/dist/2020'
import addFormats from 'ajv-formats'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { documentJsonSchemas } from '../../src/core/json-schemas'
import { readBatches } from '../../src/core/record-codec'
import { createRepository } from '../../src/core/repository'
import {
  conversationSchema,
  projectDataSchema,
  userSettingsSchema,
  userSettingsV1Schema,
} from '../../src/core/schemas'
import { createMemoryStorage } from '../../src/testing'
import { conversationAt, projectAt } from './support/crash-docs'
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
      'conversation-log-record.schema.json',
      'conversation.schema.json',
      'project-journal-record.schema.json',
      'project.schema.json',
      'settings.schema.json',
    ])
    expect(readdirSync(join(__dirname, '../../schemas')).sort()).toEqual(Object.keys(generated).sort())
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

/** The committed schema files, compiled by an independent validator (Ajv, strict mode: no unknown keywords). */
function validators() {
  const ajv = new Ajv2020({ strict: true, allErrors: true })
  addFormats(ajv)
  const load = (name: string) =>
    ajv.compile(JSON.parse(readFileSync(join(__dirname, '../../schemas', name), 'utf8')))
  return {
    kind: (kind: string) => load(`${kind}.schema.json`),
    log: load('conversation-log-record.schema.json'),
    journal: load('project-journal-record.schema.json'),
  }
}

const FIXTURES = join(__dirname, '../fixtures/v1')

function filesIn(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)).split('\\').join('/'))
}

const linesOf = (text: string) =>
  text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>)

describe('JSON Schema files against real files', () => {
  const { kind, log, journal } = validators()

  it('accept every snapshot file of the v1 fixtures, backups included, as its kind', () => {
    let checked = 0
    for (const folder of ['workspace', 'journaled']) {
      for (const file of filesIn(join(FIXTURES, folder)).filter((path) => path.endsWith('.json'))) {
        const envelope = JSON.parse(readFileSync(join(FIXTURES, folder, file), 'utf8'))
        const validate = kind(envelope.kind)
        expect(validate(envelope), `${folder}/${file} ${JSON.stringify(validate.errors)}`).toBe(true)
        expect(kind(envelope.kind === 'cache' ? 'project' : 'cache')(envelope), file).toBe(false)
        checked++
      }
    }
    expect(checked).toBe(10)
  })

  it('accept every line of the v1 journal and logs, and each line only as its own format', () => {
    const files: [string, typeof log, typeof log][] = [
      ['project.journal.jsonl', journal, log],
      ['conversations/c2.jsonl', log, journal],
      ['conversations/c3.jsonl', log, journal],
    ]
    for (const [file, own, other] of files) {
      const lines = linesOf(readFileSync(join(FIXTURES, 'journaled', file), 'utf8'))
      expect(lines.length).toBeGreaterThan(1)
      for (const line of lines) {
        expect(own(line), `${file} ${JSON.stringify(line)} ${JSON.stringify(own.errors)}`).toBe(true)
        // Only a commit record (`{"op":"commit","rev":…,"at":…}`) is the same in both formats.
        expect(other(line), `${file} ${JSON.stringify(line)}`).toBe(
          (line.rec as { op: string }).op === 'commit',
        )
      }
    }
  })

  it('accept every line the current code writes for a history of edits, additions and removals', async () => {
    const storage = createMemoryStorage()
    const repo = createRepository({ storage, config: { backupEnabled: false } })
    const seen = { journal: new Set<unknown>(), log: new Set<unknown>() }
    for (let revision = 0; revision <= 9; revision++) {
      await repo.save('project', projectAt(revision), revision)
      await repo.save('conversation/c1', conversationAt(revision), revision)
    }
    for (const [file, validate, ops] of [
      ['project.journal.jsonl', journal, seen.journal],
      ['conversations/c1.jsonl', log, seen.log],
    ] as const) {
      const text = storage.readText(file)!
      for (const line of linesOf(text)) {
        expect(validate(line), `${file} ${JSON.stringify(line)} ${JSON.stringify(validate.errors)}`).toBe(
          true,
        )
        ops.add((line.rec as { op: string }).op)
      }
    }
    expect([...seen.journal].sort()).toEqual(['journal', 'node', 'remove', 'set'])
    expect([...seen.log].sort()).toEqual(['add', 'delete', 'edit', 'fields', 'header'])
  })

  it('reject what saveflow never writes: unknown ops, missing parts, rev without at, a newer format', () => {
    const add = {
      op: 'add',
      message: { id: 'm1', role: 'user', content: 'Hi', createdAt: '2026-01-15T10:00:00.000Z' },
    }
    const line = (rec: unknown) => ({ len: 10, crc: '0123abcd', rec })
    expect(log(line(add))).toBe(true)
    expect(log(line({ ...add, rev: 3, at: '2026-01-15T10:00:00.000Z' }))).toBe(true)
    expect(log(line({ ...add, rev: 3 }))).toBe(false)
    expect(log(line({ ...add, at: '2026-01-15T10:00:00.000Z' }))).toBe(false)
    expect(log(line({ ...add, extra: 1 }))).toBe(false)
    expect(log(line({ op: 'move', id: 'm1' }))).toBe(false)
    expect(log(line({ op: 'commit' }))).toBe(false)
    expect(log({ len: 10, rec: add })).toBe(false)
    expect(log({ len: 10, crc: 'XYZ', rec: add })).toBe(false)
    expect(log({ ...line(add), more: true })).toBe(false)
    const header = (format: number) => ({
      op: 'journal',
      format,
      kind: 'project',
      base: 1,
      snapshot: 'crc32:0123abcd',
      rev: 1,
      at: '2026-01-15T10:00:00.000Z',
    })
    expect(journal(line(header(1)))).toBe(true)
    expect(journal(line(header(2)))).toBe(false)
    expect(journal(line({ op: 'set', field: 'tree' }))).toBe(false)
    expect(journal(line({ op: 'set', field: 'owner', value: 1 }))).toBe(false)
  })

  it('cannot check len and crc, and say so: saveflow reads such a line as damage', () => {
    const [first] = readFileSync(join(FIXTURES, 'journaled/conversations/c2.jsonl'), 'utf8').split('\n')
    const wrong = first!.replace(/"crc":"[0-9a-f]{8}"/, '"crc":"00000000"').replace(/"len":\d+/, '"len":7')
    expect(log(JSON.parse(wrong))).toBe(true)
    expect(readBatches(new TextEncoder().encode(`${wrong}\n`)).batches).toEqual([])
    const schemas = documentJsonSchemas() as Record<string, { description: string }>
    for (const name of ['conversation-log-record.schema.json', 'project-journal-record.schema.json']) {
      expect(schemas[name]!.description).toMatch(/cannot check len and crc/)
    }
  })

  it('say which files each snapshot schema is for, and where the journaled data lives', () => {
    const schemas = documentJsonSchemas() as Record<string, { description: string }>
    expect(schemas['conversation.schema.json']!.description).not.toMatch(/^The file conversations/)
    expect(schemas['conversation.schema.json']!.description).toMatch(/conversation-log-record\.schema\.json/)
    expect(schemas['project.schema.json']!.description).toMatch(/project-journal-record\.schema\.json/)
    for (const kind of ['project', 'conversation', 'settings', 'cache']) {
      expect(schemas[`${kind}.schema.json`]!.description).toMatch(
        /the checksum is not checked by this schema/,
      )
    }
  })
})
