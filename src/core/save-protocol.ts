/**
 * The protocol of a save actor: its input, the events it accepts, what it reports to its parent, and the shapes its
 * `validate` and `write` actors exchange with it. Types only, so machines may import them.
 */
import type { RetryConfig } from './config'
import type { SaveflowErrorData } from './errors'
import type { DocumentKind, SaveEvent } from './status'

/** How one document saves: the workspace configuration with its per-document overrides applied. */
export interface SaveSettings {
  /** Save by itself after edits; when false only `save.flush` saves. */
  autoSave: boolean
  /** Quiet time after the last edit before a save starts, in ms. */
  debounceMs: number
  /** Longest time an unsaved edit waits under a stream of edits, in ms. */
  maxWaitMs: number
  retry: RetryConfig
}

/** What the coordinator gives each save actor. */
export interface SaveMachineInput {
  key: string
  kind: DocumentKind
  /** Slot rank of an ordinary save (lower is granted first); comes from `KIND_PRIORITY`. */
  priority: number
  /** Slot rank of a save a flush is waiting for; comes from `FLUSH_PRIORITY`. */
  flushPriority: number
  settings: SaveSettings
  /** False until the document was read from disk: nothing is written before. @default true */
  loaded?: boolean
  /** Why the workspace is read-only, or null when it is writable. @default null */
  readOnly?: SaveflowErrorData | null
}

/** Input of the `write` actor. The actor also receives an AbortSignal from `fromPromise`. */
export interface SaveWriteInput {
  key: string
  kind: DocumentKind
  data: unknown
  revision: number
}

/** Output of the `write` actor: the size written and when the write ran (actor clock). */
export interface SaveWriteOutput {
  bytes: number
  startedAt: number
  finishedAt: number
}

/**
 * What the `validate` and `write` actors reject with. The wrapper that calls user code classifies the thrown value
 * (`toSaveflowError`), stamps the time and draws the jitter, so this machine stays pure and deterministic.
 */
export interface SaveFailure {
  error: SaveflowErrorData
  /** Clock time of the failure, in ms. */
  at: number
  /** A random draw in [0, 1) that spreads retries of many documents apart. */
  jitter: number
}

/** Input of the `validate` actor; it resolves with the data to write. */
export interface SaveValidateInput {
  key: string
  kind: DocumentKind
  data: unknown
}

/** Events a save actor accepts. */
export type SaveMachineEvent =
  | { type: 'doc.changed'; data: unknown }
  | { type: 'doc.loaded'; revision?: number }
  | { type: 'save.flush' }
  | { type: 'save.retry' }
  | { type: 'doc.readOnly'; reason: SaveflowErrorData }
  | { type: 'doc.writable' }
  | { type: 'slot.granted'; ticket: number }

/** Events a save actor sends to its parent: slot requests, its save events, and "my status changed". */
export type SaveReport =
  | { type: 'slot.request'; key: string; ticket: number; priority: number }
  | { type: 'slot.release'; key: string; ticket: number }
  | { type: 'doc.event'; event: SaveEvent }
  | { type: 'doc.touched'; key: string }

/** The state of one save actor. Fields a UI shows are read through the selectors, never copied elsewhere. */
export interface SaveContext {
  key: string
  kind: DocumentKind
  priority: number
  flushPriority: number
  settings: SaveSettings
  loaded: boolean
  readOnlyReason: SaveflowErrorData | null
  /** The newest data and its revision. Revisions only grow. */
  pending: unknown
  pendingRevision: number
  /** The revision durable on disk. */
  savedRevision: number
  /** The revision being validated or written (captured when the save began), and its validated data. */
  inFlightRevision: number
  inFlightData: unknown
  /** A flush waits for a save that has not begun yet. */
  flushRequested: boolean
  /** The save in flight serves a flush: its slot request jumps the queue. */
  urgent: boolean
  /** Numbers slot requests so a late grant of an old request is never taken for a new one. */
  ticket: number
  /** Failed attempts of the current episode, and where the current retry budget began. */
  attempt: number
  budgetBase: number
  retryDelayMs: number
  nextRetryAt: number | null
  lastError: SaveflowErrorData | null
  lastSavedAt: number | null
}
