import type { z } from 'zod'
import { type ConversationPatch, diffConversation } from './conversation-log'
import type { DocumentDefinition } from './documents'
import {
  type Conversation,
  conversationRefSchema,
  conversationSchema,
  isForest,
  messageSchema,
  type ProjectData,
  projectDataSchema,
  treeNodeSchema,
} from './schemas'
import { diffProject, jsonEqual, type ProjectPatch } from './tree-diff'

/**
 * Validation that costs about the change, not the document (DESIGN.md "Data flow": the diff is computed beside the
 * state). A save of the project or of a conversation is checked against the last data of the same document that is
 * known valid (the base): the two are diffed by reference first, as zustand and immer updates share every unchanged
 * object, and only what differs is parsed, with the schema of its element (a tree node, a message, the metadata).
 * The rules that span the whole document are kept true without a full parse: the tree is checked again as a forest
 * (ids unique, parents present, no cycle: a few ms, no zod) only when its structure changed.
 *
 * The contract, which the journal's diff already relies on: data handed to a save is never changed in place
 * afterwards. A change made in place to an object the base shares is invisible to a diff by reference; it is neither
 * checked nor appended (and the state a compaction writes holds it unchecked). Where a whole parse costs nothing
 * extra, a rewrite after a repair, change-checked data is parsed whole again; a compaction writes the state as its
 * saves checked it: parsing 20 MB there would double its cost.
 *
 * Anything this check cannot prove (an element that fails its schema, unknown keys zod would strip, a list whose ids
 * repeat, a conversation reordered) gives `null`, and the caller parses the document whole, which also produces the
 * error report.
 */

/** The kinds whose changes can be checked alone: their built-in schemas, whose elements are listed below. */
export type CheckedKind = 'project' | 'conversation'

/** The kind whose changes {@link checkChange} can check, or `null` for a definition with another schema. */
export function changeCheckKind(definition: DocumentDefinition): CheckedKind | null {
  if (definition.schema === projectDataSchema) return 'project'
  if (definition.schema === conversationSchema) return 'conversation'
  return null
}

const projectShape = projectDataSchema.shape
const PROJECT_KEYS = Object.keys(projectShape)
const CONVERSATION_KEYS = Object.keys(conversationSchema.shape)

/** Schemas of the top-level project fields that a `set` patch replaces; the lists have none (parsed whole). */
const PROJECT_FIELD_SCHEMAS: Partial<Record<string, z.ZodType>> = {
  metadata: projectShape.metadata,
  settings: projectShape.settings,
  version: projectShape.version,
  lastSaved: projectShape.lastSaved,
}

const conversationFieldsSchema = conversationSchema.omit({ messages: true })

/** True when `schema` accepts `value` and gives back exactly `value`: nothing stripped, defaulted or transformed. */
function exact(schema: z.ZodType, value: unknown): boolean {
  const parsed = schema.safeParse(value)
  return parsed.success && jsonEqual(parsed.data, value)
}

/** True when `value` has exactly these own keys (an unknown key is stripped by a full parse: only it may decide). */
function hasExactKeys(value: object, keys: readonly string[]): boolean {
  if (Object.keys(value).length !== keys.length) return false
  for (const key of keys) if (!Object.hasOwn(value, key)) return false
  return true
}

/**
 * The patches that turn `base` into `next`, when they prove `next` valid: every part that differs passes its
 * element schema exactly as it is, and the tree is still a forest. `null` when that cannot be shown this way; `next`
 * must then be parsed whole. `base` must be data of the same document that passed its whole schema (or this check)
 * and was not changed in place since; `next` is exactly its own validated form when this returns patches.
 */
export function checkChange(
  kind: CheckedKind,
  base: unknown,
  next: unknown,
): ProjectPatch[] | ConversationPatch[] | null {
  if (typeof next !== 'object' || next === null || Array.isArray(next)) return null
  return kind === 'project'
    ? checkProject(base as ProjectData, next as Record<string, unknown>)
    : checkConversation(base as Conversation, next as Record<string, unknown>)
}

/**
 * `diff()`, or `null` when it throws: a list holding `null` or a non-object, whose items the diff reads ids from.
 * Items are not checked up front (that would touch every one): an item the diff keeps as unchanged is the base's
 * own object or equal to it by content, so it is valid; any other item is parsed with its element schema.
 */
function safely<T>(diff: () => T): T | null {
  try {
    return diff()
  } catch {
    return null
  }
}

function checkProject(base: ProjectData, next: Record<string, unknown>): ProjectPatch[] | null {
  if (!hasExactKeys(next, PROJECT_KEYS) || !Array.isArray(next.tree) || !Array.isArray(next.conversations))
    return null
  const project = next as unknown as ProjectData
  const shape = { structural: false }
  const patches = safely(() => diffProject(base, project, shape))
  if (patches === null) return null
  for (const patch of patches) {
    if (patch.op === 'node') {
      if (!exact(treeNodeSchema, patch.node)) return null
    } else if (patch.op === 'ref') {
      if (!exact(conversationRefSchema, patch.ref)) return null
    } else if (patch.op === 'set') {
      const schema = PROJECT_FIELD_SCHEMAS[patch.field]
      if (schema === undefined || !exact(schema, patch.value)) return null
    }
    // `remove`, `order`, `unref`, `refOrder` carry no data of their own; removals are covered by the forest check.
  }
  if (shape.structural && !isForest(project.tree)) return null
  return patches
}

function checkConversation(base: Conversation, next: Record<string, unknown>): ConversationPatch[] | null {
  if (!hasExactKeys(next, CONVERSATION_KEYS) || !Array.isArray(next.messages)) return null
  const patches = safely(() => diffConversation(base, next as unknown as Conversation))
  if (patches === null) return null
  for (const patch of patches) {
    if (patch.op === 'add' || patch.op === 'edit') {
      if (!exact(messageSchema, patch.message)) return null
    } else if (patch.op === 'fields') {
      if (!exact(conversationFieldsSchema, patch.fields)) return null
    }
  }
  return patches
}
