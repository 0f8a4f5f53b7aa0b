import { describe, expect, it } from 'vitest'
import { SaveflowError } from '../../src/core/errors'
import {
  assertStoragePath,
  backupDir,
  cacheKey,
  conversationKey,
  documentPath,
  isTempFileName,
  parseDocumentKey,
  tempPathFor,
} from '../../src/core/paths'

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn()
    return undefined
  } catch (error) {
    return error instanceof SaveflowError ? error.code : 'not a SaveflowError'
  }
}

describe('document keys and paths', () => {
  it('maps each kind to its file as DESIGN.md "On disk" says', () => {
    expect(documentPath('project')).toBe('project.json')
    expect(documentPath('settings')).toBe('settings.json')
    expect(documentPath('conversation/c-1_A')).toBe('conversations/c-1_A.jsonl')
    expect(documentPath('cache/models')).toBe('cache/models.json')
    expect(backupDir('conversation/c1')).toBe('.saveflow/backups/conversation/c1')
    expect(backupDir('project')).toBe('.saveflow/backups/project')
  })

  it.each([['..'], ['../x'], ['a/b'], ['nul\0byte'], ['x'.repeat(200)], [''], ['space id'], ['dot.id']])(
    'rejects the id %j with invalid-id before any path is built',
    (id) => {
      expect(codeOf(() => documentPath(`conversation/${id}`))).toBe('invalid-id')
      expect(codeOf(() => documentPath(`cache/${id}`))).toBe('invalid-id')
      expect(codeOf(() => conversationKey(id))).toBe('invalid-id')
      expect(codeOf(() => cacheKey(id))).toBe('invalid-id')
    },
  )

  it('accepts ids of 1 and 128 characters and rejects unknown kinds', () => {
    expect(parseDocumentKey(`conversation/${'a'.repeat(128)}`)).toEqual({
      kind: 'conversation',
      id: 'a'.repeat(128),
    })
    expect(parseDocumentKey('cache/x')).toEqual({ kind: 'cache', id: 'x' })
    expect(codeOf(() => parseDocumentKey(`conversation/${'a'.repeat(129)}`))).toBe('invalid-id')
    for (const key of ['projects', 'project/x', 'settings/', 'journal/x', '/project', 'conversation']) {
      expect(codeOf(() => parseDocumentKey(key))).toBe('invalid-id')
    }
  })

  it('keeps the bad id out of the message when it is long', () => {
    try {
      documentPath(`conversation/${'z'.repeat(300)}`)
    } catch (error) {
      expect((error as Error).message.length).toBeLessThan(120)
    }
    expect.assertions(1)
  })

  it('accepts only safe workspace-relative paths', () => {
    for (const ok of ['project.json', '.saveflow/backups/project/x.json', 'a/b/c']) {
      expect(codeOf(() => assertStoragePath(ok))).toBeUndefined()
    }
    for (const bad of [
      '',
      '/etc/passwd',
      '../x',
      'a/../b',
      'a/./b',
      'a//b',
      'a/',
      'C:x',
      'a\\b',
      'a\0b',
      'x'.repeat(1025),
    ]) {
      expect(codeOf(() => assertStoragePath(bad))).toBe('invalid-id')
    }
  })

  it('recognises temp files by the write-file-atomic naming, and only those', () => {
    expect(isTempFileName('project.json.3172581023')).toBe(true)
    expect(isTempFileName('log.jsonl.12')).toBe(true)
    expect(isTempFileName(tempPathFor('cache/a.json', 2 ** 40 + 5))).toBe(true)
    for (const name of [
      'project.json',
      '20260115T103000123Z-r3.json',
      'lock',
      'notes.2024',
      'project.json.tmp',
    ]) {
      expect(isTempFileName(name)).toBe(false)
    }
  })
})
