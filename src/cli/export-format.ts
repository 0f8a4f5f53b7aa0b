import { z } from 'zod'
import { conversationSchema, isoDateSchema, projectDataSchema, userSettingsSchema } from '../core/schemas'

/**
 * The file `saveflow export` writes: the whole project in one JSON value, with only data that verified (checksum,
 * schema, migrated to the current schema version). Other tools can read it with this schema, or with the JSON
 * Schema `z.toJSONSchema(exportFileSchema)` gives.
 */

/** The `format` field of an export file. */
export const EXPORT_FORMAT = 'saveflow-export'

/** The version of the export format; raised if a field ever changes meaning. */
export const EXPORT_FORMAT_VERSION = 1

/** A document that did not verify and was left out of the export. */
export const exportSkippedSchema = z.object({
  key: z.string(),
  path: z.string(),
  /** The file status (`corrupt`, `invalid`, `missing` with backups, ...). */
  status: z.string(),
  /** The `SaveflowError` code. */
  code: z.string(),
  message: z.string(),
})

/** An export file. */
export const exportFileSchema = z.object({
  format: z.literal(EXPORT_FORMAT),
  formatVersion: z.literal(EXPORT_FORMAT_VERSION),
  exportedAt: isoDateSchema,
  /** The project, or `null` when the workspace has none (or it did not verify: see `skipped`). */
  project: projectDataSchema.nullable(),
  /** The user's settings, or `null` likewise. */
  settings: userSettingsSchema.nullable(),
  /** Every conversation that verified, by id. */
  conversations: z.array(conversationSchema),
  /** Where each exported document came from. */
  documents: z.array(
    z.object({
      key: z.string(),
      revision: z.number().int().min(0),
      savedAt: z.string(),
      schemaVersion: z.number(),
    }),
  ),
  skipped: z.array(exportSkippedSchema),
})

/** @see exportFileSchema */
export type ExportFile = z.infer<typeof exportFileSchema>
