import { z } from 'zod'
import { SaveflowError } from './errors'
import {
  applyBatches,
  type BatchRead,
  encodeBatch,
  type RecordDamage,
  type RecordValue,
  readBatches,
} from './record-codec'
import { type Conversation, idSchema, isoDateSchema, type Message, messageSchema } from './schemas'
import { diffKeyed, isKeyed, jsonEqual, KeyedList, patchError } from './tree-diff'

/**
 * A conversation on disk: `conversations/<id>.jsonl`, an append-only log in the record format of `record-codec.ts`
 * (one JSON line per record, each with its length and CRC-32). The records:
 *
 * ```
 * {"op":"header","format":1,"kind":"conversation","schemaVersion":1,"fields":{"id":"c1","title":...,"updatedAt":...}}
 * {"op":"add","message":{"id":"m1","role":"user","content":"Hello","createdAt":...}}   a new message, appended
 * {"op":"edit","message":{...}}                                                       a message replaced, in place
 * {"op":"delete","id":"m1"}                                                           a message removed
 * {"op":"fields","fields":{...}}                                      the conversation's own fields (title, times)
 * {"op":"messages","messages":[...]}                          every message at once (only when message ids repeat)
 * {"op":"commit"}                                                              a save that changed nothing
 * ```
 *
 * The last record of each save carries `rev` and `at`. A compacted log (the first write, a rewrite, a compaction) is
 * the header and one `add` per message, as one batch; edits, deletions and superseded `fields` records are the dead
 * records that compaction removes.
 */

/** The log format this code writes; a header with a higher one is `future-version`. */
export const LOG_FORMAT = 1

/** A conversation without its messages: what the header and `fields` records hold. */
export type ConversationFields = Omit<Conversation, 'messages'>

/** One change to a conversation: what `diffConversation` produces and a page may send over the rpc bridge. */
export type ConversationPatch =
  | { op: 'add'; message: Message }
  | { op: 'edit'; message: Message }
  | { op: 'delete'; id: string }
  | { op: 'fields'; fields: ConversationFields }

/** The patches a page may send (strict: never the `rev`/`at` that close a batch). */
export const conversationPatchSchema = z.discriminatedUnion('op', [
  z.strictObject({ op: z.literal('add'), message: messageSchema }),
  z.strictObject({ op: z.literal('edit'), message: messageSchema }),
  z.strictObject({ op: z.literal('delete'), id: idSchema }),
  z.strictObject({
    op: z.literal('fields'),
    fields: z.object({
      id: idSchema,
      title: z.string().max(1000),
      nodeId: idSchema.nullable(),
      createdAt: isoDateSchema,
      updatedAt: isoDateSchema,
    }),
  }),
])

function fieldsOf(conversation: Record<string, unknown>): Record<string, unknown> {
  const { messages: _messages, ...fields } = conversation
  return fields
}

/**
 * The patches that turn `prev` into `next`, or `null` when appends, in-place edits and deletions cannot say it
 * (messages reordered or inserted in the middle, ids repeated): the log is then rewritten. A chat only appends and
 * edits, so `null` is rare.
 */
export function diffConversation(prev: Conversation, next: Conversation): ConversationPatch[] | null {
  if (prev === next) return []
  const patches: ConversationPatch[] = []
  const before = prev as unknown as Record<string, unknown>
  const after = next as unknown as Record<string, unknown>
  const keys = new Set([...Object.keys(before), ...Object.keys(after)])
  keys.delete('messages')
  for (const key of keys) {
    if (!jsonEqual(before[key], after[key])) {
      patches.push({ op: 'fields', fields: fieldsOf(after) as ConversationFields })
      break
    }
  }
  const messages = diffKeyed(prev.messages, next.messages)
  if (messages === null || messages.order !== null) return null
  for (const id of messages.removed) patches.push({ op: 'delete', id })
  for (const message of messages.changed) patches.push({ op: 'edit', message })
  for (const message of messages.added) patches.push({ op: 'add', message })
  return patches
}

/** True for an array of items with unique string ids: what `add` records can hold. */
export function isKeyedList(value: unknown): value is { id: string }[] {
  if (!Array.isArray(value) || !value.every(isKeyed)) return false
  return new Set(value.map((item) => item.id)).size === value.length
}

/** What a compacted log holds. */
export interface CompactLogInput {
  /** The conversation (validated, unless validation is off: then whatever object was saved). */
  data: unknown
  schemaVersion: number
  revision: number
  savedAt: string
}

/** A compacted log: header and one `add` per message, as one batch (`messages` at once when ids repeat). */
export function encodeCompactLog(input: CompactLogInput): Uint8Array {
  const data = input.data as Record<string, unknown>
  const header = {
    op: 'header',
    format: LOG_FORMAT,
    kind: 'conversation',
    schemaVersion: input.schemaVersion,
    fields: fieldsOf(data),
  }
  const { messages } = data
  const body: RecordValue[] = isKeyedList(messages)
    ? messages.map((message) => ({ op: 'add', message }))
    : [{ op: 'messages', messages }]
  return encodeBatch([header, ...body], input.revision, input.savedAt)
}

/** The lines of one save's patches, ready for one append. */
export function encodeLogBatch(patches: readonly ConversationPatch[], revision: number, savedAt: string) {
  return encodeBatch(patches as unknown as RecordValue[], revision, savedAt)
}

/** Applies log records to a conversation being rebuilt; throws `invalid-data` (reason `bad-patch`) on a bad one. */
class ConversationReplay {
  private fields: Map<string, unknown> | null = null
  private readonly messages = new KeyedList([])
  schemaVersion = 0

  apply(record: RecordValue): void {
    if (this.fields === null) {
      if (record.op !== 'header') throw patchError('The log does not start with a header.')
      const { format, schemaVersion } = record
      if (typeof format === 'number' && format > LOG_FORMAT) {
        throw new SaveflowError('future-version', {
          message: `The log uses format ${format}; this version reads up to ${LOG_FORMAT}.`,
          details: { format, supportedFormat: LOG_FORMAT },
        })
      }
      if (record.kind !== 'conversation' || typeof schemaVersion !== 'number' || schemaVersion < 1) {
        throw new SaveflowError('corrupt', {
          message: 'The log header is invalid.',
          details: { reason: 'bad-header' },
        })
      }
      this.schemaVersion = schemaVersion
      this.setFields(record.fields)
      return
    }
    const { op } = record
    if (op === 'add' || op === 'edit') {
      const { message } = record
      if (!isKeyed(message) || this.messages.has(message.id) !== (op === 'edit'))
        throw patchError(`An ${op} record needs a message with ${op === 'add' ? 'a new' : 'a known'} id.`)
      this.messages.put(message)
    } else if (op === 'delete') this.messages.remove(String(record.id))
    else if (op === 'fields') this.setFields(record.fields)
    else if (op === 'messages') this.messages.replace(record.messages)
    else if (op !== 'commit') throw patchError(`Unknown conversation record "${String(op)}".`)
  }

  private setFields(fields: unknown): void {
    if (typeof fields !== 'object' || fields === null || Array.isArray(fields))
      throw patchError('Conversation fields must be an object.')
    // A map, so a field named `__proto__` in a file stays a plain field.
    this.fields = new Map(Object.entries(fields))
    this.fields.delete('messages')
  }

  get started(): boolean {
    return this.fields !== null
  }

  messageCount(): number {
    return this.messages.size
  }

  result(): Record<string, unknown> {
    return { ...Object.fromEntries(this.fields ?? []), messages: this.messages.value() }
  }
}

/** A log as read: the raw conversation it rebuilds (not yet validated) and what a writer needs to go on. */
export interface ConversationLogRead {
  /** The rebuilt conversation, or `null` when not even the header batch is readable (`error` says why). */
  data: Record<string, unknown> | null
  error: SaveflowError | null
  schemaVersion: number
  revision: number
  savedAt: string
  /** Committed records, and of those the live ones (the header and one per message): the rest is dead. */
  records: number
  live: number
  /** Where the next append goes, and the bytes of a torn tail after it. */
  end: number
  tornBytes: number
  /** Damage in the middle: the data is the prefix of whole saves before it. */
  damage: RecordDamage | null
}

/** Reads a conversation log. Never throws: a log without a readable first batch reads with `data: null`. */
export function readConversationLog(bytes: Uint8Array): ConversationLogRead {
  const read: BatchRead = readBatches(bytes)
  const { replay, applied, failed } = applyBatches(() => new ConversationReplay(), read.batches)
  const last = read.batches[applied - 1]
  const base = { schemaVersion: replay.schemaVersion, tornBytes: read.tornBytes }
  if (!replay.started || last === undefined) {
    const error =
      failed?.error.code === 'future-version'
        ? failed.error
        : new SaveflowError('corrupt', {
            message: 'The conversation log has no readable header.',
            details: { reason: bytes.length === 0 ? 'empty' : 'bad-header', size: bytes.length },
          })
    return { ...base, data: null, error, revision: 0, savedAt: '', records: 0, live: 0, end: 0, damage: null }
  }
  let records = 0
  for (const batch of read.batches.slice(0, applied)) records += batch.records.length
  return {
    ...base,
    data: replay.result(),
    error: null,
    revision: last.rev,
    savedAt: last.at,
    records,
    live: 1 + replay.messageCount(),
    end: last.end,
    damage: failed?.damage ?? read.damage,
  }
}

/**
 * Applies patches to a conversation (the rpc path: a page sends the patches, this side applies them to the data it
 * holds). Throws `invalid-data` (reason `bad-patch`) for a patch that cannot apply. The result is not validated.
 */
export function applyConversationPatches(
  base: unknown,
  patches: readonly ConversationPatch[],
): Record<string, unknown> {
  const data = base as Record<string, unknown>
  const replay = new ConversationReplay()
  replay.apply({
    op: 'header',
    format: LOG_FORMAT,
    kind: 'conversation',
    schemaVersion: 1,
    fields: fieldsOf(data),
  })
  replay.apply({ op: 'messages', messages: data.messages })
  for (const patch of patches) replay.apply(patch as unknown as RecordValue)
  return replay.result()
}
