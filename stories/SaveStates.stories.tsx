import type { Meta, StoryObj } from '@storybook/react-vite'
import type { CSSProperties } from 'react'
import { expect, within } from 'storybook/test'
import { ERROR_TEXT, type RetryClass, SaveflowError, type SaveflowErrorCode } from '../src/core/errors'
import type { SaveStatus } from '../src/core/status'
import { type BadgeView, badgeText } from '../src/react/index'

/**
 * A docs page (this Storybook has no docs addon, so it is a story): what each save state means, what the badge
 * says in it, and what the user can do. The badge wording is computed by `badgeText` and the hints come from
 * `ERROR_TEXT`, so this page cannot drift from what the components show.
 */
function SaveStatesGuide() {
  return (
    <article style={pageStyle}>
      <h1>Save states</h1>
      <p>
        Every document has one save actor; its state is shown by <code>&lt;SaveStatusBadge&gt;</code> (one
        document, or the whole workspace, where the most urgent state wins: failed, read-only, retrying,
        saving, unsaved, loading, saved). Toasts come from events instead: one toast per failure episode,
        updated in place.
      </p>

      <h2>States</h2>
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

      <h2>Failures and how they are retried</h2>
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

      <h2>After a crash</h2>
      <p>
        Loading verifies every file. A damaged file is moved to <code>.saveflow/quarantine/</code> and never
        touched again; the newest backup that verifies is opened instead, and{' '}
        <code>&lt;RecoveryDialog&gt;</code> says so (the user may pick an older backup; restoring keeps the
        replaced version as a backup, so it can be undone). When no backup is left, the dialog cannot be
        dismissed: the user restores a backup or starts empty, and nothing is written until then.
      </p>

      <h2>Theming</h2>
      <p>
        Components use inline styles whose colours and sizes are CSS variables with defaults: set{' '}
        <code>--saveflow-badge-saved</code>, <code>--saveflow-badge-failed</code>,{' '}
        <code>--saveflow-badge-bg</code>, <code>--saveflow-badge-font</code>,{' '}
        <code>--saveflow-dialog-bg</code>, <code>--saveflow-primary-bg</code> and the others on any ancestor.
        No stylesheet has to be imported.
      </p>
    </article>
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

const pageStyle: CSSProperties = {
  font: '15px/1.6 system-ui, sans-serif',
  color: '#111827',
  maxWidth: '60rem',
}
const tableStyle: CSSProperties = { borderCollapse: 'collapse', width: '100%', fontSize: '14px' }
const cell: CSSProperties = {
  border: '1px solid #e5e7eb',
  padding: '6px 8px',
  textAlign: 'left',
  verticalAlign: 'top',
}

const meta = {
  title: 'saveflow/Save states',
  component: SaveStatesGuide,
  parameters: { layout: 'padded' },
} satisfies Meta<typeof SaveStatesGuide>

export default meta
type Story = StoryObj<typeof meta>

/** The guide itself. */
export const Guide: Story = {
  play: async ({ canvasElement }) => {
    const canvas = within(canvasElement)
    const states = canvas.getByRole('table', { name: 'Save states' })
    const rows = within(states).getAllByRole('row').slice(1)
    await expect(rows.map((row) => within(row).getByRole('rowheader').textContent)).toEqual([
      'loading',
      'saved',
      'unsaved',
      'saving',
      'retrying',
      'failed',
      'readOnly',
    ])
    await expect(within(states).getByText('Saved 5 s ago')).toBeVisible()
    await expect(within(states).getByText('Retrying in 3 s, attempt 2 of 5')).toBeVisible()
    await expect(within(states).getByText('Read-only: opened by process 4312 on studio-mac')).toBeVisible()
    const failures = canvas.getByRole('table', { name: 'Failures' })
    await expect(within(failures).getByText('Free some space; saving resumes by itself.')).toBeVisible()
  },
}
