import { z } from 'zod'
import { CHECKSUM_PATTERN } from './checksum'
import { conversationPatchSchema, LOG_FORMAT } from './conversation-log'
import { DOCUMENTS, type DocumentDefinition } from './documents'
import { JOURNAL_FORMAT } from './project-journal'
import { conversationSchema, isoDateSchema, messageSchema } from './schemas'
import { SNAPSHOT_FORMAT } from './snapshot-codec'
import type { DocumentKind } from './status'
import { projectPatchSchema } from './tree-diff'

/**
 * The JSON Schema of each file format, generated from the zod schemas so other tools can validate a workspace
 * without saveflow. `npx tsx scripts/generate-schemas.ts` writes them to `schemas/`; a test fails when the committed
 * files are out of date:
 * - `<kind>.schema.json`: a snapshot file of that kind (envelope and data): `project.json`, `settings.json`,
 *   `cache/<name>.json`, every backup, and a conversation snapshot of the legacy layout;
 * - `conversation-log-record.schema.json`: one line of `conversations/<id>.jsonl`;
 * - `project-journal-record.schema.json`: one line of `project.journal.jsonl`.
 *
 * What a JSON Schema cannot say is checked by saveflow only: the tree's integrity (unique ids, parents, no cycles),
 * a snapshot's checksum, a record's `len` and `crc`, and the rules across lines of a record file (the header comes
 * first, a batch is closed by `rev` and `at`, an edit names a known message).
 */

/** Which files a snapshot of each kind is, and where the rest of a journaled document lives. */
const SNAPSHOT_FILES: Record<DocumentKind, string> = {
  project:
    'project.json and the project backups (.saveflow/backups/project/*.json). The changes saved since project.json ' +
    'are in project.journal.jsonl (see project-journal-record.schema.json): project.json alone may be older than ' +
    'the project.',
  conversation:
    'A conversation saved whole: its backups (.saveflow/backups/conversation/<id>/*.json) and ' +
    'conversations/<id>.json written by versions before the log. The live file, conversations/<id>.jsonl, is a ' +
    'record log: see conversation-log-record.schema.json.',
  settings: 'settings.json and its backups (.saveflow/backups/settings/*.json).',
  cache: 'cache/<name>.json (never backed up).',
}

/** The zod schema of a whole snapshot file of `definition`'s kind. */
export function snapshotFileSchema(definition: DocumentDefinition) {
  return z
    .object({
      format: z.number().int().min(1).max(SNAPSHOT_FORMAT).describe('Envelope format version.'),
      kind: z.literal(definition.kind),
      schemaVersion: z
        .number()
        .int()
        .min(1)
        .max(definition.schemaVersion)
        .describe('Version of the data schema; older versions are migrated when loaded.'),
      revision: z.number().int().min(0).describe('Save revision.'),
      savedAt: z.iso.datetime({ offset: true }).describe('Time of the save.'),
      checksum: z
        .string()
        .regex(CHECKSUM_PATTERN)
        .describe('CRC-32 of the UTF-8 bytes of JSON.stringify(data), as "crc32:" and 8 hex digits.'),
      data: definition.schema,
    })
    .meta({
      title: `saveflow ${definition.kind} document`,
      description: `${SNAPSHOT_FILES[definition.kind]} Data schema version ${definition.schemaVersion}; the checksum is not checked by this schema.`,
    })
}

/** `rev` and `at`, on the record that closes a batch (the last record of one save). */
const batchEnd = {
  rev: z.number().int().min(0).describe('Revision of the save this record closes.'),
  at: isoDateSchema.describe('Time of the save this record closes.'),
}

/** What each patch record does, for the descriptions. */
const PATCH_DESCRIPTIONS: Record<string, string> = {
  add: 'A message appended (a new id).',
  edit: 'A message replaced in place (a known id).',
  delete: 'A message removed.',
  fields: "The conversation's own fields (title, node, times) replaced.",
  node: 'A tree node upserted: replaced where it is, or appended.',
  remove: 'A tree node removed.',
  order: 'The tree nodes put in this order (every id once).',
  ref: 'A conversation reference upserted.',
  unref: 'A conversation reference removed.',
  refOrder: 'The conversation references put in this order.',
  set: 'A top-level field replaced whole (a whole list when its ids repeat).',
}

/** A patch record as it lies in a file: the patch, and `rev`/`at` when it is the last record of a save. */
function patchRecords(options: readonly z.ZodObject<{ op: z.ZodLiteral<string> }>[]) {
  return options.map((patch) =>
    patch.extend({ rev: batchEnd.rev.optional(), at: batchEnd.at.optional() }).meta({
      description: `${PATCH_DESCRIPTIONS[patch.shape.op.value] ?? ''} With rev and at when it is the last record of a save.`,
      dependentRequired: { rev: ['at'], at: ['rev'] },
    }),
  )
}

/** A save that changed nothing: its revision must still be recorded. */
const commitRecord = z
  .strictObject({ op: z.literal('commit'), ...batchEnd })
  .meta({ description: 'A save that changed nothing, alone in its batch.' })

/**
 * One line of a record file: `{"len":…,"crc":"…","rec":{…}}`. `len` and `crc` frame the UTF-8 bytes of `rec` as
 * written; a JSON Schema can check their types only.
 */
function recordLine(rec: z.ZodType, file: string, rules: string) {
  return z
    .strictObject({
      len: z
        .number()
        .int()
        .min(2)
        .describe('Byte length of the UTF-8 text of rec as written. Not checked by this schema.'),
      crc: z
        .string()
        .regex(/^[0-9a-f]{8}$/)
        .describe(
          'CRC-32 of those bytes, as 8 lowercase hex digits (of JSON.stringify(rec) when a tool rewrote the line). ' +
            'Not checked by this schema.',
        ),
      rec,
    })
    .meta({
      description:
        `One line of ${file}: a record framed by its length and CRC-32, one JSON object per line. ` +
        'A JSON Schema cannot check len and crc, which saveflow uses to find a torn or damaged line; nor the rules ' +
        `across lines, which saveflow checks when it reads: ${rules}`,
    })
}

/** The conversation fields (everything but the messages), as the header and `fields` records hold them. */
const conversationFieldsSchema = conversationSchema.omit({ messages: true })

/** The zod schema of one line of `conversations/<id>.jsonl`. */
export function conversationLogLineSchema() {
  const header = z
    .strictObject({
      op: z.literal('header'),
      format: z.number().int().min(1).max(LOG_FORMAT).describe('Log format version.'),
      kind: z.literal('conversation'),
      schemaVersion: z
        .number()
        .int()
        .min(1)
        .max(DOCUMENTS.conversation.schemaVersion)
        .describe('Version of the data schema of the records.'),
      fields: conversationFieldsSchema,
      rev: batchEnd.rev.optional(),
      at: batchEnd.at.optional(),
    })
    .meta({
      description:
        'The first record of a log: the conversation without its messages. With rev and at when it is the last ' +
        'record of a save (a conversation without messages).',
      dependentRequired: { rev: ['at'], at: ['rev'] },
    })
  const messages = z
    .strictObject({
      op: z.literal('messages'),
      messages: z.array(messageSchema),
      rev: batchEnd.rev.optional(),
      at: batchEnd.at.optional(),
    })
    .meta({
      description:
        'Every message at once, written in place of add records when message ids repeat. With rev and at when it ' +
        'is the last record of a save.',
      dependentRequired: { rev: ['at'], at: ['rev'] },
    })
  const rec = z.discriminatedUnion('op', [
    header,
    ...patchRecords(conversationPatchSchema.options),
    messages,
    commitRecord,
  ])
  return recordLine(
    rec,
    'conversations/<id>.jsonl',
    'the header comes first; add names a new message id, edit a known one; a save is the records up to one ' +
      'carrying rev and at, and records after the last such one are a torn tail.',
  ).meta({ title: 'saveflow conversation log record' })
}

/** The zod schema of one line of `project.journal.jsonl`. */
export function projectJournalLineSchema() {
  const header = z
    .strictObject({
      op: z.literal('journal'),
      format: z.number().int().min(1).max(JOURNAL_FORMAT).describe('Journal format version.'),
      kind: z.literal('project'),
      base: z.number().int().min(0).describe('Revision of the project.json this journal starts from.'),
      snapshot: z
        .string()
        .regex(CHECKSUM_PATTERN)
        .describe('The checksum of that project.json (its envelope checksum field).'),
      ...batchEnd,
    })
    .meta({ description: 'The first record of a journal, alone in its batch: the snapshot it belongs to.' })
  const rec = z.discriminatedUnion('op', [header, ...patchRecords(projectPatchSchema.options), commitRecord])
  return recordLine(
    rec,
    'project.journal.jsonl',
    'the journal header comes first and names project.json by revision and checksum (a journal naming another ' +
      'snapshot is stale); a save is the records up to one carrying rev and at, applied in order to project.json.',
  ).meta({ title: 'saveflow project journal record' })
}

/** Options every schema file is generated with. */
const TO_JSON_SCHEMA = { io: 'input', target: 'draft-2020-12' } as const

/**
 * Every schema file, keyed by file name: `<kind>.schema.json` for the snapshot of each kind, then the record line
 * schemas. The input side of each schema is used (`io: 'input'`): a field with a default may be missing, as it may
 * be in a file saveflow reads.
 */
export function documentJsonSchemas(): Record<string, unknown> {
  const kinds: DocumentKind[] = ['project', 'conversation', 'settings', 'cache']
  return {
    ...Object.fromEntries(
      kinds.map((kind) => [
        `${kind}.schema.json`,
        z.toJSONSchema(snapshotFileSchema(DOCUMENTS[kind]), TO_JSON_SCHEMA),
      ]),
    ),
    'conversation-log-record.schema.json': z.toJSONSchema(conversationLogLineSchema(), TO_JSON_SCHEMA),
    'project-journal-record.schema.json': z.toJSONSchema(projectJournalLineSchema(), TO_JSON_SCHEMA),
  }
}
