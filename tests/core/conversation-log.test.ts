import { describe, expect, it } from 'vitest'
import {
  applyConversationPatches,
  conversationPatchSchema,
  diffConversation,
  encodeCompactLog,
  encodeLogBatch,
  LOG_FORMAT,
  readConversationLog,
} from '../../src/core/conversation-log'
import { encodeRecords } from '../../src/core/record-codec'
import type { Conversation, Message } from '../../src/core/schemas'
import { concat } from './support/bytes'
import { sampleConversation } from './support/documents'

/** The conversation log format: diff, compacted form, replay. */

const AT = '2026-01-15T10:00:00.000Z'
const message = (id: string, content = `text of ${id}`): Message => ({
  id,
  role: 'user',
  content,
  createdAt: AT,
})
const compact = (data: Conversation, revision = 1) =>
  encodeCompactLog({ data, schemaVersion: 1, revision, savedAt: AT })

describe('diffConversation', () => {
  const base = sampleConversation()

  it('turns a new message into one add, and leaves shared messages alone', () => {
    const next = { ...base, messages: [...base.messages, message('m3')] }
    expect(diffConversation(base, next)).toEqual([{ op: 'add', message: message('m3') }])
  })

  it('turns edits, deletions and field changes into their records', () => {
    const next: Conversation = {
      ...base,
      title: 'Renamed',
      messages: [{ ...base.messages[1]!, content: 'changed' }],
    }
    const patches = diffConversation(base, next)!
    expect(patches).toEqual([
      { op: 'fields', fields: { id: 'c1', title: 'Renamed', nodeId: 'n0', createdAt: AT, updatedAt: AT } },
      { op: 'delete', id: 'm1' },
      { op: 'edit', message: { ...base.messages[1]!, content: 'changed' } },
    ])
    for (const patch of patches) expect(conversationPatchSchema.safeParse(patch).success).toBe(true)
    expect(applyConversationPatches(base, patches)).toEqual(next)
  })

  it('says null (rewrite the log) for a message inserted in the middle or a repeated id', () => {
    expect(diffConversation(base, { ...base, messages: [message('m0'), ...base.messages] })).toBeNull()
    expect(diffConversation(base, { ...base, messages: [...base.messages, message('m1')] })).toBeNull()
  })
})

describe('conversation log', () => {
  it('compacts to a header and one add per message, and reads it back', () => {
    const data = sampleConversation()
    const bytes = compact(data, 4)
    const lines = new TextDecoder().decode(bytes).trimEnd().split('\n')
    expect(lines.map((line) => JSON.parse(line).rec.op)).toEqual(['header', 'add', 'add'])
    expect(JSON.parse(lines[0]!).rec).toMatchObject({
      format: LOG_FORMAT,
      kind: 'conversation',
      schemaVersion: 1,
    })
    const read = readConversationLog(bytes)
    expect(read).toMatchObject({ data, revision: 4, savedAt: AT, records: 3, live: 3, end: bytes.length })
    expect(read.damage).toBeNull()
  })

  it('replays appended saves: adds, edits, deletions, fields, empty saves', () => {
    const data = sampleConversation()
    const renamed = { ...data, title: 'New title' }
    const file = concat(
      compact(data),
      encodeLogBatch([{ op: 'add', message: message('m3') }], 2, AT),
      encodeLogBatch(
        [
          { op: 'edit', message: message('m1', 'edited') },
          { op: 'delete', id: 'm2' },
        ],
        3,
        AT,
      ),
      encodeLogBatch([{ op: 'fields', fields: { ...renamed, messages: undefined } as never }], 4, AT),
      encodeLogBatch([], 5, AT),
    )
    const read = readConversationLog(file)
    expect(read.data).toEqual({ ...renamed, messages: [message('m1', 'edited'), message('m3')] })
    expect(read).toMatchObject({ revision: 5, records: 8, live: 3, damage: null, tornBytes: 0 })
  })

  it('stores messages with repeated ids at once, since adds could not say which is which', () => {
    const data = { ...sampleConversation(), messages: [message('m1'), message('m1', 'again')] }
    const read = readConversationLog(compact(data))
    expect(read.data).toEqual(data)
    expect(read.records).toBe(2)
  })

  it('reports a record that cannot apply as damage and keeps the saves before it', () => {
    const data = sampleConversation()
    const first = compact(data)
    const file = concat(
      first,
      encodeLogBatch([{ op: 'edit', message: message('nope') }], 2, AT),
      encodeLogBatch([{ op: 'add', message: message('m9') }], 3, AT),
    )
    const read = readConversationLog(file)
    expect(read.data).toEqual(data)
    expect(read.revision).toBe(1)
    expect(read.damage).toEqual({ reason: 'bad-patch', offset: first.length, line: 4, recordsAfter: 1 })
  })

  it('fails without a readable header: empty, not a header, a newer format', () => {
    expect(readConversationLog(new Uint8Array(0)).error).toMatchObject({
      code: 'corrupt',
      details: { reason: 'empty' },
    })
    const headless = encodeLogBatch([{ op: 'add', message: message('m1') }], 1, AT)
    expect(readConversationLog(headless)).toMatchObject({ data: null, error: { code: 'corrupt' } })
    const future = encodeRecords([
      {
        op: 'header',
        format: LOG_FORMAT + 1,
        kind: 'conversation',
        schemaVersion: 1,
        fields: {},
        rev: 1,
        at: AT,
      },
    ])
    expect(readConversationLog(future).error).toMatchObject({ code: 'future-version' })
  })
})
