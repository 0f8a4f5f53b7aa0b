import { z } from 'zod'
import { SaveflowError } from './errors'
import {
  type ConversationRef,
  conversationRefSchema,
  idSchema,
  type ProjectData,
  type TreeNode,
  treeNodeSchema,
} from './schemas'

/**
 * Diffs of keyed lists (tree nodes, conversation references, messages), found by reference first. zustand and
 * immer updates share every unchanged object, so comparing by identity makes finding a change cost little more than
 * the change itself; where references differ (data parsed again, sent over the rpc bridge) the items are compared by
 * content, which is still correct, only slower.
 *
 * Replaying a diff on the old list gives the new one, item order included: changed items are replaced where they
 * are, removed ones dropped, added ones appended. When that would not give the new order (an item inserted in the
 * middle, a list sorted), the diff says so with the full new order, and the caller writes it or rewrites the file.
 */

/** Equality of JSON values: identical, or the same content. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false
    for (let i = 0; i < a.length; i++) if (!jsonEqual(a[i], b[i])) return false
    return true
  }
  if (Array.isArray(b)) return false
  const ka = Object.keys(a)
  if (ka.length !== Object.keys(b).length) return false
  for (const key of ka) {
    if (!Object.hasOwn(b, key)) return false
    if (!jsonEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key])) return false
  }
  return true
}

/** An item of a keyed list. */
export interface Keyed {
  id: string
}

/** How a keyed list changed. */
export interface KeyedDiff<T> {
  /** Items present before and after whose content changed, in the new list's order. */
  changed: T[]
  /** New items, in the new list's order. */
  added: T[]
  /** Ids of removed items. */
  removed: string[]
  /** The full new order of ids, when replacing, removing and appending would not reproduce it; else `null`. */
  order: string[] | null
}

/** Lists whose ids are known to be unique, so a diff need not check the old list again. */
const uniqueLists = new WeakSet<readonly Keyed[]>()

function hasUniqueIds(list: readonly Keyed[]): boolean {
  if (uniqueLists.has(list)) return true
  const seen = new Set<string>()
  for (const item of list) {
    if (seen.has(item.id)) return false
    seen.add(item.id)
  }
  uniqueLists.add(list)
  return true
}

/**
 * The change from `prev` to `next`, or `null` when either list repeats an id (a keyed diff cannot say which of two
 * equal ids changed). Walks the common head and tail of the two lists by id, comparing items by reference and only
 * then by content; only the differing middle is indexed. `pairs`, when given, receives each changed item as
 * `[before, after]`, for a caller that must know what an item was (did a node change its parent?).
 */
export function diffKeyed<T extends Keyed>(
  prev: readonly T[],
  next: readonly T[],
  pairs?: Array<[before: T, after: T]>,
): KeyedDiff<T> | null {
  const diff: KeyedDiff<T> = { changed: [], added: [], removed: [], order: null }
  if (prev === next) return diff
  if (!hasUniqueIds(prev)) return null
  let head = 0
  const shorter = Math.min(prev.length, next.length)
  // A shared item is compared by reference alone (its id is the same by definition): the walk over an unchanged
  // list touches no item, only the two arrays.
  while (head < shorter) {
    const a = prev[head]!
    const b = next[head]!
    if (a !== b) {
      if (a.id !== b.id) break
      if (!jsonEqual(a, b)) {
        diff.changed.push(b)
        pairs?.push([a, b])
      }
    }
    head++
  }
  let endPrev = prev.length
  let endNext = next.length
  const tailChanged: T[] = []
  while (endPrev > head && endNext > head) {
    const a = prev[endPrev - 1]!
    const b = next[endNext - 1]!
    if (a !== b) {
      if (a.id !== b.id) break
      if (!jsonEqual(a, b)) {
        tailChanged.push(b)
        pairs?.push([a, b])
      }
    }
    endPrev--
    endNext--
  }
  if (head === endPrev && head === endNext) {
    diff.changed.push(...tailChanged.reverse())
    uniqueLists.add(next)
    return diff
  }
  const middle = new Map<string, T>()
  for (let i = head; i < endPrev; i++) middle.set(prev[i]!.id, prev[i]!)
  let allPrev: Set<string> | null = null
  const seen = new Set<string>()
  const kept: string[] = []
  for (let i = head; i < endNext; i++) {
    const item = next[i]!
    if (seen.has(item.id)) return null
    seen.add(item.id)
    const before = middle.get(item.id)
    if (before !== undefined) {
      kept.push(item.id)
      if (before !== item && !jsonEqual(before, item)) {
        diff.changed.push(item)
        pairs?.push([before, item])
      }
      continue
    }
    // An id that is new to the middle may still be one of the head or tail: a repeat, not an addition.
    allPrev ??= new Set(prev.map((p) => p.id))
    if (allPrev.has(item.id)) return null
    diff.added.push(item)
  }
  diff.changed.push(...tailChanged.reverse())
  for (const id of middle.keys()) if (!seen.has(id)) diff.removed.push(id)
  if (!replayKeepsOrder(prev, head, endPrev, next, endNext, seen, kept, diff.added)) {
    diff.order = next.map((item) => item.id)
  }
  uniqueLists.add(next)
  return diff
}

/**
 * True when replace-in-place, remove and append turn `prev` into `next`: the kept middle items stay in their old
 * relative order, and added items come last (after the common tail too).
 */
function replayKeepsOrder<T extends Keyed>(
  prev: readonly T[],
  head: number,
  endPrev: number,
  next: readonly T[],
  endNext: number,
  nextIds: ReadonlySet<string>,
  kept: readonly string[],
  added: readonly T[],
): boolean {
  if (added.length > 0 && endNext !== next.length) return false
  let k = 0
  for (let i = head; i < endPrev; i++) {
    const id = prev[i]!.id
    if (!nextIds.has(id)) continue
    if (kept[k] !== id) return false
    k++
  }
  // Added items must all follow the kept ones in the new middle.
  for (let i = head; i < head + kept.length; i++) if (kept[i - head] !== next[i]!.id) return false
  return true
}

/**
 * A list being replayed: the value as read until the first keyed change, then an ordered map (JavaScript maps keep
 * insertion order, and setting an existing key keeps its place), so each change costs O(1) however long the list.
 * The value as read may be anything (data saved with validation off); only a keyed change needs a keyed list.
 */
export class KeyedList {
  private raw: unknown
  private map: Map<string, Keyed> | null = null

  constructor(raw: unknown) {
    this.raw = raw
  }

  private keyed(): Map<string, Keyed> {
    if (this.map === null) {
      const map = new Map<string, Keyed>()
      for (const item of keyedArray(this.raw, 'list')) {
        if (map.has(item.id)) throw patchError(`The list repeats the id "${item.id}".`)
        map.set(item.id, item)
      }
      this.map = map
      this.raw = undefined
    }
    return this.map
  }

  has(id: string): boolean {
    return this.keyed().has(id)
  }

  /** Replaces the item with the same id where it is, or appends it. */
  put(item: Keyed): void {
    this.keyed().set(item.id, item)
  }

  /** Removes an item; throws when there is none with that id. */
  remove(id: string): void {
    if (!this.keyed().delete(id)) throw patchError(`There is no item "${id}" to remove.`)
  }

  /** Puts the items in the given order; throws unless `ids` is exactly the current ids. */
  reorder(ids: readonly string[]): void {
    const map = this.keyed()
    if (ids.length !== map.size) throw patchError('The order does not list every item once.')
    const next = new Map<string, Keyed>()
    for (const id of ids) {
      const item = map.get(id)
      if (item === undefined || next.has(id)) throw patchError('The order does not list every item once.')
      next.set(id, item)
    }
    this.map = next
  }

  /** Replaces the whole list. */
  replace(raw: unknown): void {
    this.raw = raw
    this.map = null
  }

  /** Items in the list, without building anything. */
  get size(): number {
    return this.map?.size ?? (Array.isArray(this.raw) ? this.raw.length : 0)
  }

  /** The list now: a new array once it was changed by key, else the value as read. */
  value(): unknown {
    return this.map === null ? this.raw : [...this.map.values()]
  }
}

/** True for an object with a string `id`. */
export const isKeyed = (value: unknown): value is Keyed =>
  typeof value === 'object' && value !== null && typeof (value as Keyed).id === 'string'

/** Arrays found to hold only keyed items (arrays handed to a save are never changed in place afterwards). */
const keyedLists = new WeakSet<readonly unknown[]>()

/** True for an array of keyed items; each array is walked once, then remembered. */
export function isKeyedArray(value: unknown): value is Keyed[] {
  if (!Array.isArray(value)) return false
  if (keyedLists.has(value)) return true
  if (!value.every(isKeyed)) return false
  keyedLists.add(value)
  return true
}

/** `value` as a list of keyed items; throws `invalid-data` (reason `bad-patch`) when it is not one. */
export function keyedArray(value: unknown, what: string): Keyed[] {
  if (!Array.isArray(value) || !value.every(isKeyed))
    throw patchError(`The ${what} is not a list of items with ids.`)
  return value
}

/** The error of a change that cannot apply (a removal of a missing item): `invalid-data`, reason `bad-patch`. */
export function patchError(message: string): SaveflowError {
  return new SaveflowError('invalid-data', { message, details: { reason: 'bad-patch' } })
}

/** A top-level field of the project replaced whole by a `set` patch (the lists too, when ids repeat). */
export const PROJECT_FIELDS = [
  'metadata',
  'settings',
  'version',
  'lastSaved',
  'tree',
  'conversations',
] as const

/**
 * One change to the project, keyed by node id (DESIGN.md "Documents": a keyed patch journal). What `diffProject`
 * produces, what the project journal stores (one record each) and what a page sends over the rpc bridge.
 */
export type ProjectPatch =
  /** Upserts a tree node: replaced where it is, or appended. */
  | { op: 'node'; node: TreeNode }
  /** Removes a tree node. */
  | { op: 'remove'; id: string }
  /** Puts the tree nodes in this order (every id once); only when the array order changed otherwise. */
  | { op: 'order'; ids: string[] }
  /** Upserts a conversation reference. */
  | { op: 'ref'; ref: ConversationRef }
  /** Removes a conversation reference. */
  | { op: 'unref'; id: string }
  /** Puts the conversation references in this order. */
  | { op: 'refOrder'; ids: string[] }
  /** Replaces a top-level field (metadata, settings, version, lastSaved; a whole list when its ids repeat). */
  | { op: 'set'; field: (typeof PROJECT_FIELDS)[number]; value: unknown }

/**
 * The patches a page may send (strict: a patch never carries the `rev`/`at` that close a batch on disk). The data
 * they produce is validated again as a whole before it is written.
 */
export const projectPatchSchema = z.discriminatedUnion('op', [
  z.strictObject({ op: z.literal('node'), node: treeNodeSchema }),
  z.strictObject({ op: z.literal('remove'), id: idSchema }),
  z.strictObject({ op: z.literal('order'), ids: z.array(idSchema) }),
  z.strictObject({ op: z.literal('ref'), ref: conversationRefSchema }),
  z.strictObject({ op: z.literal('unref'), id: idSchema }),
  z.strictObject({ op: z.literal('refOrder'), ids: z.array(idSchema) }),
  z.strictObject({ op: z.literal('set'), field: z.enum(PROJECT_FIELDS), value: z.unknown() }),
])

/** What {@link diffProject} found besides the patches. */
export interface ProjectDiffShape {
  /**
   * True when the tree's structure may have changed: a node was added or removed, or a changed node names another
   * parent (or the tree was replaced whole). False: only the content or order of existing nodes changed, which
   * cannot break the tree's parent references.
   */
  structural: boolean
}

/**
 * The patches that turn `prev` into `next` (empty when nothing changed). Unchanged nodes shared by reference cost
 * one comparison each; a list whose ids repeat is replaced whole (`set`). `shape`, when given, is told whether the
 * tree's structure changed.
 */
export function diffProject(prev: ProjectData, next: ProjectData, shape?: ProjectDiffShape): ProjectPatch[] {
  if (shape !== undefined) shape.structural = false
  if (prev === next) return []
  const patches: ProjectPatch[] = []
  const before = prev as unknown as Record<string, unknown>
  const after = next as unknown as Record<string, unknown>
  for (const field of PROJECT_FIELDS) {
    if (field === 'tree' || field === 'conversations') continue
    if (!jsonEqual(before[field], after[field])) patches.push({ op: 'set', field, value: after[field] })
  }
  const pairs: Array<[TreeNode, TreeNode]> | undefined = shape === undefined ? undefined : []
  const tree = diffKeyed(prev.tree, next.tree, pairs)
  if (shape !== undefined) {
    shape.structural =
      tree === null ||
      tree.added.length > 0 ||
      tree.removed.length > 0 ||
      pairs!.some(([a, b]) => a.parentId !== b.parentId)
  }
  if (tree === null) patches.push({ op: 'set', field: 'tree', value: next.tree })
  else {
    for (const id of tree.removed) patches.push({ op: 'remove', id })
    for (const node of [...tree.changed, ...tree.added]) patches.push({ op: 'node', node })
    if (tree.order !== null) patches.push({ op: 'order', ids: tree.order })
  }
  const refs = diffKeyed(prev.conversations, next.conversations)
  if (refs === null) patches.push({ op: 'set', field: 'conversations', value: next.conversations })
  else {
    for (const id of refs.removed) patches.push({ op: 'unref', id })
    for (const ref of [...refs.changed, ...refs.added]) patches.push({ op: 'ref', ref })
    if (refs.order !== null) patches.push({ op: 'refOrder', ids: refs.order })
  }
  return patches
}
