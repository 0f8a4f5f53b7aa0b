import type { PersistenceConfigInput } from '../core/config'
import { definitionFor } from '../core/documents'
import { SaveflowError, type SaveflowErrorData, toSaveflowError } from '../core/errors'
import type {
  FailedDocument,
  NeedsUserDocument,
  OpenResult,
  ReadyDocument,
  WorkspaceSession,
  WorkspaceSessionEvent,
} from '../core/workspace-session'
import { type MergeEdits, mergeEarlyEdits } from './merge-edits'

/**
 * Binds a zustand store to one saveflow document: the store is hydrated from the file (through the load machine,
 * with recovery), and from then on every change of its persisted slice becomes `session.change(key, slice)`, which
 * the save coordinator debounces, validates and writes durably.
 *
 * ## Moving over from `persist`
 *
 * | zustand `persist` | `bindStore` | notes |
 * |---|---|---|
 * | `name` (storage key) | `key` | a document key: `project`, `settings`, `conversation/<id>`, `cache/<name>`; `name` is only a label here |
 * | `storage: createJSONStorage(...)` | `session` | the session owns codec, checksum, atomic writes, backups |
 * | `partialize` | `partialize` | same meaning; the default also drops functions (actions), which persist's `JSON.stringify` dropped |
 * | `merge(persisted, current)` | `merge(persisted, current)` | same meaning and the same default (`{ ...current, ...persisted }`) |
 * | `version` + `migrate` | document `schemaVersion` + `migrations` | files are migrated by the repository, with a backup first; `version`/`migrate` here only adapt data of another version the store still receives (a read-only file from a newer app) |
 * | `onRehydrateStorage: (s) => (state, error) => ...` | `onRehydrate: (state, outcome) => ...` | called once per hydration with its outcome (`failed` carries the error) |
 * | `skipHydration` + `persist.rehydrate()` | `rehydrate()` | hydration starts on bind |
 * | `persist.hasHydrated()` / `onFinishHydration` | `hydration` / `whenHydrated()` / `onHydration` | four states instead of a boolean: `needsUser` and `failed` are real outcomes |
 * | `persist.clearStorage()` | - | documents are never deleted by a store; restore a backup through the session |
 *
 * The move itself: replace `persist(creator, options)` with the plain `creator`, keep `partialize` and `merge`, and
 * call `bindStore(store, { session, key, partialize, merge })` where the store is created. Data a user has in
 * localStorage can be carried over once in `onRehydrate` (when `outcome.document.source === 'empty'`).
 *
 * ## Edits made before hydration finished
 *
 * Nothing is sent to the session until the load finished, so nothing the app does meanwhile can reach the file
 * before the file was read (zustand issue 562). When the load finishes, the loaded data and the early edits are
 * combined by a three-way merge, **edits win** ({@link mergeEarlyEdits}): `base` is the slice when hydration
 * started, `edited` the slice when it finished, `loaded` what came from disk. What the app did not touch comes from
 * disk; what it changed is kept; keyed lists (records with an `id`) merge record by record, so a node added before
 * the load is appended to the loaded tree. The merged slice is then saved as the next revision, and only if it
 * differs from what loaded. A store with other needs passes its own `mergeEdits`.
 *
 * Two cases follow from the same rule. First run (no file, no backups): the store's slice when hydration started is
 * the document's empty data, so the store keeps its state and, with no early edit, nothing is written until the
 * first edit (`saveNew` writes it at once). `rehydrate()` after a flush that failed: the store holds data the file
 * never received, so the whole slice counts as edited and wins over the older file.
 */

/** What a binding needs of a zustand store: vanilla `createStore`, React `create`, with or without immer. */
export interface BindableStore<S> {
  getState(): S
  /** Called with `replace: true` only: a hydrated state is complete. `NoInfer`: the state type comes from `getState`. */
  setState(state: NoInfer<S>, replace: true): void
  subscribe(listener: (state: S, previous: S) => void): () => void
}

/** What a binding needs of a session (a `WorkspaceSession` fits; tests may pass a smaller fake). */
export type BindableSession = Pick<WorkspaceSession, 'open' | 'result' | 'change' | 'closeDocument' | 'on'>

/**
 * Where a binding's hydration stands.
 * - `hydrating`: the load runs; edits are kept in the store, nothing is sent.
 * - `hydrated`: the store holds the document's data; changes are saved.
 * - `needsUser`: nothing valid was left on disk; nothing is written until the user chooses (recovery dialog).
 * - `failed`: the file could not be read (or `migrate` threw); nothing is written until a retry or `rehydrate()`.
 */
export type HydrationStatus = 'hydrating' | 'hydrated' | 'needsUser' | 'failed'

/** How one hydration settled; `document` is the session's result, whose methods continue the load. */
export type HydrationOutcome<P> =
  | { status: 'hydrated'; document: ReadyDocument<P> }
  | { status: 'needsUser'; document: NeedsUserDocument<P> }
  | { status: 'failed'; error: SaveflowErrorData; document: FailedDocument<P> | null }

/** Options of {@link bindStore}. */
export interface BindStoreOptions<S, P> {
  /** The workspace session that loads and saves the document. */
  session: BindableSession
  /** The document key (persist's `name`): `project`, `settings`, `conversation/<id>`, `cache/<name>`. */
  key: string
  /** A label for errors and logs. @default key */
  name?: string
  /**
   * Picks the persisted slice (the document's data) from the state. Returning `undefined` means there is nothing to
   * save (a deleted conversation). Called on every store change: keep it cheap and let it return the same objects.
   * @default the state without its function-valued fields (the actions)
   */
  partialize?: (state: S) => P
  /**
   * Puts a persisted slice into the state: called with the merged slice after hydration and with restored data
   * after a backup restore. @default `(persisted, current) => ({ ...current, ...persisted })`
   */
  merge?: (persisted: P, current: S) => S
  /** Combines early edits with the loaded data (see "Edits made before hydration finished"). @default {@link mergeEarlyEdits} */
  mergeEdits?: MergeEdits<P>
  /** The document schema version the store's slice follows. @default the key's current `schemaVersion` */
  version?: number
  /**
   * Converts loaded data of another schema version than `version` (only a read-only file from a newer app reaches a
   * store that way: the repository migrates older files itself). Throwing fails the hydration.
   * @default the data is used as it is (it is read-only and never saved)
   */
  migrate?: (persisted: unknown, version: number) => P
  /** Called once each time a hydration settles, with the state after it and the outcome. Must not throw. */
  onRehydrate?: (state: S, outcome: HydrationOutcome<P>) => void
  /**
   * Saves the slice once a document that did not exist yet hydrated (no file, no backups), so it exists on disk
   * before its first edit (a new conversation the project already lists). @default false: a new document is
   * written on its first edit
   */
  saveNew?: boolean
  /** Per-document persistence settings passed to `session.open` (debounce, retry, autoSave). @default the session's */
  config?: PersistenceConfigInput
}

/** What {@link bindStore} returns. */
export interface StoreBinding<P> {
  readonly key: string
  readonly name: string
  /** Where hydration stands now. */
  readonly hydration: HydrationStatus
  /** The latest settled outcome (`null` while the first hydration runs). */
  readonly outcome: HydrationOutcome<P> | null
  /** Why the document is not saved: a file from a newer app. `null` when it saves normally. */
  readonly readOnly: ReadyDocument<P>['readOnly']
  /**
   * Resolves when the current hydration settles (`hydrated`, `needsUser` or `failed`); at once when it already has.
   * Never rejects: check `outcome.status`.
   */
  whenHydrated(): Promise<HydrationOutcome<P>>
  /**
   * Reads the document again. Hydrated: the document is flushed and closed in the session, then opened again (edits
   * made meanwhile merge as at the first hydration). `needsUser` or `failed`: the load retries from the start.
   */
  rehydrate(): Promise<HydrationOutcome<P>>
  /** Listens to hydration status changes (for `useSyncExternalStore`); returns the unsubscribe function. */
  onHydration(listener: (hydration: HydrationStatus) => void): () => void
  /**
   * Stops sending changes and listening to the session. The document stays open in the session (its unsaved
   * changes are still saved); call `session.closeDocument(key)` to forget it.
   */
  unbind(): void
}

/**
 * Connects a zustand store to a document. Hydration starts at once; see the module comment for the rules. Throws
 * `invalid-id` for a key that is not a document key.
 */
export function bindStore<S, P = S>(
  store: BindableStore<S>,
  options: BindStoreOptions<S, P>,
): StoreBinding<P> {
  const { session, key } = options
  const name = options.name ?? key
  const partialize = options.partialize ?? (withoutFunctions as (state: S) => P)
  const merge = options.merge ?? defaultMerge
  const mergeEdits = options.mergeEdits ?? mergeEarlyEdits
  const version = options.version ?? definitionFor(key).schemaVersion

  let hydration: HydrationStatus = 'hydrating'
  let outcome: HydrationOutcome<P> | null = null
  let bound = true
  /** The slice when the current hydration started (see "Edits made before hydration finished"). */
  let base: P | typeof EVERYTHING_EDITED = partialize(store.getState())
  /** The slice last sent to (or received from) the session: the hot path compares against it. */
  let lastSlice: P | undefined
  /** The document last applied: the same load is reported by an event and by `open`, and applied once. */
  let applied: ReadyDocument<P> | null = null
  let readOnly: ReadyDocument<P>['readOnly'] = null
  let waiters: Array<(outcome: HydrationOutcome<P>) => void> = []
  /** Counts calls to the session that may settle a hydration (`open`, `retry`). */
  let attempts = 0
  /** True once a change could not reach the session: the store then holds data the file may never have seen. */
  let unsent = false
  const listeners = new Set<(hydration: HydrationStatus) => void>()

  const setHydration = (next: HydrationStatus) => {
    if (next === hydration) return
    hydration = next
    for (const listener of [...listeners]) listener(next)
  }

  const settle = (next: HydrationOutcome<P>) => {
    outcome = next
    setHydration(next.status)
    const pending = waiters
    waiters = []
    for (const resolve of pending) resolve(next)
    options.onRehydrate?.(store.getState(), next)
  }

  const fail = (error: unknown, document: FailedDocument<P> | null = null) =>
    settle({ status: 'failed', error: toSaveflowError(error).toJSON(), document })

  /** The load finished: merge the early edits onto the loaded data, put it in the store, save the merge if new. */
  function apply(document: ReadyDocument<P>) {
    if (document === applied) return
    applied = document
    let loaded: P
    try {
      const loadedVersion = document.readOnly?.fileVersion ?? definitionFor(key).schemaVersion
      // Empty data is the store's own slice (or the session's current-version default): nothing to convert.
      loaded =
        loadedVersion !== version && options.migrate !== undefined && document.source !== 'empty'
          ? options.migrate(document.data, loadedVersion)
          : document.data
    } catch (error) {
      fail(error)
      return
    }
    const edited = partialize(store.getState())
    const persisted = base === EVERYTHING_EDITED ? edited : mergeEdits(base, edited, loaded)
    store.setState(merge(persisted, store.getState()), true)
    unsent = false
    readOnly = document.readOnly
    const slice = partialize(store.getState())
    lastSlice = slice
    // Sent before `settle`: a change made by `onRehydrate` or a hydration listener is then newer, and saved after it.
    const firstRun = document.source === 'empty' && document.recovery === null
    if (readOnly === null && slice !== undefined) {
      if (!sameSlice(slice, loaded) || (options.saveNew === true && firstRun)) session.change(key, slice)
    }
    settle({ status: 'hydrated', document })
  }

  /** A settled load result, from `open` or from the session's events; ignored once this hydration settled. */
  function handle(result: OpenResult<P>) {
    if (!bound) return
    if (result.status === 'ready') {
      if (hydration !== 'hydrated') apply(result)
      return
    }
    if (hydration === 'hydrated') return
    if (result.status === 'needsUser') {
      if (outcome?.document !== result) settle({ status: 'needsUser', document: result })
    } else if (outcome?.document !== result) {
      fail(result.error, result)
    }
  }

  function onSessionEvent(event: WorkspaceSessionEvent) {
    if (!bound || event.key !== key) return
    switch (event.type) {
      case 'document.loaded':
        handle(event.document as ReadyDocument<P>)
        break
      case 'document.restored': {
        // Scenario: a backup was restored over the open document. The restore wins (the session dropped newer
        // unsaved edits too). The same restore that ended a `needsUser` load was already applied, with its merge.
        if (hydration !== 'hydrated' || event.restored.data === applied?.data) break
        store.setState(merge(event.restored.data as P, store.getState()), true)
        lastSlice = partialize(store.getState())
        // The session accepts saves of a restored document again, even one that opened read-only.
        readOnly = null
        break
      }
      // These carry no continuation (chooseBackup, retry): the session's result has it. A retry or a rejected
      // backup choice moves the load without going through this binding.
      case 'document.needsUser':
      case 'document.loadFailed':
        session.result(key).then(
          (result) => handle(result as OpenResult<P>),
          () => {},
        )
        break
    }
  }

  /** The hot path: one `partialize` and an `Object.is` per top-level key of the slice. */
  const unsubscribeStore = store.subscribe((state) => {
    if (!bound || hydration !== 'hydrated' || readOnly !== null) return
    const slice = partialize(state)
    if (slice === undefined || sameSlice(slice, lastSlice)) return
    lastSlice = slice
    try {
      session.change(key, slice)
    } catch (error) {
      // Scenario: the document was closed in the session behind this binding's back. Stop sending; `rehydrate()`
      // opens it again, and the store's data counts as edited then.
      unsent = true
      fail(error)
    }
  })
  const unsubscribeSession = session.on('*', onSessionEvent)

  function open(): Promise<HydrationOutcome<P>> {
    const settled = whenHydrated()
    const openOptions = {
      ...(base === undefined || base === EVERYTHING_EDITED ? {} : { emptyData: base }),
      ...(options.config === undefined ? {} : { config: options.config }),
    }
    const attempt = ++attempts
    // Only the newest attempt may settle: an earlier `open` can resolve after `rehydrate` began another one.
    session.open(key, openOptions).then(
      (result) => {
        if (attempt === attempts) handle(result as OpenResult<P>)
      },
      (error: unknown) => {
        if (attempt === attempts && bound && hydration === 'hydrating') fail(error)
      },
    )
    return settled
  }

  function whenHydrated(): Promise<HydrationOutcome<P>> {
    if (hydration !== 'hydrating' && outcome !== null) return Promise.resolve(outcome)
    return new Promise((resolve) => waiters.push(resolve))
  }

  async function rehydrate(): Promise<HydrationOutcome<P>> {
    if (!bound) throw new SaveflowError('aborted', { message: `The binding of "${name}" was unbound.` })
    if (hydration === 'hydrating') return whenHydrated()
    const previous = outcome
    // From here on, results of earlier attempts still on their way are stale.
    attempts++
    base = unsent ? EVERYTHING_EDITED : partialize(store.getState())
    applied = null
    setHydration('hydrating')
    const settled = whenHydrated()
    if (previous !== null && previous.status !== 'hydrated' && previous.document !== null) {
      const attempt = ++attempts
      previous.document.retry().then(
        (result) => {
          if (attempt === attempts) handle(result)
        },
        (error: unknown) => {
          if (attempt === attempts) fail(error)
        },
      )
      return settled
    }
    try {
      const closed = await session.closeDocument(key)
      // Scenario: the flush before closing did not make the store's data durable. Reading the file now would bring
      // back older data, so everything in the store counts as an edit and wins over what loads.
      if (closed.result !== 'saved') base = EVERYTHING_EDITED
    } catch {
      // Not open in the session (closed by someone else): open it afresh.
    }
    open()
    return settled
  }

  open()

  return {
    key,
    name,
    get hydration() {
      return hydration
    },
    get outcome() {
      return outcome
    },
    get readOnly() {
      return readOnly
    },
    whenHydrated,
    rehydrate,
    onHydration(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    unbind() {
      if (!bound) return
      bound = false
      unsubscribeStore()
      unsubscribeSession()
      // Whoever awaits a hydration that can no longer finish hears so, instead of waiting forever.
      const pending = waiters
      waiters = []
      const aborted = new SaveflowError('aborted', { message: `The binding of "${name}" was unbound.` })
      for (const resolve of pending) resolve({ status: 'failed', error: aborted.toJSON(), document: null })
    },
  }
}

/** Marks a hydration after a failed flush: the whole slice in the store counts as edited. */
const EVERYTHING_EDITED: unique symbol = Symbol('everything edited')

function defaultMerge<S, P>(persisted: P, current: S): S {
  return { ...current, ...persisted } as S
}

/** persist's default slice was `JSON.stringify(state)`, which drops the actions; a document must not hold them. */
function withoutFunctions(state: unknown): unknown {
  if (typeof state !== 'object' || state === null) return state
  const slice: Record<string, unknown> = {}
  for (const [field, value] of Object.entries(state)) if (typeof value !== 'function') slice[field] = value
  return slice
}

/** Equal by reference, or objects whose own keys hold the same references (zustand and immer share unchanged parts). */
function sameSlice(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (Array.isArray(a) !== Array.isArray(b)) return false
  const keysA = Object.keys(a)
  if (keysA.length !== Object.keys(b).length) return false
  for (const field of keysA) {
    if (!Object.hasOwn(b, field)) return false
    if (!Object.is((a as Record<string, unknown>)[field], (b as Record<string, unknown>)[field])) return false
  }
  return true
}
