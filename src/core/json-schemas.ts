import { z } from 'zod'
import { CHECKSUM_PATTERN } from './checksum'
import { DOCUMENTS, type DocumentDefinition } from './documents'
import { SNAPSHOT_FORMAT } from './snapshot-codec'
import type { DocumentKind } from './status'

/**
 * The JSON Schema of each document file (envelope and data), generated from the zod schemas so other tools can
 * validate a workspace without saveflow. `npx tsx scripts/generate-schemas.ts` writes them to `schemas/<kind>.schema.json`; a test
 * fails when the committed files are out of date. Refinements (the tree's integrity checks) have no JSON Schema
 * form and are checked by saveflow only.
 */

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
      description: `The file ${definition.file}, schema version ${definition.schemaVersion}.`,
    })
}

/**
 * The JSON Schema of every kind, keyed by file name (`project.schema.json`, ...). The input side of each schema is
 * used (`io: 'input'`): a field with a default may be missing, as it may be in a file saveflow reads.
 */
export function documentJsonSchemas(): Record<string, unknown> {
  const kinds: DocumentKind[] = ['project', 'conversation', 'settings', 'cache']
  return Object.fromEntries(
    kinds.map((kind) => [
      `${kind}.schema.json`,
      z.toJSONSchema(snapshotFileSchema(DOCUMENTS[kind]), { io: 'input', target: 'draft-2020-12' }),
    ]),
  )
}
