import type { Meta, StoryObj } from '@storybook/react-vite'
import { useState } from 'react'
import { expect, userEvent, waitFor, within } from 'storybook/test'
import { SaveToasts } from '../src/react/index'
import { ProjectRow, ScenarioFrame } from './support/scenario'
import {
  disposeScenario,
  documentRegion,
  expectBadge,
  scenarioLoader,
  scenarioOf,
} from './support/story-helpers'

/**
 * Toasts come from the coordinator's emitted events, one per failure episode of a document: its retries, its
 * failure and its recovery update the same toast in place. The faults are rules of the faulty storage under the
 * real repository and session, on simulated time.
 */
const meta = {
  title: 'saveflow/SaveToasts',
  component: SaveToasts,
  beforeEach: disposeScenario,
  render: function Render(_args, context) {
    const scenario = scenarioOf(context)
    const [asked, setAsked] = useState<string | null>(null)
    // ScenarioFrame renders <SaveToasts> itself, wired to this callback.
    return (
      <ScenarioFrame scenario={scenario} onShowBackups={(key) => setAsked(key)}>
        <ProjectRow scenario={scenario} />
        {asked !== null && <p role="note">The backups of {scenario.label(asked)} would open here.</p>}
      </ScenarioFrame>
    )
  },
} satisfies Meta<typeof SaveToasts>

export default meta
type Story = StoryObj<typeof meta>

const project = { key: 'project', label: 'Project' } as const
/** The project's own files (not its backups): a flaky disk region under them. */
const projectFiles = /^project\./

const toastsIn = (canvasElement: HTMLElement) =>
  canvasElement.querySelectorAll<HTMLElement>('[data-sonner-toast]')

/** EIO twice, then the write goes through: one toast that tells the whole story. */
export const FlakyDiskRecovers: Story = {
  loaders: [
    scenarioLoader(() => ({
      documents: [project],
      faults: [{ op: ['writeAtomic', 'append'], path: projectFiles, code: 'EIO', times: 2 }],
    })),
  ],
  play: async (context) => {
    const { canvasElement } = context
    const canvas = within(canvasElement)
    const scenario = scenarioOf(context)
    const status = () => scenario.coordinator.status('project')

    await userEvent.type(within(documentRegion(canvasElement, 'Project')).getByRole('textbox'), '.')
    await scenario.advanceUntil(() => status().status === 'retrying')
    await waitFor(() => expect(canvas.getByText("Couldn't save Project")).toBeInTheDocument())
    // Sonner fades toasts in: wait for it rather than catch it mid-animation.
    await waitFor(() =>
      expect(
        canvas.getByText(/The disk reported an input\/output error\..*\(attempt 2 of 5\)\./),
      ).toBeVisible(),
    )

    await scenario.advanceUntil(() => status().status === 'retrying' && status().attempt === 2)
    await waitFor(() => expect(canvas.getByText(/\(attempt 3 of 5\)\./)).toBeInTheDocument())
    await expect(toastsIn(canvasElement)).toHaveLength(1)

    await scenario.advanceUntil(() => status().status === 'saved')
    await waitFor(() => expect(canvas.getByText('Project is saved again')).toBeInTheDocument())
    await waitFor(() => expect(canvas.getByText('It saved after 2 failed attempts.')).toBeVisible())
    await expect(toastsIn(canvasElement)).toHaveLength(1)
    await expectBadge(documentRegion(canvasElement, 'Project'), 'Saved just now')
  },
}

/** The attempts run out: the toast turns into a failure with Retry and Show backups. */
export const GivesUpAfterMaxAttempts: Story = {
  loaders: [
    scenarioLoader(() => ({
      documents: [project],
      faults: [{ op: ['writeAtomic', 'append'], path: projectFiles, code: 'EIO', times: 3 }],
      config: { retry: { maxAttempts: 3 } },
    })),
  ],
  play: async (context) => {
    const { canvasElement } = context
    const canvas = within(canvasElement)
    const scenario = scenarioOf(context)
    const region = documentRegion(canvasElement, 'Project')

    await userEvent.type(within(region).getByRole('textbox'), '.')
    await scenario.advanceUntil(() => scenario.coordinator.status('project').status === 'failed')
    await waitFor(() => expect(canvas.getByText('Project is not saved')).toBeInTheDocument())
    const [toast] = toastsIn(canvasElement)
    if (toast === undefined) throw new Error('no toast')
    await expect(toastsIn(canvasElement)).toHaveLength(1)
    await expect(toast).toHaveTextContent('Saving is retried; if it keeps failing, check the disk.')

    // Retry: the next write succeeds (the fault has used up its three calls), and the same toast says so.
    await userEvent.click(within(toast).getByRole('button', { name: 'Retry' }))
    await scenario.advanceUntil(() => scenario.coordinator.status('project').status === 'saved')
    await waitFor(() => expect(canvas.getByText('Project is saved again')).toBeInTheDocument())
    await waitFor(() => expect(canvas.getByText('It saved after 3 failed attempts.')).toBeVisible())
    await expect(toastsIn(canvasElement)).toHaveLength(1)
  },
}

/** Show backups hands the document to the app (a callback), which opens its backups view. */
export const ShowBackupsAction: Story = {
  loaders: [
    scenarioLoader(() => ({
      documents: [project],
      faults: [{ op: ['writeAtomic', 'append'], code: 'EACCES' }],
    })),
  ],
  play: async (context) => {
    const { canvasElement } = context
    const canvas = within(canvasElement)
    const scenario = scenarioOf(context)

    await userEvent.type(within(documentRegion(canvasElement, 'Project')).getByRole('textbox'), '.')
    await scenario.advanceUntil(() => scenario.coordinator.status('project').status === 'failed')
    await waitFor(() => expect(canvas.getByText('Project is not saved')).toBeInTheDocument())
    const [toast] = toastsIn(canvasElement)
    if (toast === undefined) throw new Error('no toast')
    await expect(toast).toHaveTextContent('Check the folder permissions, then press Retry.')
    await userEvent.click(within(toast).getByRole('button', { name: 'Show backups' }))
    await expect(canvas.getByRole('note')).toHaveTextContent('The backups of Project would open here.')
  },
}
