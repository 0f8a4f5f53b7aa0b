import type { AnyActorRef } from 'xstate'
import type { SaveCoordinator } from '../../../src/core/save-coordinator'
import type {
  AggregateStatus,
  DocumentKind,
  DocumentStatus,
  SaveEvent,
  SaveStatus,
} from '../../../src/core/status'

/**
 * A coordinator whose statuses a test sets directly: the hooks and components are tested against the interface,
 * so a test can put a document in any state without driving a save machine there.
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
  const notify = () => {
    for (const listener of [...listeners]) listener()
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
    actor: undefined as unknown as AnyActorRef,
    stop: () => {},
  }
}
