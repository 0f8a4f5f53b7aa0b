import type { CSSProperties } from 'react'
import { ERROR_TEXT, type RetryClass, SaveflowError, type SaveflowErrorCode } from '../../src/core/errors'
import type { SaveStatus } from '../../src/core/status'
import { type BadgeView, badgeText } from '../../src/react/index'

/**
 * The tables of the save states guide, shared by the docs page (`SaveStates.mdx`) and the `Guide` story that checks
 * them. The badge wording is computed by `badgeText` and the messages and hints come from `ERROR_TEXT`, so the
 * guide cannot drift from what the components show.
 */

/** Every save state: what the badge says in it, what it means, and what the user can do. */
export function StatesTable() {
  return (
    <table style={tableStyle} aria-label="Save states">
      <thead>
        <tr>
          <th style={cell}>State</th>
          <th style={cell}>The badge says</th>
          <th style={cell}>What it means</th>
          <th style={cell}>What the user can do</th>
        </tr>
      </thead>
      <tbody>
        {STATES.map((state) => (
          <tr key={state.status}>
            <th scope="row" style={cell}>
              <code>{state.status}</code>
            </th>
            <td style={cell}>{badgeText(state.view, NOW).label}</td>
            <td style={cell}>{state.meaning}</td>
            <td style={cell}>{state.action}</td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}

/** The errors a save can meet, how each is retried, and the words the user reads. */
export function FailuresTable() {
  return (
    <table style={tableStyle} aria-label="Failures">
      <thead>
        <tr>
          <th style={cell}>Error</th>
          <th style={cell}>Retried</th>
          <th style={cell}>Message</th>
          <th style={cell}>Hint</th>
        </tr>
      </thead>
      <tbody>
        {FAILURES.map(([code, sysCodes]) => (
          <tr key={code}>
            <th scope="row" style={cell}>
              <code>{code}</code> <small>{sysCodes}</small>
            </th>
            <td style={cell}>{RETRY_WORDS[new SaveflowError(code).retry]}</td>
            <td style={cell}>{ERROR_TEXT[code].message}</td>
            <td style={cell}>{ERROR_TEXT[code].hint}</td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}

const NOW = 1_000_000
const view = (status: SaveStatus, patch: Partial<BadgeView> = {}): BadgeView => ({
  status,
  lastSavedAt: null,
  attempt: 0,
  maxAttempts: 5,
  nextRetryAt: null,
  error: null,
  failedCount: 0,
  ...patch,
})

const STATES: readonly { status: SaveStatus; view: BadgeView; meaning: string; action: string }[] = [
  {
    status: 'loading',
    view: view('loading'),
    meaning:
      'Not read from disk yet. Nothing may be written, so no save can overwrite data that was never read.',
    action: 'Wait; edits made meanwhile are kept and saved once it has loaded.',
  },
  {
    status: 'saved',
    view: view('saved', { lastSavedAt: NOW - 5000 }),
    meaning: 'The newest edit is durable on disk (renamed into place and synced).',
    action: 'Nothing.',
  },
  {
    status: 'unsaved',
    view: view('unsaved'),
    meaning: 'An edit waits for the debounce (or for the maximum wait under a stream of edits).',
    action: 'Keep working; it saves by itself.',
  },
  {
    status: 'saving',
    view: view('saving'),
    meaning: 'Validating, waiting for a write slot, or writing. Edits made now are saved right after.',
    action: 'Keep working.',
  },
  {
    status: 'retrying',
    view: view('retrying', { attempt: 1, nextRetryAt: NOW + 3000, error: new SaveflowError('io').toJSON() }),
    meaning: 'A write failed with an error that may pass; the next attempt is scheduled with backoff.',
    action: 'Wait; a full disk needs space freed, then saving resumes by itself.',
  },
  {
    status: 'failed',
    view: view('failed', {
      attempt: 1,
      failedCount: 1,
      error: new SaveflowError('permission-denied').toJSON(),
    }),
    meaning: 'Saving stopped: waiting will not help, or the attempts ran out. The data is still in memory.',
    action: 'Follow the hint, then press Retry (or just edit again).',
  },
  {
    status: 'readOnly',
    view: view('readOnly', {
      error: new SaveflowError('locked', { details: { holder: { pid: 4312, host: 'studio-mac' } } }).toJSON(),
    }),
    meaning: 'Another process holds the workspace, or a file is from a newer version: nothing is written.',
    action: 'Close the other window, or update the app.',
  },
]

const FAILURES: readonly (readonly [SaveflowErrorCode, string])[] = [
  ['busy', 'EMFILE, EBUSY, EAGAIN'],
  ['io', 'EIO'],
  ['disk-full', 'ENOSPC'],
  ['permission-denied', 'EACCES, EPERM'],
  ['read-only', 'EROFS'],
  ['invalid-data', 'validation'],
  ['locked', 'workspace lock'],
]

const RETRY_WORDS: Readonly<Record<RetryClass, string>> = {
  fast: 'at once, after the base delay',
  normal: 'with exponential backoff, up to the attempt limit',
  slow: 'every maximum delay, without limit',
  never: 'no: on Retry or the next edit',
}

const tableStyle: CSSProperties = { borderCollapse: 'collapse', width: '100%', fontSize: '14px' }
const cell: CSSProperties = {
  border: '1px solid #e5e7eb',
  padding: '6px 8px',
  textAlign: 'left',
  verticalAlign: 'top',
}
