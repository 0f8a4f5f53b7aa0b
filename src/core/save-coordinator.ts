import { type AnyActorRef, createActor } from 'xstate'
import { saveCoordinatorMachine } from '../../machines/saveCoordinatorMachine'
import { saveMachine } from '../../machines/saveMachine'
import { type PersistenceConfig, type PersistenceConfigInput, resolvePersistenceConfig } from './config'
import { SaveflowError, type SaveflowErrorData } from './errors'
import { createSaveActors } from './save-actors'
import { flushAndWait } from './save-outcomes'
import {
  selectAggregateStatus,
  selectDocumentActor,
  selectKeys,
  selectMetrics,
  selectSaveActorStatus,
} from './save-selectors'
import {
  type AggregateStatus,
  type DocumentKind,
  type DocumentStatus,
  FLUSH_PRIORITY,
  KIND_PRIORITY,
  type SaveEvent,
} from './status'

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
  /**
   * Flushes the document, then stops its actor (also when the flush failed or timed out: the outcome says so).
   * `deadlineMs` bounds the flush, as in {@link SaveCoordinator.flush}.
   */
  unregister(key: string, options?: { deadlineMs?: number }): Promise<SaveOutcome>
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
  /**
   * Marks one document read-only (a file from a newer app: it is never written), or writable again with `null`.
   * With `null` it takes the workspace's state again; a later {@link SaveCoordinator.setReadOnly} applies to it too.
   */
  setDocumentReadOnly(key: string, reason: SaveflowErrorData | null): void
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

/** Timers of the host, used when no clock is given. Wrapped so the ids stay opaque to the actors. */
const hostClock: Clock = {
  setTimeout: (fn, timeout) => setTimeout(fn, timeout),
  clearTimeout: (id) => clearTimeout(id as ReturnType<typeof setTimeout>),
}

/** A `SimulatedClock` knows the time; using it by default keeps `now` and the timers in agreement. */
function nowOf(clock: Clock): () => number {
  const withNow = clock as Clock & { now?: () => number }
  return typeof withNow.now === 'function' ? () => (withNow.now as () => number)() : Date.now
}

/** Workspace settings with one document's overrides on top; nested groups merge field by field. */
function mergeConfig(base: PersistenceConfigInput, override: PersistenceConfigInput = {}): PersistenceConfig {
  return resolvePersistenceConfig({
    ...base,
    ...override,
    retry: { ...base.retry, ...override.retry },
    validation: { ...base.validation, ...override.validation },
  })
}

/**
 * Creates the coordinator actor and the typed object that drives it. Nothing outside sends raw events: every
 * command here maps to one event of the coordinator or of a document's save actor.
 */
export function createSaveCoordinator(options: SaveCoordinatorOptions): SaveCoordinator {
  const base = options.config ?? {}
  const workspace = resolvePersistenceConfig(base)
  const clock = options.clock ?? hostClock
  const configs = new Map<string, PersistenceConfig>()
  const actors = createSaveActors({
    write: options.write,
    validate: options.validate,
    shouldValidate: (key) => configs.get(key)?.validation.enabled ?? workspace.validation.enabled,
    now: options.now ?? nowOf(clock),
    random: options.random ?? Math.random,
  })
  const machine = saveCoordinatorMachine.provide({ actors: { save: saveMachine.provide({ actors }) } })
  const actor = createActor(machine, {
    clock,
    input: { maxConcurrentWrites: workspace.maxConcurrentWrites, flushPriority: FLUSH_PRIORITY },
  })
  actor.start()

  const documentActor = (key: string) => {
    const ref = selectDocumentActor(actor.getSnapshot(), key)
    if (ref === undefined) {
      throw new SaveflowError('not-found', {
        message: `No document "${key}" is registered.`,
        details: { key },
      })
    }
    return ref
  }
  const flush = (key: string, flushOptions: { deadlineMs?: number } = {}) => {
    const ref = documentActor(key)
    return flushAndWait([[key, ref]], () => ref.send({ type: 'save.flush' }), clock, flushOptions.deadlineMs)
  }

  return {
    actor,
    register(key, { kind, loaded = true, config }) {
      if (selectDocumentActor(actor.getSnapshot(), key) !== undefined) {
        throw new SaveflowError('invalid-id', {
          message: `Document "${key}" is already registered.`,
          details: { key },
        })
      }
      const resolved = mergeConfig(base, config)
      configs.set(key, resolved)
      const settings = {
        autoSave: resolved.autoSave,
        debounceMs: resolved.saveDebounce,
        maxWaitMs: resolved.maxWait,
        retry: resolved.retry,
      }
      actor.send({
        type: 'doc.register',
        key,
        input: { kind, priority: KIND_PRIORITY[kind], settings, loaded },
      })
    },
    async unregister(key, unregisterOptions = {}) {
      const [result] = await flush(key, unregisterOptions)
      actor.send({ type: 'doc.unregister', key })
      configs.delete(key)
      return result as SaveOutcome
    },
    markLoaded(key, loadOptions = {}) {
      const { revision } = loadOptions
      documentActor(key).send(
        revision === undefined ? { type: 'doc.loaded' } : { type: 'doc.loaded', revision },
      )
    },
    change(key, data) {
      const ref = documentActor(key)
      ref.send({ type: 'doc.changed', data })
      return ref.getSnapshot().context.pendingRevision
    },
    async flush(key, flushOptions) {
      const [result] = await flush(key, flushOptions)
      return result as SaveOutcome
    },
    flushAll(flushOptions = {}) {
      const docs = Object.entries(actor.getSnapshot().context.docs).map(
        ([key, doc]) => [key, doc.ref] as const,
      )
      return flushAndWait(docs, () => actor.send({ type: 'save.flushAll' }), clock, flushOptions.deadlineMs)
    },
    retry: (key) => documentActor(key).send({ type: 'save.retry' }),
    pause: () => actor.send({ type: 'writes.pause' }),
    resume: () => actor.send({ type: 'writes.resume' }),
    setReadOnly: (reason) => actor.send({ type: 'workspace.readOnly', reason }),
    setDocumentReadOnly(key, reason) {
      // Writable again only if the workspace is: a locked workspace keeps every document read-only.
      const next = reason ?? actor.getSnapshot().context.readOnly
      documentActor(key).send(
        next === null ? { type: 'doc.writable' } : { type: 'doc.readOnly', reason: next },
      )
    },
    status: (key) => selectSaveActorStatus(documentActor(key).getSnapshot()),
    aggregate: () => selectAggregateStatus(actor.getSnapshot()),
    keys: () => selectKeys(actor.getSnapshot()),
    metrics: (key) => selectMetrics(actor.getSnapshot(), key),
    // The save actors report every change to the coordinator, so its snapshots alone tell of every status change.
    subscribe(listener) {
      const subscription = actor.subscribe(() => listener())
      return () => subscription.unsubscribe()
    },
    // The coordinator re-emits its children's events (see saveCoordinatorMachine), so one listener here hears every
    // document, including documents registered after it subscribed.
    on(type, handler) {
      const subscription = actor.on(type, handler as (event: SaveEvent) => void)
      return () => subscription.unsubscribe()
    },
    stop: () => actor.stop(),
  }
}
