import type { SnapshotFrom } from 'xstate'
import type { SaveActorRef, saveCoordinatorMachine } from '../../machines/saveCoordinatorMachine'
import type { saveMachine } from '../../machines/saveMachine'
import type { SaveMetric } from './save-coordinator'
import type { AggregateStatus, DocumentStatus, SaveStatus } from './status'

/** A snapshot of one save actor. */
export type SaveActorSnapshot = SnapshotFrom<typeof saveMachine>
/** A snapshot of the coordinator. */
export type SaveCoordinatorSnapshot = SnapshotFrom<typeof saveCoordinatorMachine>

/** Most urgent first: the aggregate shows the first status any document has. */
const URGENCY: readonly SaveStatus[] = [
  'failed',
  'readOnly',
  'retrying',
  'saving',
  'unsaved',
  'loading',
  'saved',
]

/**
 * The status of one save actor, derived from its state: `idle` is `saved` or `unsaved` depending on whether the
 * newest revision is durable. Usable as `useSelector(saveActorRef, selectSaveStatus)`.
 */
export function selectSaveStatus(snapshot: SaveActorSnapshot): SaveStatus {
  if (snapshot.matches('readOnly')) return 'readOnly'
  if (snapshot.matches('loading')) return 'loading'
  if (snapshot.matches('debouncing')) return 'unsaved'
  if (snapshot.matches('validating') || snapshot.matches('writing')) return 'saving'
  if (snapshot.matches('retrying')) return 'retrying'
  if (snapshot.matches('failed')) return 'failed'
  const { pendingRevision, savedRevision } = snapshot.context
  return pendingRevision > savedRevision ? 'unsaved' : 'saved'
}

/** Everything a badge shows about one save actor. Usable as `useSelector(saveActorRef, selectSaveActorStatus)`. */
export function selectSaveActorStatus(snapshot: SaveActorSnapshot): DocumentStatus {
  const { context } = snapshot
  const status = selectSaveStatus(snapshot)
  return {
    key: context.key,
    kind: context.kind,
    status,
    pendingRevision: context.pendingRevision,
    savedRevision: context.savedRevision,
    attempt: context.attempt,
    maxAttempts: context.settings.retry.maxAttempts,
    nextRetryAt: status === 'retrying' ? context.nextRetryAt : null,
    // In read-only mode the reason is what the user needs to read.
    lastError: status === 'readOnly' ? context.readOnlyReason : context.lastError,
    lastSavedAt: context.lastSavedAt,
  }
}

/** The save actor of a document, for `useSelector` on it; undefined when the key is not registered. */
export function selectDocumentActor(
  snapshot: SaveCoordinatorSnapshot,
  key: string,
): SaveActorRef | undefined {
  return snapshot.context.docs[key]?.ref
}

/**
 * The status of one document, read through the coordinator. Fresh with `useSelector(coordinator, ...)` because the
 * save actors report every change to the coordinator.
 */
export function selectDocumentStatus(
  snapshot: SaveCoordinatorSnapshot,
  key: string,
): DocumentStatus | undefined {
  const ref = selectDocumentActor(snapshot, key)
  return ref === undefined ? undefined : selectSaveActorStatus(ref.getSnapshot())
}

/** Every registered key, in registration order. */
export function selectKeys(snapshot: SaveCoordinatorSnapshot): string[] {
  return Object.keys(snapshot.context.docs)
}

/** Writes holding a slot right now (never more than `maxConcurrentWrites`). */
export function selectWritesInFlight(snapshot: SaveCoordinatorSnapshot): number {
  return snapshot.context.holders.length
}

/** True while writes are held by `pause`. */
export function selectPaused(snapshot: SaveCoordinatorSnapshot): boolean {
  return snapshot.context.paused
}

/** Recent save figures of one document, oldest first; empty when none or not registered. */
export function selectMetrics(snapshot: SaveCoordinatorSnapshot, key: string): readonly SaveMetric[] {
  return snapshot.context.metrics[key] ?? []
}

/** The whole workspace: counts per status, the most urgent status, and the writes in flight. */
export function selectAggregateStatus(snapshot: SaveCoordinatorSnapshot): AggregateStatus {
  const counts: Record<SaveStatus, number> = {
    loading: 0,
    saved: 0,
    unsaved: 0,
    saving: 0,
    retrying: 0,
    failed: 0,
    readOnly: 0,
  }
  for (const doc of Object.values(snapshot.context.docs)) counts[selectSaveStatus(doc.ref.getSnapshot())] += 1
  const status = URGENCY.find((candidate) => counts[candidate] > 0) ?? 'saved'
  return { status, counts, writesInFlight: selectWritesInFlight(snapshot) }
}
