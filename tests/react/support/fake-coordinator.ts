import type { AnyActorRef, Observer } from 'xstate'
import type { SaveCoordinator } from '../../../src/core/save-coordinator'
import type { SaveCoordinatorSnapshot } from '../../../src/core/save-selectors'
import type {
  AggregateStatus,
  DocumentKind,
  DocumentStatus,
  SaveEvent,
  SaveStatus,
} from '../../../src/core/status'

/**
 * A coordinator whose statuses a test sets directly: the hooks and components are tested against the interface,
 * so a test can put a document in any state without driving a save machine there. Its `actor` is a stand-in with
 * the shape of the coordinator's snapshot that the selectors read (`useSelector` runs on it), so the hooks see the
 * same statuses `status` and `aggregate` report.
 */
export interface FakeCoordinator extends SaveCoordinator {
  /** Registers (if needed) and updates a document, then notifies subscribers. */
  set(key: string, patch: Partial<DocumentStatus>): void
  /** Notifies subscribers without changing anything (the real coordinator may notify for changes a hook ignores). */
  poke(): void
  /** Emits a save event to `on` listeners. */
  emit(event: SaveEvent): void
  /** Keys passed to `retry`, in order. */
  readonly retried: string[]
  /** How many `on` listeners are attached. */
  listenerCount(): number
}

const URGENCY: readonly SaveStatus[] = [
  'failed',
  'readOnly',
  'retrying',
  'saving',
  'unsaved',
  'loading',
  'saved',
]

/** The save machine state each status is derived from (`selectSaveStatus` in reverse). */
const STATE_OF: Readonly<Record<SaveStatus, string>> = {
  loading: 'loading',
  saved: 'idle',
  unsaved: 'debouncing',
  saving: 'writing',
  retrying: 'retrying',
  failed: 'failed',
  readOnly: 'readOnly',
}

/** What the selectors read of one save actor's snapshot, for a status a test set. */
function saveActorSnapshotOf(doc: DocumentStatus) {
  const state = STATE_OF[doc.status]
  return {
    status: 'active',
    value: state,
    matches: (value: string) => value === state,
    context: {
      key: doc.key,
      kind: doc.kind,
      pendingRevision: doc.pendingRevision,
      savedRevision: doc.savedRevision,
      attempt: doc.attempt,
      settings: { retry: { maxAttempts: doc.maxAttempts } },
      nextRetryAt: doc.nextRetryAt,
      lastError: doc.lastError,
      readOnlyReason: doc.lastError,
      lastSavedAt: doc.lastSavedAt,
    },
  }
}

/** A document in `saved` with nothing pending, the state most tests start from. */
export function docStatus(
  key: string,
  patch: Partial<DocumentStatus> = {},
  kind: DocumentKind = 'project',
): DocumentStatus {
  return {
    key,
    kind,
    status: 'saved',
    pendingRevision: 0,
    savedRevision: 0,
    attempt: 0,
    maxAttempts: 5,
    nextRetryAt: null,
    lastError: null,
    lastSavedAt: null,
    ...patch,
  }
}

export function createFakeCoordinator(): FakeCoordinator {
  const docs = new Map<string, DocumentStatus>()
  const listeners = new Set<() => void>()
  const handlers = new Set<{ type: string; fn: (event: never) => void }>()
  const retried: string[] = []
  const observers = new Set<Partial<Observer<unknown>>>()
  // A new object on every notification, as the real coordinator's snapshot gets one whenever a child reports.
  let snapshot = snapshotOf(docs)
  const notify = () => {
    snapshot = snapshotOf(docs)
    for (const listener of [...listeners]) listener()
    for (const observer of [...observers]) observer.next?.(snapshot)
  }
  const actor = {
    getSnapshot: () => snapshot,
    subscribe(observer: Partial<Observer<unknown>>) {
      observers.add(observer)
      return { unsubscribe: () => observers.delete(observer) }
    },
  }
  const unsupported = () => {
    throw new Error('not used by the React layer')
  }
  return {
    retried,
    set(key, patch) {
      // A fresh object every time, as the real coordinator derives one per call.
      docs.set(key, { ...(docs.get(key) ?? docStatus(key)), ...patch })
      notify()
    },
    poke: notify,
    emit(event) {
      for (const h of [...handlers]) if (h.type === '*' || h.type === event.type) h.fn(event as never)
    },
    listenerCount: () => handlers.size,
    register: (key, options) => {
      docs.set(key, docStatus(key, {}, options.kind))
      notify()
    },
    unregister: unsupported,
    markLoaded: unsupported,
    change: unsupported,
    flush: unsupported,
    flushAll: unsupported,
    retry: (key) => {
      retried.push(key)
    },
    pause: unsupported,
    resume: unsupported,
    setReadOnly: unsupported,
    setDocumentReadOnly: unsupported,
    status(key) {
      const doc = docs.get(key)
      if (doc === undefined) throw new Error(`unknown document ${key}`)
      return { ...doc }
    },
    aggregate(): AggregateStatus {
      const counts: Record<SaveStatus, number> = {
        loading: 0,
        saved: 0,
        unsaved: 0,
        saving: 0,
        retrying: 0,
        failed: 0,
        readOnly: 0,
      }
      for (const doc of docs.values()) counts[doc.status] += 1
      const status = URGENCY.find((s) => counts[s] > 0) ?? 'saved'
      return { status, counts, writesInFlight: counts.saving }
    },
    keys: () => [...docs.keys()],
    metrics: () => [],
    subscribe(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    on(type, handler) {
      const entry = { type, fn: handler as (event: never) => void }
      handlers.add(entry)
      return () => handlers.delete(entry)
    },
    actor: actor as unknown as AnyActorRef,
    stop: () => {},
  }
}

/** The coordinator snapshot the selectors read: each document's save actor, and a write slot per saving document. */
function snapshotOf(docs: ReadonlyMap<string, DocumentStatus>): SaveCoordinatorSnapshot {
  const entries = [...docs.values()]
  const context = {
    docs: Object.fromEntries(
      entries.map((doc) => {
        const saveSnapshot = saveActorSnapshotOf(doc)
        return [doc.key, { ref: { getSnapshot: () => saveSnapshot } }]
      }),
    ),
    holders: entries.filter((doc) => doc.status === 'saving').map((doc) => ({ key: doc.key, ticket: 0 })),
    queue: [],
    paused: false,
    metrics: {},
  }
  return { status: 'active', context } as unknown as SaveCoordinatorSnapshot
}
