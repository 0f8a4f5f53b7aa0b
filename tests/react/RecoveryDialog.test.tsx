import { render, screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it, vi } from 'vitest'
import { SimulatedClock } from 'xstate'
import { SaveflowError } from '../../src/core/errors'
import {
  type BackupsAdapter,
  RecoveryDialog,
  type RecoveryReport,
  SaveflowProvider,
  uiClockFrom,
} from '../../src/react/index'
import { createFakeCoordinator } from './support/fake-coordinator'

const NOW = 10 * 60 * 60 * 1000
const corrupt = new SaveflowError('corrupt').toJSON()

function adapterWith(overrides: Partial<BackupsAdapter> = {}): BackupsAdapter {
  return {
    list: vi.fn(async () => [
      { id: 'b3', savedAt: NOW - 2 * 60_000, revision: 41, bytes: 5120 },
      { id: 'b2', savedAt: NOW - 2 * 3_600_000, revision: 30, bytes: 4000 },
      { id: 'b1', savedAt: NOW - 5 * 3_600_000, revision: 12, bytes: 900, damaged: true },
    ]),
    restore: vi.fn(async () => ({ undoId: 'b4' })),
    preview: vi.fn(async (_key: string, id: string) => ({ text: `{"backup":"${id}"}` })),
    ...overrides,
  }
}

function renderDialog(report: RecoveryReport, props: Partial<Parameters<typeof RecoveryDialog>[0]> = {}) {
  const clock = new SimulatedClock()
  clock.set(NOW)
  const backups = props.backups ?? adapterWith()
  render(
    <SaveflowProvider coordinator={createFakeCoordinator()} clock={uiClockFrom(clock, () => clock.now())}>
      <button type="button">Editor</button>
      <RecoveryDialog report={report} {...props} backups={backups} />
    </SaveflowProvider>,
  )
  return { backups }
}

const restoredReport: RecoveryReport = {
  key: 'project',
  problem: corrupt,
  quarantinedTo: '.saveflow/quarantine/project-1.json',
  restoredFrom: { id: 'b3', savedAt: NOW - 2 * 60_000, revision: 41 },
  needsUser: false,
}
const needsUserReport: RecoveryReport = { key: 'project', problem: corrupt, needsUser: true }

describe('RecoveryDialog', () => {
  it('is a labelled modal dialog with the focus inside', async () => {
    renderDialog(restoredReport)
    const dialog = screen.getByRole('dialog', { name: 'project was restored from a backup' })
    expect(dialog).toHaveAttribute('aria-modal', 'true')
    expect(dialog).toHaveAccessibleDescription(/backup from 2 min ago \(revision 41\)/)
    expect(dialog.contains(document.activeElement)).toBe(true)
    expect(within(dialog).getByText('.saveflow/quarantine/project-1.json')).toBeInTheDocument()
  })

  it('says when the saves after the backup were replayed on it', () => {
    renderDialog({ ...restoredReport, replayedTo: 44 })
    const dialog = screen.getByRole('dialog', { name: 'project was restored from a backup' })
    expect(dialog).toHaveAccessibleDescription(
      /revision 41\) was opened, and the later saves .* \(revision 44\)/,
    )
    expect(dialog).not.toHaveAccessibleDescription(/Changes made after that backup are not in it/)
  })

  it('lists the backups with time, size and revision, damaged ones disabled', async () => {
    renderDialog(restoredReport)
    const dialog = screen.getByRole('dialog')
    const options = await within(dialog).findAllByRole('radio')
    expect(options).toHaveLength(3)
    expect(within(dialog).getByLabelText('2 min ago · 5.0 KB · revision 41')).toBeEnabled()
    expect(within(dialog).getByLabelText('2 h ago · 3.9 KB · revision 30')).toBeEnabled()
    expect(within(dialog).getByLabelText(/revision 12 \(damaged\)/)).toBeDisabled()
  })

  it('shows the real size of a damaged backup, and says so when it is not known instead of 0 B', async () => {
    const list = vi.fn(async () => [
      { id: 'b2', savedAt: NOW - 2 * 3_600_000, revision: 30, bytes: 2048, damaged: true },
      { id: 'b1', savedAt: NOW - 5 * 3_600_000, revision: 12, bytes: null, damaged: true },
    ])
    renderDialog(needsUserReport, { backups: adapterWith({ list }) })
    const dialog = screen.getByRole('dialog')
    expect(await within(dialog).findByLabelText('2 h ago · 2.0 KB · revision 30 (damaged)')).toBeDisabled()
    expect(within(dialog).getByLabelText('5 h ago · size unknown · revision 12 (damaged)')).toBeDisabled()
    expect(within(dialog).queryByText(/0 B/)).toBeNull()
  })

  it('names the quarantined file when an interrupted recovery left the document missing', async () => {
    const moved = '.saveflow/quarantine/project.20260115T100000000Z-checksum-mismatch.json'
    const problem = new SaveflowError('not-found', {
      message: `The file was damaged (checksum-mismatch) and moved to quarantine as ${moved}, but not replaced yet; backups of it exist.`,
      hint: 'A verified backup is restored; the quarantined file stays as it is.',
      details: { quarantined: moved },
    }).toJSON()
    renderDialog({ ...restoredReport, problem, quarantinedTo: moved })
    const dialog = screen.getByRole('dialog', { name: 'project was restored from a backup' })
    expect(dialog).toHaveAccessibleDescription(/damaged \(checksum-mismatch\) and moved to quarantine/)
    expect(dialog).not.toHaveAccessibleDescription(/does not exist|created on the first save/)
    expect(within(dialog).getByText(moved)).toBeInTheDocument()
  })

  it('previews a backup, restores it and says that it can be undone', async () => {
    const onRestored = vi.fn()
    const { backups } = renderDialog(restoredReport, { onRestored })
    const dialog = screen.getByRole('dialog')
    expect(await within(dialog).findByText(/Restoring is undoable/)).toBeInTheDocument()
    const restore = within(dialog).getByRole('button', { name: 'Restore this backup' })
    expect(restore).toBeDisabled()

    await userEvent.click(await within(dialog).findByLabelText(/revision 30/))
    expect(await within(dialog).findByText('{"backup":"b2"}')).toBeInTheDocument()
    expect(backups.preview).toHaveBeenCalledWith('project', 'b2')

    await userEvent.click(restore)
    await within(dialog).findByText(/Restored the backup from 2 h ago\. .*so you can undo this\./)
    expect(backups.restore).toHaveBeenCalledWith('project', 'b2')
    expect(onRestored).toHaveBeenCalledWith('b2', { undoId: 'b4' })
    // The Restore button is gone; focus went to Close rather than out of the dialog.
    await waitFor(() => expect(within(dialog).getByRole('button', { name: 'Close' })).toHaveFocus())
  })

  it('closes on Escape when the document was restored', async () => {
    const onClose = vi.fn()
    renderDialog(restoredReport, { onClose })
    await userEvent.keyboard('{Escape}')
    expect(onClose).toHaveBeenCalledTimes(1)
  })

  it('stays open on Escape while the user must choose, and offers to start empty', async () => {
    const onClose = vi.fn()
    const onStartEmpty = vi.fn()
    renderDialog(needsUserReport, { onClose, onStartEmpty })
    const dialog = screen.getByRole('dialog', { name: 'project could not be opened' })
    await userEvent.keyboard('{Escape}')
    await userEvent.keyboard('{Escape}')
    expect(onClose).not.toHaveBeenCalled()
    expect(dialog).toBeVisible()
    expect(within(dialog).queryByRole('button', { name: 'Close' })).toBeNull()

    await userEvent.click(within(dialog).getByRole('button', { name: 'Start empty' }))
    expect(onStartEmpty).toHaveBeenCalledTimes(1)
  })

  it('follows its open prop even when the browser closes it', async () => {
    const report = needsUserReport
    const clock = new SimulatedClock()
    const view = render(
      <SaveflowProvider coordinator={createFakeCoordinator()} clock={uiClockFrom(clock, () => clock.now())}>
        <RecoveryDialog report={report} backups={adapterWith()} open />
      </SaveflowProvider>,
    )
    const dialog = screen.getByRole('dialog') as HTMLDialogElement
    dialog.close()
    await waitFor(() => expect(dialog.open).toBe(true))

    view.rerender(
      <SaveflowProvider coordinator={createFakeCoordinator()} clock={uiClockFrom(clock, () => clock.now())}>
        <RecoveryDialog report={report} backups={adapterWith()} open={false} />
      </SaveflowProvider>,
    )
    expect(dialog.open).toBe(false)
    expect(screen.queryByRole('dialog')).toBeNull()
  })

  it('says so when no backup is left', async () => {
    renderDialog(needsUserReport, { backups: adapterWith({ list: async () => [] }) })
    const dialog = screen.getByRole('dialog')
    await within(dialog).findByText('No backups were found.')
    expect(within(dialog).queryByRole('button', { name: 'Restore this backup' })).toBeNull()
  })

  it('reports a restore that failed and lets the user try another', async () => {
    const backups = adapterWith({
      restore: async () => {
        throw new SaveflowError('io')
      },
    })
    renderDialog(needsUserReport, { backups })
    const dialog = screen.getByRole('dialog')
    await userEvent.click(await within(dialog).findByLabelText(/revision 41/))
    await userEvent.click(within(dialog).getByRole('button', { name: 'Restore this backup' }))
    await waitFor(() => expect(dialog).toHaveTextContent('The backup could not be restored.'))
    expect(within(dialog).getByRole('button', { name: 'Restore this backup' })).toBeEnabled()
  })
})
