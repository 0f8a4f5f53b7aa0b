import type { CSSProperties } from 'react'
import {
  type SaveCoordinatorSnapshot,
  selectAggregateStatus,
  selectDocumentStatus,
  selectKeys,
} from '../core/save-selectors'
import type { DocumentStatus } from '../core/status'
import { sameError } from './equality'
import { useNow, useSaveflowSelector } from './hooks'
import { useSaveCoordinator } from './SaveflowProvider'
import {
  badgeBlockRadius,
  badgeLineStyle,
  badgeProblemStyle,
  badgeStyle,
  buttonStyle,
  dotStyle,
  STATUS_COLOR,
  visuallyHidden,
} from './styles'
import { type BadgeView, badgeText, UI_TEXT } from './text'

/** Props of {@link SaveStatusBadge}. */
export interface SaveStatusBadgeProps {
  /** Show one document; by default the badge shows the whole workspace (the most urgent status wins). */
  documentKey?: string
  /** Extra class on the badge's root, which also carries `data-status`. */
  className?: string
  /** Extra inline style, merged over the defaults (prefer the `--saveflow-badge-*` variables). */
  style?: CSSProperties
}

const EMPTY_VIEW: BadgeView = {
  status: 'loading',
  lastSavedAt: null,
  attempt: 0,
  maxAttempts: 0,
  nextRetryAt: null,
  error: null,
  failedCount: 0,
}

function viewOf(doc: DocumentStatus, failedCount: number, lastSavedAt: number | null): BadgeView {
  return {
    status: doc.status,
    lastSavedAt,
    attempt: doc.attempt,
    maxAttempts: doc.maxAttempts,
    nextRetryAt: doc.nextRetryAt,
    error: doc.lastError,
    failedCount,
  }
}

/** The badge's view of one document (loading while it is not registered yet). */
function documentView(snapshot: SaveCoordinatorSnapshot, key: string): BadgeView {
  const doc = selectDocumentStatus(snapshot, key)
  if (doc === undefined) return EMPTY_VIEW
  return viewOf(doc, doc.status === 'failed' ? 1 : 0, doc.lastSavedAt)
}

/**
 * The workspace's view: the aggregate status, told through the document that causes it (its error, its retry
 * countdown: the soonest one), and the newest save of any document.
 */
function aggregateView(snapshot: SaveCoordinatorSnapshot): BadgeView {
  const aggregate = selectAggregateStatus(snapshot)
  let focus: DocumentStatus | undefined
  let lastSavedAt: number | null = null
  for (const key of selectKeys(snapshot)) {
    const doc = selectDocumentStatus(snapshot, key)
    if (doc === undefined) continue
    if (doc.lastSavedAt !== null && (lastSavedAt === null || doc.lastSavedAt > lastSavedAt)) {
      lastSavedAt = doc.lastSavedAt
    }
    if (doc.status !== aggregate.status) continue
    if (
      focus === undefined ||
      (doc.nextRetryAt !== null && (focus.nextRetryAt === null || doc.nextRetryAt < focus.nextRetryAt))
    ) {
      focus = doc
    }
  }
  if (focus === undefined) return { ...EMPTY_VIEW, status: aggregate.status, lastSavedAt }
  return viewOf(focus, aggregate.counts.failed, lastSavedAt)
}

function sameView(a: BadgeView, b: BadgeView): boolean {
  return (
    a.status === b.status &&
    a.lastSavedAt === b.lastSavedAt &&
    a.attempt === b.attempt &&
    a.maxAttempts === b.maxAttempts &&
    a.nextRetryAt === b.nextRetryAt &&
    a.failedCount === b.failedCount &&
    sameError(a.error, b.error)
  )
}

/**
 * Shows whether the user's work is safe: saved ("Saved 5 s ago"), unsaved, saving, retrying (with a countdown and
 * the attempt), failed (message, hint and Retry), read-only (and who holds the lock), or loading.
 * Status changes are announced politely; a failure is an alert.
 */
export function SaveStatusBadge({ documentKey, className, style }: SaveStatusBadgeProps) {
  const coordinator = useSaveCoordinator()
  const view = useSaveflowSelector(
    (snapshot) => (documentKey === undefined ? aggregateView(snapshot) : documentView(snapshot, documentKey)),
    sameView,
  )
  // Only the states that show a time need a tick; the others re-render on status changes alone.
  const ticking =
    (view.status === 'saved' && view.lastSavedAt !== null) ||
    (view.status === 'retrying' && view.nextRetryAt !== null)
  const now = useNow(ticking ? (view.status === 'retrying' ? 250 : 1000) : null)
  const text = badgeText(view, now)

  const retry = () => {
    if (documentKey !== undefined) {
      coordinator.retry(documentKey)
      return
    }
    for (const key of coordinator.keys()) {
      if (coordinator.status(key).status === 'failed') coordinator.retry(key)
    }
  }

  return (
    <div
      className={className}
      data-status={view.status}
      style={{
        ...badgeStyle,
        borderColor: STATUS_COLOR[view.status],
        ...(text.problem === null ? {} : { borderRadius: badgeBlockRadius }),
        ...style,
      }}
    >
      <span style={badgeLineStyle}>
        <span aria-hidden="true" style={dotStyle(view.status)} />
        <span data-part="label">{text.label}</span>
      </span>
      {/* Announces status changes only: the label's ticking seconds would make a screen reader chatter. */}
      <span aria-live="polite" aria-atomic="true" style={visuallyHidden}>
        {text.announcement}
      </span>
      {text.problem !== null &&
        (view.status === 'failed' ? (
          <div role="alert" style={badgeProblemStyle}>
            <span>{text.problem.message}</span>
            <span>{text.problem.hint}</span>
            <button type="button" onClick={retry} style={buttonStyle}>
              {UI_TEXT.retry}
            </button>
          </div>
        ) : (
          <div style={badgeProblemStyle}>
            <span>{text.problem.message}</span>
            <span>{text.problem.hint}</span>
          </div>
        ))}
    </div>
  )
}
