import type { Meta, StoryObj } from '@storybook/react-vite'
import { useState } from 'react'
import { expect, userEvent, waitFor, within } from 'storybook/test'
import type { ProjectData } from '../src/core/schemas'
import type { OpenResult } from '../src/core/workspace-session'
import { RecoveryDialog } from '../src/react/index'
import {
  ProjectRow,
  ScenarioFrame,
  ScenarioProvider,
  useScenario,
  useScenarioVersion,
} from './support/scenario'
import {
  disposeScenario,
  documentRegion,
  expectBadge,
  scenarioLoader,
  scenarioOf,
} from './support/story-helpers'
import { damaged, filesAfter, gardenProject, HOUR, MIN, START } from './support/workspace-files'

const SEC = 1000

/**
 * The dialog after a crash, as the real load machine leaves things: earlier runs saved the project four times
 * (so real backups exist), then the files were damaged on disk, and the story opens the workspace through the
 * session. The load machine quarantines what does not verify and opens the newest backup that does, or, when none
 * is left, waits for the user. The dialog shows the session's report and lists, previews and restores the real
 * backups.
 */

/** What the project looks like in the app: the dialog over it, the features it holds, the files on disk. */
function RecoveryInTheApp({ documentKey }: { documentKey: string }) {
  const scenario = useScenario()
  const [result, setResult] = useState<OpenResult | undefined>(() => scenario.opened.get(documentKey))
  const [open, setOpen] = useState(true)
  const [outcome, setOutcome] = useState('')
  const report = result?.recovery ?? null
  return (
    <ScenarioFrame scenario={scenario} showFiles>
      <ProjectRow scenario={scenario}>
        <Features />
      </ProjectRow>
      <p role="log" aria-label="Outcome">
        {outcome}
      </p>
      {report !== null && (
        <RecoveryDialog
          report={report}
          open={open}
          documentLabel={scenario.label}
          onClose={() => {
            setOpen(false)
            setOutcome('Dialog closed.')
          }}
          onRestored={(id, restored) =>
            setOutcome(`Restored ${id}; undo with ${restored?.undoId ?? 'nothing'}.`)
          }
          {...(result?.status === 'needsUser'
            ? {
                onStartEmpty: async () => {
                  setResult(await result.startEmpty())
                  setOpen(false)
                  setOutcome('Started empty.')
                },
              }
            : {})}
        />
      )}
    </ScenarioFrame>
  )
}

/** The features of the project that is open now (none while nothing could be opened). */
function Features() {
  const scenario = useScenario()
  useScenarioVersion(scenario)
  const project = scenario.session.data('project') as ProjectData | undefined
  return (
    <output aria-label="Features" style={{ fontSize: '12px', color: '#4b5563' }}>
      {project === undefined
        ? 'Nothing is open.'
        : `Features: ${project.tree.map((node) => node.title).join(', ') || 'none'}`}
    </output>
  )
}

const meta = {
  title: 'saveflow/RecoveryDialog',
  component: RecoveryInTheApp,
  args: { documentKey: 'project' },
  beforeEach: disposeScenario,
  render: (args, context) => (
    <ScenarioProvider value={scenarioOf(context)}>
      <RecoveryInTheApp {...args} />
    </ScenarioProvider>
  ),
} satisfies Meta<typeof RecoveryInTheApp>

export default meta
type Story = StoryObj<typeof meta>

/**
 * Four saves by earlier runs, each after the first backing up the one before, then compacted when the app closed:
 * `project.json` holds revision 4, the backups revisions 1 to 3.
 */
const fourSaves = () =>
  filesAfter(
    [
      { key: 'project', data: gardenProject(['Beds']), at: START - 5 * HOUR },
      { key: 'project', data: gardenProject(['Beds', 'Seeds']), at: START - 2 * HOUR },
      { key: 'project', data: gardenProject(['Beds', 'Seeds', 'Water']), at: START - 2 * MIN - 30 * SEC },
      {
        key: 'project',
        data: gardenProject(['Beds', 'Seeds', 'Water', 'Tools']),
        at: START - 2 * MIN - 10 * SEC,
      },
    ],
    { compact: true },
  )
/**
 * The recovery stories' disk answers at once: a restore writes files too, and a person trying the dialog should not
 * have to step the simulated time to see it finish.
 */
const isBackup = (path: string) => path.startsWith('.saveflow/backups/project/')
const quarantined = /^\.saveflow\/quarantine\/project\..*checksum-mismatch\.json$/
/** The same file in the list of files on disk, with its size. */
const quarantinedFile = /^\.saveflow\/quarantine\/project\..*checksum-mismatch\.json \(/
const projectRegion = (canvasElement: HTMLElement) => documentRegion(canvasElement, 'Project')

/** `project.json` and the oldest backup rotted; the newest backup verified and was opened. The user may pick one. */
export const CrashRecoveredFromBackup: Story = {
  loaders: [
    scenarioLoader(() => ({
      documents: [{ key: 'project', label: 'Project' }],
      latencyMs: 0,
      files: async () =>
        damaged(
          await fourSaves(),
          (path) => path === 'project.json' || (isBackup(path) && path.endsWith('-r1.json')),
        ),
    })),
  ],
  play: async (context) => {
    const { canvasElement } = context
    const canvas = within(canvasElement)
    const dialog = await canvas.findByRole('dialog', { name: 'Project was restored from a backup' })
    await expect(dialog).toHaveAttribute('aria-modal', 'true')
    await expect(dialog).toContainElement(document.activeElement as HTMLElement)
    await expect(dialog).toHaveTextContent('the backup from 2 min ago (revision 3) was opened instead')
    await expect(dialog).toHaveTextContent('The data does not match its checksum.')
    // The damaged file is kept: the dialog says where, and there it is on disk.
    await expect(within(dialog).getByText(quarantined)).toBeVisible()
    await expect(within(canvas.getByRole('list', { name: 'Files' })).getByText(quarantinedFile)).toBeVisible()
    await expect(canvas.getByLabelText('Features')).toHaveTextContent('Features: Beds, Seeds, Water')

    const older = await within(dialog).findByLabelText(/^2 h ago · .* · revision 2$/)
    await expect(within(dialog).getByLabelText(/^2 min ago · .* · revision 3$/)).toBeEnabled()
    await expect(within(dialog).getByLabelText(/revision 1 \(damaged\)/)).toBeDisabled()
    await expect(dialog).toHaveTextContent('Restoring is undoable')

    await userEvent.click(older)
    await waitFor(() => expect(within(dialog).getByText(/• Seeds/)).toBeVisible())
    await expect(within(dialog).queryByText(/• Water/)).toBeNull()

    await userEvent.click(within(dialog).getByRole('button', { name: 'Restore this backup' }))
    await waitFor(() =>
      expect(dialog).toHaveTextContent(
        'Restored the backup from 2 h ago. The version it replaced was kept as a backup',
      ),
    )
    // The replaced version is a backup now: that is the undo. It is revision 3 as it was opened, the same save as
    // the backup it came from, so two rows read alike.
    await waitFor(() => expect(within(dialog).getAllByRole('radio')).toHaveLength(4))
    const revision3 = within(dialog).getAllByLabelText(/^2 min ago · .* · revision 3$/)
    await expect(revision3).toHaveLength(2)
    for (const option of revision3) await expect(option).toBeEnabled()
    await expect(canvas.getByRole('log', { name: 'Outcome' })).toHaveTextContent(
      /^Restored .*-r2\.json; undo with .*-r3\.json\.$/,
    )
    await expect(canvas.getByLabelText('Features')).toHaveTextContent('Features: Beds, Seeds')

    await userEvent.keyboard('{Escape}')
    await waitFor(() => expect(canvas.queryByRole('dialog')).toBeNull())
    const scenario = scenarioOf(context)
    await expect(scenario.backups.calls.filter((call) => call.startsWith('restore'))).toEqual([
      expect.stringMatching(/^restore project .*-r2\.json$/),
    ])
    await expectBadge(projectRegion(canvasElement), 'All changes saved')
  },
}

/** `project.json` and every backup rotted: the user must choose, Escape does not dismiss, and nothing is written. */
export const AllBackupsCorrupt: Story = {
  loaders: [
    scenarioLoader(() => ({
      documents: [{ key: 'project', label: 'Project' }],
      latencyMs: 0,
      files: async () => damaged(await fourSaves(), (path) => path === 'project.json' || isBackup(path)),
    })),
  ],
  play: async (context) => {
    const { canvasElement } = context
    const canvas = within(canvasElement)
    const scenario = scenarioOf(context)
    const files = canvas.getByRole('list', { name: 'Files' })
    const dialog = await canvas.findByRole('dialog', { name: 'Project could not be opened' })
    await expect(dialog).toHaveTextContent('No usable copy was found.')
    await expect(dialog).toHaveTextContent('Nothing is written until you choose.')
    await waitFor(() => expect(within(dialog).getAllByRole('radio')).toHaveLength(3))
    for (const option of within(dialog).getAllByRole('radio')) await expect(option).toBeDisabled()
    await expect(within(dialog).queryByRole('button', { name: 'Restore this backup' })).toBeNull()
    await expect(within(dialog).queryByRole('button', { name: 'Close' })).toBeNull()

    await userEvent.keyboard('{Escape}')
    await userEvent.keyboard('{Escape}')
    await expect(canvas.getByRole('dialog')).toBeVisible()
    // Nothing valid was read, so the coordinator writes nothing, and no project.json is put back meanwhile.
    await expectBadge(projectRegion(canvasElement), 'Loading…')
    await expect(canvas.getByLabelText('Features')).toHaveTextContent('Nothing is open.')
    await scenario.advance(5000)
    await expect(canvas.getByText('No writes yet.')).toBeInTheDocument()
    await expect(within(files).queryByText(/^project\.json /)).toBeNull()
    await expect(within(files).getByText(quarantinedFile)).toBeInTheDocument()

    await userEvent.click(within(dialog).getByRole('button', { name: 'Start empty' }))
    await waitFor(() => expect(canvas.queryByRole('dialog')).toBeNull())
    await expect(canvas.getByRole('log', { name: 'Outcome' })).toHaveTextContent('Started empty.')
    await expectBadge(projectRegion(canvasElement), 'All changes saved')
    await expect(within(projectRegion(canvasElement)).getByRole('textbox')).toHaveValue('Untitled')
    await expect(scenario.backups.calls.some((call) => call.startsWith('restore'))).toBe(false)

    // The first edit of the new project saves it; the damaged files stay in quarantine.
    await userEvent.type(within(projectRegion(canvasElement)).getByRole('textbox'), ' garden')
    await scenario.advanceUntil(() => scenario.coordinator.status('project').status === 'saved')
    await expectBadge(projectRegion(canvasElement), 'Saved just now')
    await within(files).findByText(/^project\.json /)
    await expect(within(files).getByText(quarantinedFile)).toBeInTheDocument()
  },
}
