import type { SaveflowErrorData } from '../core/errors'
import type { SaveStatus } from '../core/status'

/**
 * Every sentence the React components show, in one place (errors keep theirs in `ERROR_TEXT`). Components never
 * build user-facing strings themselves, so wording changes and translations touch this file only.
 */

/** What a badge needs to know to describe one document or the whole workspace. */
export interface BadgeView {
  status: SaveStatus
  /** Clock time (ms) of the newest successful save, else null. */
  lastSavedAt: number | null
  /** Failed attempts of the current episode. */
  attempt: number
  maxAttempts: number
  nextRetryAt: number | null
  error: SaveflowErrorData | null
  /** Documents in `failed` (the aggregate badge retries all of them). */
  failedCount: number
}

/** The badge's words for one moment. */
export interface BadgeText {
  /** The visible line ("Saved 5 s ago"); changes as time passes. */
  label: string
  /** What the live region announces; changes only with the status, so a ticking clock does not chatter. */
  announcement: string
  /** The error's message and hint, when there is one to show. */
  problem: { message: string; hint: string } | null
}

const STATUS_WORD: Readonly<Record<SaveStatus, string>> = {
  loading: 'Loading…',
  saved: 'All changes saved',
  unsaved: 'Unsaved changes',
  saving: 'Saving…',
  retrying: 'Retrying…',
  failed: 'Not saved',
  readOnly: 'Read-only',
}

/** "just now", "5 s ago", "3 min ago", "2 h ago", "4 d ago": coarse on purpose, a badge is glanced at. */
export function formatAgo(ms: number): string {
  const seconds = Math.floor(Math.max(0, ms) / 1000)
  if (seconds < 1) return 'just now'
  if (seconds < 60) return `${seconds} s ago`
  const minutes = Math.floor(seconds / 60)
  if (minutes < 60) return `${minutes} min ago`
  const hours = Math.floor(minutes / 60)
  if (hours < 24) return `${hours} h ago`
  return `${Math.floor(hours / 24)} d ago`
}

/** Whole seconds until `at`, rounded up so "in 1 s" shows until the moment itself. */
export function secondsUntil(at: number, now: number): number {
  return Math.max(0, Math.ceil((at - now) / 1000))
}

/** "812 B", "4.2 KB", "1.3 MB". */
export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`
}

/**
 * Who holds the workspace lock, from `error.details.holder` as the lock file records it: a string, or an object
 * with any of `name`/`app`, `pid` and `host`. Null when the error does not say.
 */
export function formatHolder(error: SaveflowErrorData | null): string | null {
  const holder = error?.details?.holder
  if (typeof holder === 'string' && holder !== '') return holder
  if (typeof holder !== 'object' || holder === null) return null
  const { name, app, pid, host } = holder as Record<string, unknown>
  const who = typeof name === 'string' ? name : typeof app === 'string' ? app : null
  const parts = [
    who,
    typeof pid === 'number' || typeof pid === 'string' ? `process ${pid}` : null,
    typeof host === 'string' ? `on ${host}` : null,
  ].filter((part): part is string => part !== null)
  return parts.length === 0 ? null : parts.join(' ')
}

/** The next attempt's number and, unless the error is retried without limit (a full disk), the allowance. */
function attemptText(view: BadgeView): string {
  const next = view.attempt + 1
  return view.error?.retry === 'slow' ? `attempt ${next}` : `attempt ${next} of ${view.maxAttempts}`
}

/** The badge's words for `view` at time `now`. */
export function badgeText(view: BadgeView, now: number): BadgeText {
  const problem = view.error === null ? null : { message: view.error.message, hint: view.error.hint }
  switch (view.status) {
    case 'saved':
      return {
        label: view.lastSavedAt === null ? STATUS_WORD.saved : `Saved ${formatAgo(now - view.lastSavedAt)}`,
        announcement: STATUS_WORD.saved,
        problem: null,
      }
    case 'retrying': {
      const seconds = view.nextRetryAt === null ? 0 : secondsUntil(view.nextRetryAt, now)
      const when = seconds === 0 ? 'Retrying now' : `Retrying in ${seconds} s`
      return {
        label: `${when}, ${attemptText(view)}`,
        announcement: `Saving failed; retrying, ${attemptText(view)}`,
        problem,
      }
    }
    case 'failed': {
      const label = view.failedCount > 1 ? `Not saved (${view.failedCount} documents)` : STATUS_WORD.failed
      return { label, announcement: label, problem }
    }
    case 'readOnly': {
      const holder = formatHolder(view.error)
      const label = holder === null ? STATUS_WORD.readOnly : `Read-only: opened by ${holder}`
      return { label, announcement: label, problem }
    }
    default:
      return { label: STATUS_WORD[view.status], announcement: STATUS_WORD[view.status], problem: null }
  }
}

/** Words of the Retry button and the toasts. */
export const UI_TEXT = {
  retry: 'Retry',
  showBackups: 'Show backups',
  toastRetrying: (doc: string) => `Couldn't save ${doc}`,
  toastRetryingDetail: (message: string, hint: string, seconds: number, attempt: string) =>
    `${message} ${hint} Next try in ${seconds} s (${attempt}).`,
  toastFailed: (doc: string) => `${doc} is not saved`,
  toastFailedDetail: (message: string, hint: string) => `${message} ${hint}`,
  toastRecovered: (doc: string) => `${doc} is saved again`,
  toastRecoveredDetail: (failedAttempts: number) =>
    failedAttempts === 1
      ? 'It saved after 1 failed attempt.'
      : `It saved after ${failedAttempts} failed attempts.`,
  toastAttempt: (attempt: number, maxAttempts: number | null) =>
    maxAttempts === null ? `attempt ${attempt}` : `attempt ${attempt} of ${maxAttempts}`,
} as const

/** Words of the recovery dialog. */
export const RECOVERY_TEXT = {
  titleRestored: (doc: string) => `${doc} was restored from a backup`,
  titleNeedsUser: (doc: string) => `${doc} could not be opened`,
  restoredFrom: (ago: string, revision: number, replayedTo?: number) =>
    replayedTo === undefined
      ? `The saved file could not be used, so the backup from ${ago} (revision ${revision}) was opened instead. Changes made after that backup are not in it.`
      : `The saved file could not be used, so the backup from ${ago} (revision ${revision}) was opened, and the later saves kept in the journal were replayed on it: nothing saved was lost (revision ${replayedTo}).`,
  needsUser:
    'No usable copy was found. Choose a backup to restore, or start empty. Nothing is written until you choose.',
  quarantined: 'The damaged file was kept, untouched, at',
  backupsLegend: 'Backups',
  backupsLoading: 'Looking for backups…',
  backupsNone: 'No backups were found.',
  backupsFailed: 'The backups could not be listed.',
  backupRow: (ago: string, size: string, revision: number) => `${ago} · ${size} · revision ${revision}`,
  damaged: 'damaged',
  sizeUnknown: 'size unknown',
  previewLabel: 'Preview of the selected backup',
  previewEmpty: 'Select a backup to preview it.',
  previewLoading: 'Loading preview…',
  previewFailed: 'This backup could not be read.',
  restore: 'Restore this backup',
  restoring: 'Restoring…',
  undoNote: 'Restoring is undoable: the current version is kept as a backup first.',
  restored: (ago: string) =>
    `Restored the backup from ${ago}. The version it replaced was kept as a backup, so you can undo this.`,
  restoreFailed: 'The backup could not be restored.',
  startEmpty: 'Start empty',
  startEmptyNote: 'Starts with an empty document; the damaged file stays where it is.',
  close: 'Close',
  keep: 'Keep this version',
} as const
