import type { SaveflowErrorData } from '../core/errors'
import type { AggregateStatus, DocumentStatus } from '../core/status'

// The coordinator derives a fresh status object on every call; these comparisons let the hooks hand React the
// previous object when nothing a component could show has changed, which is what keeps re-renders to real changes.

/** Two error values that read the same to a user. */
export function sameError(a: SaveflowErrorData | null, b: SaveflowErrorData | null): boolean {
  if (a === b) return true
  if (a === null || b === null) return false
  return (
    a.code === b.code &&
    a.message === b.message &&
    a.hint === b.hint &&
    a.retry === b.retry &&
    a.sysCode === b.sysCode &&
    a.details === b.details
  )
}

/** Field-by-field equality of two document statuses. */
export function sameDocumentStatus(a: DocumentStatus | undefined, b: DocumentStatus | undefined): boolean {
  if (a === b) return true
  if (a === undefined || b === undefined) return false
  return (
    a.key === b.key &&
    a.kind === b.kind &&
    a.status === b.status &&
    a.pendingRevision === b.pendingRevision &&
    a.savedRevision === b.savedRevision &&
    a.attempt === b.attempt &&
    a.maxAttempts === b.maxAttempts &&
    a.nextRetryAt === b.nextRetryAt &&
    a.lastSavedAt === b.lastSavedAt &&
    sameError(a.lastError, b.lastError)
  )
}

/** Equality of two aggregates, counts included. */
export function sameAggregate(a: AggregateStatus, b: AggregateStatus): boolean {
  if (a === b) return true
  if (a.status !== b.status || a.writesInFlight !== b.writesInFlight) return false
  const keys = Object.keys(a.counts) as (keyof AggregateStatus['counts'])[]
  return keys.length === Object.keys(b.counts).length && keys.every((k) => a.counts[k] === b.counts[k])
}
