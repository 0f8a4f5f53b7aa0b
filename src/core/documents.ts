import type { z } from 'zod'
import { assertMigrationChain, type Migration, SETTINGS_MIGRATIONS } from './migrations'
import { type DocumentKey, parseDocumentKey } from './paths'
import {
  type CacheData,
  type Conversation,
  cacheDataSchema,
  conversationSchema,
  type ProjectData,
  projectDataSchema,
  type UserSettings,
  userSettingsSchema,
} from './schemas'
import { type DocumentCodec, snapshotCodec } from './snapshot-codec'
import { type DocumentKind, KIND_PRIORITY } from './status'

/**
 * The four kinds of document (DESIGN.md "Documents"): what each one is, how it is stored, validated, migrated and
 * backed up. The repository reads everything kind-specific from here.
 */

/** How a kind is backed up. The workspace configuration (`backupEnabled`, `backupCount`, `backupInterval`) applies on top. */
export interface BackupPolicy {
  /** Back up the file being replaced. Caches are never backed up: they are rebuilt instead. */
  enabled: boolean
}

/**
 * How a kind is laid out on disk (DESIGN.md "Documents"):
 * - `snapshot`: one file, replaced whole on every save;
 * - `snapshot+journal`: a snapshot plus a journal of keyed patches appended since it (the project);
 * - `log`: an append-only record log, compacted now and then (a conversation).
 * Backups of every layout are snapshot files, so they read the same way whatever the kind.
 */
export type DocumentLayout = 'snapshot' | 'snapshot+journal' | 'log'

/** Everything saveflow knows about one kind of document. */
export interface DocumentDefinition<S extends z.ZodType = z.ZodType> {
  kind: DocumentKind
  /** The key, or its pattern: `project`, `settings`, `conversation/<id>`, `cache/<name>`. */
  key: string
  /** The file, or its pattern, relative to the workspace. */
  file: string
  /** Validates on save and on load; the type of the data is `z.infer` of it. */
  schema: S
  /** The version of `schema`; files carry it and older ones are migrated. */
  schemaVersion: number
  /** Steps from version 1 up to `schemaVersion` (`schemaVersion - 1` of them). */
  migrations: readonly Migration[]
  /** Bytes on disk and back: the snapshot file, and every backup. */
  codec: DocumentCodec
  /** How the document is stored; see {@link DocumentLayout}. */
  layout: DocumentLayout
  backup: BackupPolicy
  /** Write-slot priority, lower first (see `KIND_PRIORITY`). */
  priority: number
  /** Largest file that is read or written, in bytes. */
  maxBytes: number
  /** Caches only: how long after its save a cache document stays valid, in ms. */
  ttlMs?: number
}

/** One definition per kind. */
export type DocumentDefinitions = { readonly [K in DocumentKind]: DocumentDefinition }

/** Checks a definition (its migration chain above all) and returns it unchanged. */
export function defineDocument<S extends z.ZodType>(
  definition: DocumentDefinition<S>,
): DocumentDefinition<S> {
  assertMigrationChain(definition.kind, definition.migrations, definition.schemaVersion)
  return definition
}

const MiB = 1024 * 1024

/** The `project` document: `project.json` and the patches since it in `project.journal.jsonl`. */
export const projectDocument = defineDocument({
  kind: 'project',
  key: 'project',
  file: 'project.json',
  schema: projectDataSchema,
  schemaVersion: 1,
  migrations: [],
  codec: snapshotCodec,
  layout: 'snapshot+journal',
  backup: { enabled: true },
  priority: KIND_PRIORITY.project,
  maxBytes: 256 * MiB,
})

/**
 * A `conversation/<id>` document: `conversations/<id>.jsonl`, an append-only log. A `conversations/<id>.json`
 * snapshot written by an earlier version is still read, and replaced by the log on the first save.
 */
export const conversationDocument = defineDocument({
  kind: 'conversation',
  key: 'conversation/<id>',
  file: 'conversations/<id>.jsonl',
  schema: conversationSchema,
  schemaVersion: 1,
  migrations: [],
  codec: snapshotCodec,
  layout: 'log',
  backup: { enabled: true },
  priority: KIND_PRIORITY.conversation,
  maxBytes: 64 * MiB,
})

/** The `settings` document: `settings.json`, the user's preferences; version 2 added the editor preferences. */
export const settingsDocument = defineDocument({
  kind: 'settings',
  key: 'settings',
  file: 'settings.json',
  schema: userSettingsSchema,
  schemaVersion: 2,
  migrations: SETTINGS_MIGRATIONS,
  codec: snapshotCodec,
  layout: 'snapshot',
  backup: { enabled: true },
  priority: KIND_PRIORITY.settings,
  maxBytes: 4 * MiB,
})

/** A `cache/<name>` document: `cache/<name>.json`; never backed up, dropped when stale or corrupt. */
export const cacheDocument = defineDocument({
  kind: 'cache',
  key: 'cache/<name>',
  file: 'cache/<name>.json',
  schema: cacheDataSchema,
  schemaVersion: 1,
  migrations: [],
  codec: snapshotCodec,
  layout: 'snapshot',
  backup: { enabled: false },
  priority: KIND_PRIORITY.cache,
  maxBytes: 16 * MiB,
  ttlMs: 7 * 24 * 60 * 60 * 1000,
})

/** The built-in definitions. */
export const DOCUMENTS: DocumentDefinitions = {
  project: projectDocument,
  conversation: conversationDocument,
  settings: settingsDocument,
  cache: cacheDocument,
}

/** The definition of the document behind `key`; throws `invalid-id` for a bad key. */
export function definitionFor(key: string, definitions: DocumentDefinitions = DOCUMENTS): DocumentDefinition {
  return definitions[parseDocumentKey(key).kind]
}

/** The data type of a document key: `DataOf<'settings'>` is `UserSettings`. */
export type DataOf<K extends string> = K extends 'project'
  ? ProjectData
  : K extends 'settings'
    ? UserSettings
    : K extends `conversation/${string}`
      ? Conversation
      : K extends `cache/${string}`
        ? CacheData
        : unknown

/** A document key (re-exported here for callers that only think in documents). */
export type { DocumentKey }
