import type { SaveflowErrorData } from './errors'

/**
 * The four kinds of document of DESIGN.md. The kind decides the file layout, the codec, the backup policy and the
 * save priority.
 */
export type DocumentKind = 'project' | 'conversation' | 'settings' | 'cache'

/**
 * Order in which write slots are granted when several documents wait: a flush request first, then settings,
 * project, conversations, cache. Lower runs first.
 */
export const KIND_PRIORITY: Readonly<Record<DocumentKind, number>> = {
  settings: 1,
  project: 2,
  conversation: 3,
  cache: 4,
}

/** The rank of a flush request, ahead of every kind. */
export const FLUSH_PRIORITY = 0

/**
 * What the user is told about one document, derived from the save actor's state and context:
 * - `loading`: not read from disk yet; nothing may be written;
 * - `saved`: the newest edit is durable on disk;
 * - `unsaved`: there is an edit not written yet (debouncing, or autosave off);
 * - `saving`: validating, waiting for a write slot, or writing;
 * - `retrying`: a write failed and another attempt is scheduled;
 * - `failed`: saving stopped; the data is in memory; Retry or the next edit tries again;
 * - `readOnly`: the workspace is locked by another process, or the file is from a future version.
 */
export type SaveStatus = 'loading' | 'saved' | 'unsaved' | 'saving' | 'retrying' | 'failed' | 'readOnly'

/** Everything a badge or a log needs about one document. Derived by selectors, never stored twice. */
export interface DocumentStatus {
  key: string
  kind: DocumentKind
  status: SaveStatus
  /** Revision of the newest edit in memory (0 before any edit). */
  pendingRevision: number
  /** Revision that is durable on disk (0 when nothing was saved in this session). */
  savedRevision: number
  /** Failed attempts of the current save episode (0 when the last write succeeded). */
  attempt: number
  /** Attempts allowed before `failed`. */
  maxAttempts: number
  /** Clock time (ms) of the next retry while `retrying`, else null. */
  nextRetryAt: number | null
  /** The error of the last failed attempt in this episode, else null. */
  lastError: SaveflowErrorData | null
  /** Clock time (ms) of the last successful save, else null. */
  lastSavedAt: number | null
}

/** The whole workspace at a glance: the most urgent status wins (failed, retrying, saving, unsaved, saved). */
export interface AggregateStatus {
  status: SaveStatus
  /** How many documents are in each status. */
  counts: Readonly<Record<SaveStatus, number>>
  /** Writes in flight right now. */
  writesInFlight: number
}

/** A save finished and is durable. `attempt` counts the attempts it took (1 when the first write succeeded). */
export interface SaveSucceededEvent {
  type: 'save.succeeded'
  key: string
  revision: number
  attempt: number
  /** Time from the write slot being granted to the write returning, in ms (actor clock). */
  durationMs: number
  /** Bytes the write put on disk, when the writer reports it. */
  bytes: number
  at: number
}

/** A write failed with a retryable error; the next attempt is at `retryAt`. */
export interface SaveRetryingEvent {
  type: 'save.retrying'
  key: string
  revision: number
  attempt: number
  error: SaveflowErrorData
  retryAt: number
}

/** Saving stopped: the error is not retryable, the attempts ran out, or the data is invalid. */
export interface SaveFailedEvent {
  type: 'save.failed'
  key: string
  revision: number
  attempt: number
  error: SaveflowErrorData
}

/** A save succeeded after one or more failed attempts: the end of a failure episode. */
export interface SaveRecoveredEvent {
  type: 'save.recovered'
  key: string
  revision: number
  /** Failed attempts before this success. */
  failedAttempts: number
}

/** Events the save actors emit (for toasts and logs; badges read snapshots instead). */
export type SaveEvent = SaveSucceededEvent | SaveRetryingEvent | SaveFailedEvent | SaveRecoveredEvent
