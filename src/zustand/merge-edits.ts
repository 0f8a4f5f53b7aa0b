/**
 * The rule for edits made before a store was hydrated (zustand issue 562 is what happens without one: the initial
 * state is written over the file before the file was read). Three values meet when a load finishes:
 *
 * - `base`: the persisted slice when hydration started (what the app had before it knew the file);
 * - `edited`: the slice when the load finished (base plus whatever the user did meanwhile);
 * - `loaded`: the document as read from disk (after recovery and migration).
 *
 * The result is a three-way merge, **edits win**: what the app did not touch comes from disk, what it changed is
 * kept. Merging goes down plain objects key by key, and down keyed lists (arrays of records with a string `id`,
 * like the feature tree, conversation references and messages) record by record, so a node added before the load is
 * appended to the loaded tree instead of replacing it. Anything else the app changed replaces the loaded value.
 *
 * The merge runs once per hydration, never on the hot path of an edit.
 */

/** A three-way merge of a persisted slice; see {@link mergeEarlyEdits} for the built-in one. */
export type MergeEdits<P> = (base: P, edited: P, loaded: P) => P

/**
 * Merges the edits made between `base` and `edited` onto `loaded` (edits win; see the module comment). Unchanged
 * parts of `loaded` and of `edited` are returned as the same objects, so a later diff by reference still works.
 */
export function mergeEarlyEdits<P>(base: P, edited: P, loaded: P): P {
  return merge(base, edited, loaded) as P
}

function merge(base: unknown, edited: unknown, loaded: unknown): unknown {
  // Scenario A: the app did not touch this part: the disk has the final word.
  if (Object.is(edited, base)) return loaded
  // Scenario B: the disk has what the app started from (a first run whose empty data was the app's): keep the edits.
  if (Object.is(loaded, base)) return edited
  if (isKeyedList(base) && isKeyedList(edited) && isKeyedList(loaded)) return mergeKeyed(base, edited, loaded)
  if (isRecord(base) && isRecord(edited) && isRecord(loaded)) return mergeRecords(base, edited, loaded)
  // Scenario C: a value the app replaced (a title, a number, a list without ids): the edit wins.
  return edited
}

type JsonRecord = Record<string, unknown>
type Keyed = JsonRecord & { id: string }

function mergeRecords(base: JsonRecord, edited: JsonRecord, loaded: JsonRecord): JsonRecord {
  const result: JsonRecord = { ...loaded }
  let changed = false
  for (const key of Object.keys(edited)) {
    const inBase = Object.hasOwn(base, key)
    if (inBase && Object.is(edited[key], base[key])) continue
    const value = inBase ? merge(base[key], edited[key], loaded[key]) : edited[key]
    if (!Object.is(value, loaded[key]) || !Object.hasOwn(loaded, key)) {
      result[key] = value
      changed = true
    }
  }
  for (const key of Object.keys(base)) {
    // Deleted by the app before the load: stays deleted.
    if (!Object.hasOwn(edited, key) && Object.hasOwn(result, key)) {
      delete result[key]
      changed = true
    }
  }
  return changed ? result : loaded
}

function mergeKeyed(base: readonly Keyed[], edited: readonly Keyed[], loaded: readonly Keyed[]): Keyed[] {
  const baseById = indexById(base)
  const editedById = indexById(edited)
  const loadedIds = new Set<string>()
  const result: Keyed[] = []
  for (const item of loaded) {
    loadedIds.add(item.id)
    const before = baseById.get(item.id)
    const after = editedById.get(item.id)
    if (before !== undefined && after === undefined) continue // deleted by the app
    if (before === undefined || after === undefined || Object.is(before, after)) result.push(item)
    else result.push(merge(before, after, item) as Keyed)
  }
  for (const item of edited) {
    if (loadedIds.has(item.id)) continue
    const before = baseById.get(item.id)
    // Added by the app, or changed by it after the disk dropped it: kept. Unchanged and gone from disk: dropped.
    if (before === undefined || !Object.is(before, item)) result.push(item)
  }
  return result
}

function indexById(items: readonly Keyed[]): Map<string, Keyed> {
  const map = new Map<string, Keyed>()
  for (const item of items) map.set(item.id, item)
  return map
}

function isRecord(value: unknown): value is JsonRecord {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/** An array of records with unique string ids (an empty array counts: it is the usual `base`). */
function isKeyedList(value: unknown): value is Keyed[] {
  if (!Array.isArray(value)) return false
  const seen = new Set<string>()
  for (const item of value) {
    if (!isRecord(item) || typeof item.id !== 'string' || seen.has(item.id)) return false
    seen.add(item.id)
  }
  return true
}
