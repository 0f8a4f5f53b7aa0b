import { z } from 'zod'
import { persistenceConfigSchema } from './config'
import { ID_PATTERN } from './paths'

/**
 * The seed's data model as zod schemas; every type is `z.infer` of one of them, never written twice. Dates are ISO
 * 8601 strings in memory as on disk: the same value travels through stores, the rpc bridge and files without an
 * encode step (the seed's `Date` fields become strings).
 */

/** A node, conversation or message id: the document id rule, so any id may later name a file or a patch. */
export const idSchema = z.string().regex(ID_PATTERN)

/** An ISO 8601 date-time with an offset (`2026-01-15T10:30:00.000Z`). */
export const isoDateSchema = z.iso.datetime({ offset: true })

/**
 * One feature node. The tree is stored flat and keyed: each node names its parent (`null` for a root) and its
 * place among its siblings (`order`, ascending). A change to one node is then a patch of one record found by id,
 * which is what the later patch journal writes.
 */
export const treeNodeSchema = z.object({
  id: idSchema,
  /** The parent node's id, or `null` for a top-level node. */
  parentId: idSchema.nullable(),
  /** Position among siblings, ascending; fractional values let a node move between two others without renumbering. */
  order: z.number(),
  title: z.string().max(1000),
  description: z.string(),
  createdAt: isoDateSchema,
  updatedAt: isoDateSchema,
})

/** The seed's project metadata. */
export const projectMetadataSchema = z.object({
  id: idSchema,
  name: z.string().min(1).max(200),
  description: z.string(),
  createdAt: isoDateSchema,
  updatedAt: isoDateSchema,
})

/** The seed's `ProjectSettings`: what belongs to one project rather than to the user. */
export const projectSettingsSchema = z.object({
  /** BCP 47 language tag of the project's content. */
  language: z.string().min(2).max(35),
  /** Assistant model used for this project's conversations, or `null` for the user's default. */
  defaultModel: z.string().max(200).nullable(),
  /** Instructions given to the assistant in every conversation of the project. */
  systemPrompt: z.string(),
})

/**
 * A conversation as the project lists it. The seed keeps whole conversations inside `ProjectData`; on disk each
 * conversation is its own document (DESIGN.md "Documents"), so the project holds this index instead of a copy.
 */
export const conversationRefSchema = z.object({
  id: idSchema,
  title: z.string().max(1000),
  /** The feature node the conversation is about, if any. */
  nodeId: idSchema.nullable(),
  createdAt: isoDateSchema,
  updatedAt: isoDateSchema,
  messageCount: z.number().int().min(0),
})

/** The seed's `ProjectData`: the `project` document. */
export const projectDataSchema = z
  .object({
    metadata: projectMetadataSchema,
    tree: z.array(treeNodeSchema),
    conversations: z.array(conversationRefSchema),
    settings: projectSettingsSchema,
    /** The app's own edit counter for the project. saveflow's revision and schema version live in the envelope. */
    version: z.number().int().min(0),
    /** When the app last saved the project. */
    lastSaved: isoDateSchema,
  })
  .superRefine((project, ctx) =>
    checkTree(project.tree, (message, path) => ctx.addIssue({ code: 'custom', message, path })),
  )

/** One message of a conversation. */
export const messageSchema = z.object({
  id: idSchema,
  role: z.enum(['user', 'assistant', 'system']),
  content: z.string(),
  createdAt: isoDateSchema,
})

/** The seed's `Conversation`: one `conversation/<id>` document. */
export const conversationSchema = z.object({
  id: idSchema,
  title: z.string().max(1000),
  nodeId: idSchema.nullable(),
  messages: z.array(messageSchema),
  createdAt: isoDateSchema,
  updatedAt: isoDateSchema,
})

/** Version 1 of the user's settings, kept for the migration to version 2 and for the JSON Schema of old files. */
export const userSettingsV1Schema = z.object({
  theme: z.enum(['system', 'light', 'dark']).default('system'),
  /** BCP 47 language tag of the interface. */
  language: z.string().min(2).max(35).default('en'),
  /** The seed's `PersistenceConfig`. */
  persistence: persistenceConfigSchema.default(persistenceConfigSchema.parse({})),
})

/** The editor preferences that schema version 2 of the settings added. */
export const editorSettingsSchema = z.object({
  fontSize: z.number().int().min(6).max(72).default(14),
  wordWrap: z.boolean().default(true),
})

/**
 * The user's configuration and preferences: the `settings` document (schema version 2). Every field has a default,
 * so `userSettingsSchema.parse({})` is a complete first-run value.
 */
export const userSettingsSchema = userSettingsV1Schema.extend({
  editor: editorSettingsSchema.default({ fontSize: 14, wordWrap: true }),
})

/** A cache document holds any JSON value; its owner checks it further. */
export const cacheDataSchema = z.json()

/** @see treeNodeSchema */
export type TreeNode = z.infer<typeof treeNodeSchema>
/** @see projectMetadataSchema */
export type ProjectMetadata = z.infer<typeof projectMetadataSchema>
/** @see projectSettingsSchema */
export type ProjectSettings = z.infer<typeof projectSettingsSchema>
/** @see conversationRefSchema */
export type ConversationRef = z.infer<typeof conversationRefSchema>
/** @see projectDataSchema */
export type ProjectData = z.infer<typeof projectDataSchema>
/** @see messageSchema */
export type Message = z.infer<typeof messageSchema>
/** @see conversationSchema */
export type Conversation = z.infer<typeof conversationSchema>
/** @see userSettingsSchema */
export type UserSettings = z.infer<typeof userSettingsSchema>
/** What may be given for settings: any field left out takes its default. */
export type UserSettingsInput = z.input<typeof userSettingsSchema>
/** @see userSettingsV1Schema */
export type UserSettingsV1 = z.infer<typeof userSettingsV1Schema>
/** @see cacheDataSchema */
export type CacheData = z.infer<typeof cacheDataSchema>

/**
 * True when the nodes form a forest (the refinement of {@link projectDataSchema}, without the rest of the schema):
 * what an incremental save checks after a change to the tree's structure.
 */
export function isForest(tree: readonly TreeNode[]): boolean {
  let ok = true
  checkTree(tree, () => {
    ok = false
  })
  return ok
}

/**
 * The tree must be a forest: ids unique, every parent present, no node its own ancestor. One pass builds the index,
 * a second walks each chain only up to the first node already known to reach a root (then marks the whole chain),
 * so every node is walked about once: a few ms for 60 000 nodes, with no allocation per node.
 */
function checkTree(
  tree: readonly TreeNode[],
  report: (message: string, path: Array<string | number>) => void,
): void {
  const indexById = new Map<string, number>()
  for (let i = 0; i < tree.length; i++) {
    const id = tree[i]!.id
    if (indexById.has(id)) report(`Duplicate node id "${id}".`, ['tree', i, 'id'])
    else indexById.set(id, i)
  }
  // 0: not seen, 1: on the chain being walked, 2: reaches a root (or was already reported).
  const state = new Uint8Array(tree.length)
  const chain: number[] = []
  for (let start = 0; start < tree.length; start++) {
    let at = start
    let problem: 'missing' | 'cycle' | null = null
    while (state[at] === 0) {
      state[at] = 1
      chain.push(at)
      const parentId = tree[at]!.parentId
      if (parentId === null) break
      const parent = indexById.get(parentId)
      if (parent === undefined) {
        problem = 'missing'
        break
      }
      if (state[parent] === 1) {
        problem = 'cycle'
        break
      }
      at = parent
    }
    for (const i of chain) state[i] = 2
    chain.length = 0
    const node = tree[at]!
    if (problem === 'missing') {
      report(`Node "${node.id}" names a missing parent "${node.parentId}".`, ['tree', at, 'parentId'])
    } else if (problem === 'cycle') {
      report(`The ancestors of node "${node.id}" form a cycle.`, ['tree', at, 'parentId'])
    }
  }
}
