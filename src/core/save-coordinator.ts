import type { AnyActorRef } from 'xstate'
import type { PersistenceConfigInput } from './config'
import type { SaveflowErrorData } from './errors'
import type { AggregateStatus, DocumentKind, DocumentStatus, SaveEvent } from './status'

/**
 * The timer source of the actors, the same shape as xstate's clock (`SimulatedClock` fits). Machines never call
 * `setTimeout` or `Date.now` themselves.
 */
export interface Clock {
  setTimeout(fn: (...args: unknown[]) => void, timeout: number): unknown
  clearTimeout(id: unknown): void
}

/** What the write actor is given: the validated data of one revision, and a signal that aborts the write. */
export interface WriteRequest {
  key: string
  kind: DocumentKind
  data: unknown
  revision: number
  signal: AbortSignal
}

/** What a write reports back when it is durable. */
export interface WriteResult {
  /** Bytes put on disk (for metrics). */
  bytes: number
}

/** Writes one revision durably; resolves only once it is durable (DESIGN.md rule 4). Throws a `SaveflowError`. */
export type WriteFn = (request: WriteRequest) => Promise<WriteResult>

/** Validates data before it is written; returns the data to write, or throws a `SaveflowError` `invalid-data`. */
export type ValidateFn = (request: {
  key: string
  kind: DocumentKind
  data: unknown
}) => Promise<unknown> | unknown

/** Options of {@link createSaveCoordinator}. */
export interface SaveCoordinatorOptions {
  write: WriteFn
  /** @default accepts everything */
  validate?: ValidateFn
  config?: PersistenceConfigInput
  /** The actor clock; a `SimulatedClock` in tests and stories. @default the real clock */
  clock?: Clock
  /** Source of jitter in [0, 1). @default Math.random */
  random?: () => number
  /** Current time in ms, read by the facade for `lastSavedAt` and events; must agree with `clock`. @default Date.now */
  now?: () => number
}

/** Options of {@link SaveCoordinator.register}. */
export interface RegisterOptions {
  kind: DocumentKind
  /**
   * False while the document has not been read from disk: edits are kept but nothing is written until
   * {@link SaveCoordinator.markLoaded}. @default true
   */
  loaded?: boolean
  /** Per-document overrides of the workspace configuration (for example a longer debounce for a cache). */
  config?: PersistenceConfigInput
}

/** How one document's flush ended. */
export interface SaveOutcome {
  key: string
  /** `saved`: durable; `failed`: saving stopped with `error`; `timeout`: still unsaved when the deadline passed. */
  result: 'saved' | 'failed' | 'timeout'
  /** The revision that is durable after the flush. */
  savedRevision: number
  /** The newest revision in memory. */
  pendingRevision: number
  error?: SaveflowErrorData
}

/** One save, as kept in the per-document ring of recent figures. */
export interface SaveMetric {
  revision: number
  durationMs: number
  bytes: number
  at: number
}

/**
 * The one object applications use to save: it owns the coordinator actor and hides its events.
 * Everything a UI shows is derived from it (`status`, `aggregate`) or heard from it (`on`).
 */
export interface SaveCoordinator {
  /** Starts saving a document. Registering a key twice is an error. */
  register(key: string, options: RegisterOptions): void
  /** Flushes the document, then stops its actor. */
  unregister(key: string): Promise<SaveOutcome>
  /** The document was read from disk at `revision`; saving may begin (edits made meanwhile are saved next). */
  markLoaded(key: string, options?: { revision?: number }): void
  /** Records new data for a document; returns the new pending revision. */
  change(key: string, data: unknown): number
  /** Saves one document now (skipping the debounce) and resolves when it is saved or has failed. */
  flush(key: string, options?: { deadlineMs?: number }): Promise<SaveOutcome>
  /** Saves every unsaved document now; resolves with each one's outcome by the deadline. */
  flushAll(options?: { deadlineMs?: number }): Promise<SaveOutcome[]>
  /** Retries a failed document now. */
  retry(key: string): void
  /** Holds every write (a restore in progress); edits are kept. */
  pause(): void
  /** Lets writes go again. */
  resume(): void
  /** Marks every document read-only (`locked`, `future-version`), or writable again with `null`. */
  setReadOnly(reason: SaveflowErrorData | null): void
  /** The derived status of one document. */
  status(key: string): DocumentStatus
  /** The derived status of all documents. */
  aggregate(): AggregateStatus
  /** Every registered key. */
  keys(): string[]
  /** Recent save figures of a document (a bounded ring, newest last). */
  metrics(key: string): readonly SaveMetric[]
  /** Called after any status change; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void
  /** Listens to emitted save events (toasts, logs); returns the unsubscribe function. */
  on<T extends SaveEvent['type']>(
    type: T | '*',
    handler: (event: Extract<SaveEvent, { type: T }>) => void,
  ): () => void
  /** The coordinator actor, for `@xstate/react` selectors. */
  readonly actor: AnyActorRef
  /** Stops every actor; pending timers are cancelled. Call `flushAll` first to save. */
  stop(): void
}
