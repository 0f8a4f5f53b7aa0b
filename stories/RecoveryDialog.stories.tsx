import type { Meta, StoryObj } from '@storybook/react-vite'
import { useState } from 'react'
import { expect, userEvent, waitFor, within } from 'storybook/test'
import { SaveflowError } from '../src/core/errors'
import { RecoveryDialog, type RecoveryReport } from '../src/react/index'
import { createFakeBackups, type FakeBackup, type FakeBackups } from './support/fake-backups'
import { DocumentRow, type Scenario, ScenarioFrame, START } from './support/scenario'
import {
  disposeScenario,
  documentRegion,
  expectBadge,
  scenarioLoader,
  scenarioOf,
} from './support/story-helpers'

/**
 * The dialog after a crash: a document was opened from a backup, or nothing valid was left and the user chooses.
 * The reports are written by hand here; the load machine will produce them once the storage layer is wired in.
 */
const meta = {
  title: 'saveflow/RecoveryDialog',
  component: RecoveryDialog,
  beforeEach: disposeScenario,
} satisfies Meta<typeof RecoveryDialog>

export default meta
type Story = StoryObj<typeof meta>

const MIN = 60_000
const HOUR = 60 * MIN
const checksumMismatch = new SaveflowError('corrupt', {
  message: 'A saved file is damaged: its checksum does not match its data.',
  details: { file: 'project.json' },
}).toJSON()
const quarantinedTo = '.saveflow/quarantine/project.2025-01-06T08-59-58Z.json'

const projectText = (tasks: readonly string[]) =>
  JSON.stringify(
    { name: 'Garden plan', nodes: tasks.map((title, i) => ({ id: `n${i + 1}`, title })) },
    null,
    2,
  )

const goodBackups: readonly FakeBackup[] = [
  {
    id: 'b-0858',
    savedAt: START - 2 * MIN,
    revision: 41,
    bytes: 5230,
    text: projectText(['Beds', 'Seeds', 'Water']),
  },
  {
    id: 'b-0700',
    savedAt: START - 2 * HOUR,
    revision: 30,
    bytes: 4100,
    text: projectText(['Beds', 'Seeds']),
  },
  { id: 'b-0400', savedAt: START - 5 * HOUR, revision: 12, bytes: 910, text: '', damaged: true },
]

/** The app around the dialog: the document's badge stays "Loading…" until a way forward was chosen. */
function RecoveryDemo({ scenario, report }: { scenario: Scenario; report: RecoveryReport }) {
  const [open, setOpen] = useState(true)
  const [outcome, setOutcome] = useState('')
  return (
    <ScenarioFrame scenario={scenario}>
      <DocumentRow scenario={scenario} docKey="project" />
      <p role="log" aria-label="Outcome">
        {outcome}
      </p>
      <RecoveryDialog
        report={report}
        open={open}
        documentLabel={scenario.label}
        onClose={() => {
          setOpen(false)
          setOutcome('Dialog closed.')
          // Reading is over either way: the document may save from now on.
          if (scenario.coordinator.status('project').status === 'loading')
            scenario.coordinator.markLoaded('project')
        }}
        onRestored={(id, result) => {
          scenario.coordinator.markLoaded('project')
          setOutcome(`Restored ${id}; undo with ${result?.undoId ?? 'nothing'}.`)
        }}
        onStartEmpty={() => {
          setOpen(false)
          scenario.coordinator.markLoaded('project')
          setOutcome('Started empty.')
        }}
      />
    </ScenarioFrame>
  )
}

const backupsOf = (scenario: Scenario) => scenario.backups as FakeBackups

/** The file was damaged; the newest backup that verified was opened instead. The user may pick an older one. */
export const CrashRecoveredFromBackup: Story = {
  args: {
    report: {
      key: 'project',
      problem: checksumMismatch,
      quarantinedTo,
      restoredFrom: { id: 'b-0858', savedAt: START - 2 * MIN, revision: 41 },
      needsUser: false,
    },
  },
  loaders: [
    scenarioLoader(() => ({
      documents: [{ key: 'project', kind: 'project', label: 'Project', text: 'Beds, seeds, water' }],
      backups: (clock) => createFakeBackups(clock, goodBackups),
    })),
  ],
  render: (args, context) => <RecoveryDemo scenario={scenarioOf(context)} report={args.report} />,
  play: async (context) => {
    const { canvasElement } = context
    const canvas = within(canvasElement)
    const dialog = canvas.getByRole('dialog', { name: 'Project was restored from a backup' })
    await expect(dialog).toHaveAttribute('aria-modal', 'true')
    await expect(dialog).toContainElement(document.activeElement as HTMLElement)
    await expect(dialog).toHaveTextContent('the backup from 2 min ago (revision 41) was opened instead')
    await expect(within(dialog).getByText(quarantinedTo)).toBeVisible()

    const older = await within(dialog).findByLabelText('2 h ago · 4.0 KB · revision 30')
    await expect(within(dialog).getByLabelText('2 min ago · 5.1 KB · revision 41')).toBeEnabled()
    await expect(within(dialog).getByLabelText(/revision 12 \(damaged\)/)).toBeDisabled()
    await expect(dialog).toHaveTextContent('Restoring is undoable')

    await userEvent.click(older)
    await waitFor(() => expect(within(dialog).getByText(/"Seeds"/)).toBeVisible())
    await expect(within(dialog).queryByText(/"Water"/)).toBeNull()

    await userEvent.click(within(dialog).getByRole('button', { name: 'Restore this backup' }))
    await waitFor(() =>
      expect(dialog).toHaveTextContent(
        'Restored the backup from 2 h ago. The version it replaced was kept as a backup',
      ),
    )
    // The replaced version is now the newest backup: that is the undo.
    await waitFor(() => expect(within(dialog).getAllByRole('radio')).toHaveLength(4))
    await expect(within(dialog).getByLabelText(/^just now · .* · revision 0$/)).toBeEnabled()
    await expect(canvas.getByRole('log', { name: 'Outcome' })).toHaveTextContent(
      'Restored b-0700; undo with undo-',
    )

    await userEvent.keyboard('{Escape}')
    await waitFor(() => expect(canvas.queryByRole('dialog')).toBeNull())
    const scenario = scenarioOf(context)
    await expect(backupsOf(scenario).calls.filter((call) => call.startsWith('restore'))).toEqual([
      'restore project b-0700',
    ])
  },
}

/** Every backup failed verification: the user must choose; Escape does not dismiss; nothing is written meanwhile. */
export const AllBackupsCorrupt: Story = {
  args: {
    report: { key: 'project', problem: checksumMismatch, quarantinedTo, needsUser: true },
  },
  loaders: [
    scenarioLoader(() => ({
      documents: [{ key: 'project', kind: 'project', label: 'Project', loaded: false }],
      backups: (clock) =>
        createFakeBackups(
          clock,
          goodBackups.map((backup) => ({ ...backup, damaged: true })),
        ),
    })),
  ],
  render: (args, context) => <RecoveryDemo scenario={scenarioOf(context)} report={args.report} />,
  play: async (context) => {
    const { canvasElement } = context
    const canvas = within(canvasElement)
    const scenario = scenarioOf(context)
    const dialog = canvas.getByRole('dialog', { name: 'Project could not be opened' })
    await expect(dialog).toHaveTextContent('No usable copy was found.')
    await expect(dialog).toHaveTextContent('Nothing is written until you choose.')
    await waitFor(() => expect(within(dialog).getAllByRole('radio')).toHaveLength(3))
    for (const option of within(dialog).getAllByRole('radio')) await expect(option).toBeDisabled()
    await expect(within(dialog).queryByRole('button', { name: 'Restore this backup' })).toBeNull()
    await expect(within(dialog).queryByRole('button', { name: 'Close' })).toBeNull()

    await userEvent.keyboard('{Escape}')
    await userEvent.keyboard('{Escape}')
    await expect(canvas.getByRole('dialog')).toBeVisible()
    // The document was never read, so the coordinator writes nothing.
    await expectBadge(documentRegion(canvasElement, 'Project'), 'Loading…')
    await scenario.advance(5000)
    await expect(canvas.getByText('No writes yet.')).toBeInTheDocument()

    await userEvent.click(within(dialog).getByRole('button', { name: 'Start empty' }))
    await waitFor(() => expect(canvas.queryByRole('dialog')).toBeNull())
    await expect(canvas.getByRole('log', { name: 'Outcome' })).toHaveTextContent('Started empty.')
    await expectBadge(documentRegion(canvasElement, 'Project'), 'All changes saved')
    await expect(backupsOf(scenario).calls.some((call) => call.startsWith('restore'))).toBe(false)
  },
}
