import { createStore, type StoreApi } from 'zustand/vanilla'
import { SaveflowError } from '../core/errors'
import {
  type ConversationRef,
  conversationRefSchema,
  type ProjectData,
  type ProjectMetadata,
  type ProjectSettings,
  projectMetadataSchema,
  projectSettingsSchema,
  type TreeNode,
  treeNodeSchema,
} from '../core/schemas'
import { mergeEarlyEdits } from './merge-edits'
import { notFound, parseOrThrow, resolveEnvironment, type StoreEnvironment } from './store-env'

/**
 * The reference project store (the seed's `project-store`): the feature tree and the project's metadata, settings
 * and conversation index. Its data fields are exactly `ProjectData` (the `project` document), beside one transient
 * field and the actions.
 *
 * Every update is a plain immutable update that keeps the references of everything it did not change: renaming one
 * node makes a new tree array holding the same objects for every other node. A later journal diffs by reference
 * and writes only the records that changed; the binding's change check relies on it too.
 *
 * Actions validate what they produce with the document's own zod schemas and throw a `SaveflowError`
 * (`not-found` for an unknown id, `invalid-data` for a bad value); the state is unchanged when they throw.
 */

/** The actions of the project store. */
export interface ProjectActions {
  /** Adds a node as the last child of `parentId` (`null`: a top-level node); returns its id. */
  addNode(parentId: string | null, title: string, description?: string): string
  /** Changes a node's title. */
  renameNode(id: string, title: string): void
  /** Changes a node's description. */
  setDescription(id: string, description: string): void
  /**
   * Moves a node (and its subtree) under `newParentId` (`null`: top level), at `index` among its new siblings
   * (clamped). Moving a node under itself or one of its descendants throws `invalid-data`.
   */
  moveNode(id: string, newParentId: string | null, index: number): void
  /** Deletes a node with its whole subtree; returns the ids removed. Conversations about them are kept, unlinked. */
  deleteNode(id: string): string[]
  /** Changes the project's name or description. */
  updateMetadata(patch: Partial<Pick<ProjectMetadata, 'name' | 'description'>>): void
  /** Changes the project's own settings (language, default model, system prompt). */
  updateProjectSettings(patch: Partial<ProjectSettings>): void
  /** Adds or replaces the index entry of a conversation (kept in step with the chat store by `connectReferenceStores`). */
  upsertConversationRef(ref: ConversationRef): void
  /** Removes the index entry of a conversation. */
  removeConversationRef(id: string): void
  /** Selects a node in the UI. Transient: never saved. */
  selectNode(id: string | null): void
}

/** The project store's state: the `project` document's data, the UI selection, and the actions. */
export interface ProjectState extends ProjectData, ProjectActions {
  /** The node selected in the UI. Transient: excluded by {@link projectDataOf}, so selecting never saves. */
  selectedNodeId: string | null
}

/** A vanilla project store; in React read it with `useStore(store, selector)`. */
export type ProjectStore = StoreApi<ProjectState>

/** Options of {@link createProjectStore}. */
export interface ProjectStoreOptions extends StoreEnvironment {
  /** The data to start from (before hydration). @default {@link emptyProject} */
  initial?: ProjectData
}

/** The data fields of the store, in the order `ProjectData` declares them. */
const PROJECT_DATA_KEYS = [
  'metadata',
  'tree',
  'conversations',
  'settings',
  'version',
  'lastSaved',
] as const satisfies readonly (keyof ProjectData)[]

/** The `partialize` of the project store: its `ProjectData`, without the selection and the actions. */
export function projectDataOf(state: ProjectState): ProjectData {
  const data = {} as Record<string, unknown>
  for (const key of PROJECT_DATA_KEYS) data[key] = state[key]
  return data as ProjectData
}

/** A new, empty project: what a first run starts from. */
export function emptyProject(env: StoreEnvironment = {}): ProjectData {
  const { nowIso, createId } = resolveEnvironment(env)
  const now = nowIso()
  return {
    metadata: { id: createId(), name: 'Untitled project', description: '', createdAt: now, updatedAt: now },
    tree: [],
    conversations: [],
    settings: { language: 'en', defaultModel: null, systemPrompt: '' },
    version: 0,
    lastSaved: now,
  }
}

/**
 * The pre-hydration merge of the project ({@link mergeEarlyEdits}), except for the app's edit counter: edits made
 * before the load count on top of the loaded counter instead of winning with a smaller number.
 */
export function mergeProjectEdits(base: ProjectData, edited: ProjectData, loaded: ProjectData): ProjectData {
  const merged = mergeEarlyEdits(base, edited, loaded)
  const version = loaded.version + Math.max(0, edited.version - base.version)
  return merged.version === version ? merged : { ...merged, version }
}

/** The children of `parentId` (`null`: the top level), in their order. */
export function selectChildren(state: Pick<ProjectData, 'tree'>, parentId: string | null): TreeNode[] {
  return state.tree.filter((node) => node.parentId === parentId).sort((a, b) => a.order - b.order)
}

/** Creates a fresh project store (zustand stores are module singletons otherwise; tests and stories need new ones). */
export function createProjectStore(options: ProjectStoreOptions = {}): ProjectStore {
  const { nowIso, createId } = resolveEnvironment(options)
  const initial = options.initial ?? emptyProject(options)

  return createStore<ProjectState>()((set, get) => {
    /** Applies a data change: bumps the app's edit counter and the project's `updatedAt` with it. */
    const commit = (patch: Partial<ProjectData>, extra: Partial<ProjectState> = {}) => {
      const state = get()
      const metadata = patch.metadata ?? state.metadata
      set({
        ...patch,
        ...extra,
        metadata: { ...metadata, updatedAt: nowIso() },
        version: state.version + 1,
      })
    }

    const indexOf = (tree: readonly TreeNode[], id: string): number => {
      const index = tree.findIndex((node) => node.id === id)
      if (index < 0) throw notFound('node', id)
      return index
    }

    const updateNode = (id: string, patch: Partial<Pick<TreeNode, 'title' | 'description'>>) => {
      const { tree } = get()
      const index = indexOf(tree, id)
      const node = tree[index]!
      if (Object.entries(patch).every(([field, value]) => node[field as keyof TreeNode] === value)) return
      const next = parseOrThrow(treeNodeSchema, { ...node, ...patch, updatedAt: nowIso() }, `tree.${index}`)
      commit({ tree: tree.with(index, next) })
    }

    return {
      ...initial,
      selectedNodeId: null,

      addNode(parentId, title, description = '') {
        const { tree } = get()
        if (parentId !== null) indexOf(tree, parentId)
        let last = -1
        for (const node of tree) if (node.parentId === parentId && node.order > last) last = node.order
        const now = nowIso()
        const node = parseOrThrow(
          treeNodeSchema,
          {
            id: createId(),
            parentId,
            order: Math.floor(last) + 1,
            title,
            description,
            createdAt: now,
            updatedAt: now,
          },
          `tree.${tree.length}`,
        )
        commit({ tree: [...tree, node] })
        return node.id
      },

      renameNode: (id, title) => updateNode(id, { title }),
      setDescription: (id, description) => updateNode(id, { description }),

      moveNode(id, newParentId, index) {
        const { tree } = get()
        const at = indexOf(tree, id)
        if (newParentId !== null) {
          indexOf(tree, newParentId)
          // Walk up from the new parent: meeting the node itself means the move would make a cycle.
          const parents = new Map(tree.map((node) => [node.id, node.parentId]))
          for (let up: string | null = newParentId; up !== null; up = parents.get(up) ?? null) {
            if (up === id) {
              throw new SaveflowError('invalid-data', {
                message: `Node "${id}" cannot move under itself or one of its descendants.`,
                details: { id, newParentId },
              })
            }
          }
        }
        const siblings = selectChildren({ tree }, newParentId).filter((node) => node.id !== id)
        const position = Math.min(Math.max(0, Math.trunc(index)), siblings.length)
        const order = orderBetween(siblings[position - 1]?.order, siblings[position]?.order)
        const now = nowIso()
        if (order !== null) {
          commit({ tree: tree.with(at, { ...tree[at]!, parentId: newParentId, order, updatedAt: now }) })
          return
        }
        // Scenario: repeated moves between the same two nodes used up the float gap. Renumber this sibling group
        // only; every other node keeps its object.
        const group = [...siblings.slice(0, position), tree[at]!, ...siblings.slice(position)]
        const renumbered = new Map(group.map((node, i) => [node.id, i]))
        commit({
          tree: tree.map((node) => {
            const n = renumbered.get(node.id)
            if (n === undefined) return node
            if (node.id === id) return { ...node, parentId: newParentId, order: n, updatedAt: now }
            return node.order === n ? node : { ...node, order: n }
          }),
        })
      },

      deleteNode(id) {
        const { tree, conversations, selectedNodeId } = get()
        indexOf(tree, id)
        const children = new Map<string | null, string[]>()
        for (const node of tree) {
          const list = children.get(node.parentId)
          if (list === undefined) children.set(node.parentId, [node.id])
          else list.push(node.id)
        }
        const removed: string[] = []
        for (const stack = [id]; stack.length > 0; ) {
          const next = stack.pop()!
          removed.push(next)
          stack.push(...(children.get(next) ?? []))
        }
        const gone = new Set(removed)
        const unlink = conversations.some((ref) => ref.nodeId !== null && gone.has(ref.nodeId))
        commit(
          {
            tree: tree.filter((node) => !gone.has(node.id)),
            ...(unlink
              ? {
                  conversations: conversations.map((ref) =>
                    ref.nodeId !== null && gone.has(ref.nodeId) ? { ...ref, nodeId: null } : ref,
                  ),
                }
              : {}),
          },
          selectedNodeId !== null && gone.has(selectedNodeId) ? { selectedNodeId: null } : {},
        )
        return removed
      },

      updateMetadata(patch) {
        const { metadata } = get()
        const next = parseOrThrow(projectMetadataSchema, { ...metadata, ...patch }, 'metadata')
        if (next.name === metadata.name && next.description === metadata.description) return
        commit({ metadata: next })
      },

      updateProjectSettings(patch) {
        const { settings } = get()
        const next = parseOrThrow(projectSettingsSchema, { ...settings, ...patch }, 'settings')
        if (sameFields(settings, next)) return
        commit({ settings: next })
      },

      upsertConversationRef(ref) {
        const { conversations } = get()
        const next = parseOrThrow(conversationRefSchema, ref, 'conversations')
        const index = conversations.findIndex((entry) => entry.id === next.id)
        if (index >= 0 && sameFields(conversations[index]!, next)) return
        commit({ conversations: index < 0 ? [...conversations, next] : conversations.with(index, next) })
      },

      removeConversationRef(id) {
        const { conversations } = get()
        if (!conversations.some((entry) => entry.id === id)) return
        commit({ conversations: conversations.filter((entry) => entry.id !== id) })
      },

      selectNode(id) {
        if (id !== null) indexOf(get().tree, id)
        set({ selectedNodeId: id })
      },
    }
  })
}

/**
 * An order strictly between two siblings' (either may be missing at an end), or `null` when floats leave no room.
 * Fractional orders move one node without renumbering the others, so one move changes one record.
 */
function orderBetween(before: number | undefined, after: number | undefined): number | null {
  if (before === undefined && after === undefined) return 0
  if (before === undefined) return Math.floor(after! - 1)
  if (after === undefined) return Math.floor(before + 1)
  const middle = before + (after - before) / 2
  return before < middle && middle < after ? middle : null
}

/** Flat records of scalars (settings, conversation refs): equal when every field is. */
function sameFields<T extends object>(a: T, b: T): boolean {
  const keys = Object.keys(a) as (keyof T)[]
  return keys.length === Object.keys(b).length && keys.every((key) => Object.is(a[key], b[key]))
}
