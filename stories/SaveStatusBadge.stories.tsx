import type { Meta, StoryObj } from '@storybook/react-vite'
import { useSyncExternalStore } from 'react'
import { expect, userEvent, waitFor, within } from 'storybook/test'
import { SaveflowError } from '../src/core/errors'
import type { Conversation } from '../src/core/schemas'
import { SaveStatusBadge, useDocumentStatus, useSaveflowSelector, useSaveStatus } from '../src/react/index'
import { ClearFaultButton, ProjectRow, type Scenario, ScenarioFrame, storyButton } from './support/scenario'
import {
  badgeLabel,
  diskWrites,
  disposeScenario,
  documentRegion,
  expectBadge,
  scenarioLoader,
  scenarioOf,
} from './support/story-helpers'
import { withMessage } from './support/workspace-files'

/**
 * The badge in every state, driven by the real stack on simulated time: a workspace session (save coordinator and
 * load machine) over the repository, on a memory disk whose faults and latency are `createFaultyStorage` rules.
 * The project was saved once an hour before each story starts (revision 1). The toolbar steps the time; the disk
 * log under each story shows every save the coordinator made.
 */
const meta = {
  title: 'saveflow/SaveStatusBadge',
  component: SaveStatusBadge,
  beforeEach: disposeScenario,
  render: (_args, context) => {
    const scenario = scenarioOf(context)
    return (
      <ScenarioFrame scenario={scenario}>
        <ProjectRow scenario={scenario} />
      </ScenarioFrame>
    )
  },
} satisfies Meta<typeof SaveStatusBadge>

export default meta
type Story = StoryObj<typeof meta>

const project = { key: 'project', label: 'Project' } as const
/** Every write and append of the workspace's files fails, backups included. */
const everyWrite = ['writeAtomic', 'append'] as const

/** Everything is on disk; "Saved 5 s ago" keeps counting as time passes. */
export const AllSaved: Story = {
  loaders: [scenarioLoader(() => ({ documents: [project] }))],
  play: async (context) => {
    const { canvasElement } = context
    const scenario = scenarioOf(context)
    const region = documentRegion(canvasElement, 'Project')
    await expectBadge(region, 'All changes saved')
    await expect(within(region).getByRole('textbox')).toHaveValue('Garden plan')

    await userEvent.type(within(region).getByRole('textbox'), '!')
    await scenario.advanceUntil(() => scenario.coordinator.status('project').status === 'saved')
    await expectBadge(region, 'Saved just now')

    await scenario.advance(5000)
    await expectBadge(region, 'Saved 5 s ago')
    await expect(badgeLabel(canvasElement)).toBe('Saved 5 s ago')
    await scenario.advance(60_000)
    await expectBadge(region, 'Saved 1 min ago')
    await expect(diskWrites(canvasElement)).toEqual([expect.stringMatching(/project revision 2 .*: saved$/)])
  },
}

/** Each keystroke restarts the debounce: nothing is written while the user types. */
export const Typing: Story = {
  loaders: [scenarioLoader(() => ({ documents: [project], config: { saveDebounce: 300 } }))],
  play: async (context) => {
    const { canvasElement } = context
    const scenario = scenarioOf(context)
    const region = documentRegion(canvasElement, 'Project')
    const textbox = within(region).getByRole('textbox')

    await userEvent.type(textbox, ' for spring')
    await expectBadge(region, 'Unsaved changes')
    await scenario.advance(200)
    await userEvent.type(textbox, '!')
    // 200 + 250 ms since the first keystroke, but only 250 ms since the last: still waiting.
    await scenario.advance(250)
    await expectBadge(region, 'Unsaved changes')
    await expect(within(region).getByText('revision in memory 13, on disk 1')).toBeInTheDocument()
    await expect(within(canvasElement).getByText('No writes yet.')).toBeInTheDocument()
  },
}

/** A write in flight. */
export const Saving: Story = {
  loaders: [scenarioLoader(() => ({ documents: [project], latencyMs: 60_000 }))],
  play: async (context) => {
    const { canvasElement } = context
    const scenario = scenarioOf(context)
    const region = documentRegion(canvasElement, 'Project')
    await userEvent.type(within(region).getByRole('textbox'), '.')
    await scenario.advance(400)
    await expectBadge(region, 'Saving…')
    await expectBadge(canvasElement, 'Saving…')
    await waitFor(() => expect(diskWrites(canvasElement)).toEqual([expect.stringMatching(/writing/)]))
  },
}

/** Edits made during a long write are kept and saved right after it: only the revision written is marked saved. */
export const SlowDisk: Story = {
  loaders: [scenarioLoader(() => ({ documents: [project], latencyMs: 3000 }))],
  play: async (context) => {
    const { canvasElement } = context
    const scenario = scenarioOf(context)
    const region = documentRegion(canvasElement, 'Project')
    const textbox = within(region).getByRole('textbox')

    await userEvent.type(textbox, '.')
    await scenario.advance(400)
    await expectBadge(region, 'Saving…')
    await userEvent.type(textbox, '..')
    await scenario.advance(1000)
    await expect(within(region).getByText('revision in memory 4, on disk 1')).toBeInTheDocument()

    await scenario.advanceUntil(() => scenario.saves.records.some((save) => save.result === 'ok'))
    // Revision 2 is durable, but 4 is in memory: not "saved" yet.
    await waitFor(() =>
      expect(within(region).getByText('revision in memory 4, on disk 2')).toBeInTheDocument(),
    )
    await expect(badgeLabel(region)).not.toMatch(/^Saved/)

    await scenario.advanceUntil(() => scenario.coordinator.status('project').status === 'saved')
    await expectBadge(region, 'Saved just now')
    await expect(within(region).getByText('revision in memory 4, on disk 4')).toBeInTheDocument()
    await expect(diskWrites(canvasElement)).toEqual([
      expect.stringMatching(/revision 2 .*: saved$/),
      expect.stringMatching(/revision 4 .*: saved$/),
    ])
  },
}

/** ENOSPC: retried slowly, never given up on, with the hint; saving resumes by itself once space is freed. */
export const DiskFullRetrying: Story = {
  loaders: [
    scenarioLoader(() => ({
      documents: [project],
      config: { retry: { maxDelay: 10_000 } },
      faults: [{ op: everyWrite, code: 'ENOSPC' }],
    })),
  ],
  render: (_args, context) => {
    const scenario = scenarioOf(context)
    return (
      <ScenarioFrame scenario={scenario}>
        <ProjectRow scenario={scenario} />
        <ClearFaultButton scenario={scenario} code="ENOSPC">
          Free some space on the disk
        </ClearFaultButton>
      </ScenarioFrame>
    )
  },
  play: async (context) => {
    const { canvasElement } = context
    const canvas = within(canvasElement)
    const scenario = scenarioOf(context)
    const region = documentRegion(canvasElement, 'Project')

    await userEvent.type(within(region).getByRole('textbox'), '.')
    await scenario.advanceUntil(() => scenario.coordinator.status('project').status === 'retrying')
    await expectBadge(region, /^Retrying in \d+ s, attempt 2$/)
    await expect(within(region).getByText('The disk is full.')).toBeInTheDocument()
    await expect(within(region).getByText('Free some space; saving resumes by itself.')).toBeInTheDocument()
    // No Retry button and no alert: there is nothing to do but free space.
    await expect(within(region).queryByRole('alert')).toBeNull()
    await expect(canvas.getByRole('region', { name: 'Disk' })).toHaveTextContent(
      'every write fails now: disk full',
    )

    await scenario.advanceUntil(() => scenario.coordinator.status('project').attempt >= 3)
    await expectBadge(region, /^Retrying in \d+ s, attempt 4$/)
    await waitFor(() => expect(canvas.getByText("Couldn't save Project")).toBeInTheDocument())
    await expect(diskWrites(canvasElement)).toEqual(
      Array.from({ length: 3 }, () => expect.stringMatching(/failed, ENOSPC \(disk full\)$/)),
    )

    await userEvent.click(canvas.getByRole('button', { name: 'Free some space on the disk' }))
    await scenario.advanceUntil(() => scenario.coordinator.status('project').status === 'saved')
    await expectBadge(region, 'Saved just now')
    await waitFor(() => expect(canvas.getByText('Project is saved again')).toBeInTheDocument())
    await expect(canvas.getByRole('button', { name: 'Free some space on the disk' })).toBeDisabled()
  },
}

/** EACCES: waiting will not help, so it fails at once with the hint; Retry tries again on the user's word. */
export const PermissionDenied: Story = {
  loaders: [scenarioLoader(() => ({ documents: [project], faults: [{ op: everyWrite, code: 'EACCES' }] }))],
  render: (_args, context) => {
    const scenario = scenarioOf(context)
    return (
      <ScenarioFrame scenario={scenario}>
        <ProjectRow scenario={scenario} />
        <ClearFaultButton scenario={scenario} code="EACCES">
          Fix the folder permissions
        </ClearFaultButton>
      </ScenarioFrame>
    )
  },
  play: async (context) => {
    const { canvasElement } = context
    const canvas = within(canvasElement)
    const scenario = scenarioOf(context)
    const region = documentRegion(canvasElement, 'Project')

    await userEvent.type(within(region).getByRole('textbox'), '.')
    await scenario.advanceUntil(() => scenario.coordinator.status('project').status === 'failed')
    await expectBadge(region, 'Not saved')
    const alert = await within(region).findByRole('alert')
    await expect(alert).toHaveTextContent('saveflow is not allowed to write to the data folder.')
    await expect(alert).toHaveTextContent('Check the folder permissions, then press Retry.')
    // Failed at once: one write, and no retry by itself however long one waits.
    await scenario.advance(60_000)
    await expect(diskWrites(canvasElement)).toEqual([expect.stringMatching(/failed, EACCES/)])

    await userEvent.click(canvas.getByRole('button', { name: 'Fix the folder permissions' }))
    await userEvent.click(within(alert).getByRole('button', { name: 'Retry' }))
    await scenario.advanceUntil(() => scenario.coordinator.status('project').status === 'saved')
    await expectBadge(region, 'Saved just now')
    await expect(diskWrites(canvasElement)).toEqual([
      expect.stringMatching(/revision 2 .*: failed, EACCES/),
      expect.stringMatching(/revision 2 .*: saved$/),
    ])
  },
}

/** Invalid data (a project without a name) is not written; the last good copy stays. A valid edit saves again. */
export const ValidationRejected: Story = {
  loaders: [scenarioLoader(() => ({ documents: [project] }))],
  play: async (context) => {
    const { canvasElement } = context
    const scenario = scenarioOf(context)
    const region = documentRegion(canvasElement, 'Project')
    const textbox = within(region).getByRole('textbox')
    const onDisk = scenario.memory.files()

    await userEvent.clear(textbox)
    await scenario.advanceUntil(() => scenario.coordinator.status('project').status === 'failed')
    const alert = await within(region).findByRole('alert')
    await expect(alert).toHaveTextContent('The data does not match its schema at "metadata.name"')
    await expect(alert).toHaveTextContent('The last good copy on disk is unchanged.')
    await expect(within(canvasElement).getByText('No writes yet.')).toBeInTheDocument()
    await expect(scenario.memory.files()).toEqual(onDisk)

    await userEvent.type(textbox, 'Tea')
    await scenario.advanceUntil(() => scenario.coordinator.status('project').status === 'saved')
    await expectBadge(region, 'Saved just now')
    await expect(within(region).queryByRole('alert')).toBeNull()
  },
}

const lockedBy = new SaveflowError('locked', {
  details: { holder: { app: 'saveflow', pid: 4312, host: 'studio-mac' } },
}).toJSON()

/** Another process holds the workspace lock: read-only, naming the holder, and nothing is written. */
export const ReadOnlyLocked: Story = {
  loaders: [scenarioLoader(() => ({ documents: [project], readOnly: lockedBy }))],
  play: async (context) => {
    const { canvasElement } = context
    const scenario = scenarioOf(context)
    const region = documentRegion(canvasElement, 'Project')
    await expectBadge(region, 'Read-only: opened by saveflow process 4312 on studio-mac')
    await expect(
      within(region).getByText('Close the other one; this one stays read-only until then.'),
    ).toBeVisible()
    // The project was read all the same: it is shown, never written.
    await expect(within(region).getByRole('textbox')).toHaveValue('Garden plan')
    await expect(within(region).getByRole('textbox')).toHaveAttribute('readonly')
    await expectBadge(canvasElement, 'Read-only: opened by saveflow process 4312 on studio-mac')
    await scenario.advance(10_000)
    await expect(within(canvasElement).getByText('No writes yet.')).toBeInTheDocument()
  },
}

const MAX_WRITES = 2
const conversations = Array.from({ length: 50 }, (_, i) => {
  const id = String(i + 1).padStart(2, '0')
  return { key: `conversation/c${id}`, label: `Chat ${id}` } as const
})

/** One line of the 50-conversation grid: its badge, and whether its save holds a write slot right now. */
function ConversationCell({ scenario, docKey }: { scenario: Scenario; docKey: string }) {
  useDocumentStatus(docKey)
  const writing = useSaveflowSelector((snapshot) =>
    snapshot.context.holders.some((holder) => holder.key === docKey),
  )
  return (
    <li
      data-writing={writing}
      style={{ display: 'flex', gap: '6px', alignItems: 'center', fontSize: '12px' }}
    >
      <span style={{ width: '4rem' }}>{scenario.label(docKey)}</span>
      <SaveStatusBadge documentKey={docKey} style={{ padding: '0 6px', font: '400 11px/1.4 system-ui' }} />
      {writing && <strong>writing</strong>}
    </li>
  )
}

function Concurrency({ scenario }: { scenario: Scenario }) {
  const aggregate = useSaveStatus()
  const most = useSyncExternalStore(
    (listener) => scenario.saves.subscribe(listener),
    () => scenario.saves.maxActive,
  )
  return (
    <p>
      Writes in flight: <output aria-label="Writes in flight">{aggregate.writesInFlight}</output> of{' '}
      {MAX_WRITES} (most at once: <output aria-label="Most at once">{most}</output>); saved{' '}
      {aggregate.counts.saved}, waiting or writing {aggregate.counts.saving + aggregate.counts.unsaved}
    </p>
  )
}

/** 50 conversations edited at once: they all save, never more than `maxConcurrentWrites` writes at a time. */
export const ManyDocuments: Story = {
  loaders: [
    scenarioLoader(() => ({
      documents: conversations,
      // New chats: nothing on disk yet, each opens empty and its first save creates its log.
      files: async () => ({}),
      latencyMs: 400,
      config: { maxConcurrentWrites: MAX_WRITES },
    })),
  ],
  render: (_args, context) => {
    const scenario = scenarioOf(context)
    return (
      <ScenarioFrame scenario={scenario}>
        <button
          type="button"
          style={storyButton}
          onClick={() => {
            for (const doc of conversations) {
              scenario.change<Conversation>(doc.key, (conversation) =>
                withMessage(conversation, `New message in ${doc.label}`, scenario.clock.now()),
              )
            }
          }}
        >
          Add a message to all 50 chats
        </button>
        <Concurrency scenario={scenario} />
        <ul
          aria-label="Conversations"
          style={{
            display: 'grid',
            gridTemplateColumns: 'repeat(3, 1fr)',
            gap: '4px',
            padding: 0,
            listStyle: 'none',
          }}
        >
          {conversations.map((doc) => (
            <ConversationCell key={doc.key} scenario={scenario} docKey={doc.key} />
          ))}
        </ul>
      </ScenarioFrame>
    )
  },
  play: async (context) => {
    const { canvasElement } = context
    const canvas = within(canvasElement)
    const scenario = scenarioOf(context)
    const list = canvas.getByRole('list', { name: 'Conversations' })

    await userEvent.click(canvas.getByRole('button', { name: 'Add a message to all 50 chats' }))
    await expectBadge(canvasElement, 'Unsaved changes')
    let sawFullSlots = false
    await scenario.advanceUntil(
      () => {
        // Checked at every step, from what the page shows: never more writes at once than the limit.
        const writing = list.querySelectorAll('[data-writing="true"]').length
        if (writing > MAX_WRITES) throw new Error(`${writing} writes at once`)
        if (writing === MAX_WRITES) sawFullSlots = true
        return scenario.coordinator.aggregate().status === 'saved'
      },
      { stepMs: 100 },
    )
    await expect(sawFullSlots).toBe(true)
    await waitFor(() => expect(canvas.getByLabelText('Most at once')).toHaveTextContent(String(MAX_WRITES)))
    await waitFor(() => expect(list.querySelectorAll('[data-status="saved"]')).toHaveLength(50))
    await expect(canvas.getByLabelText('Writes in flight')).toHaveTextContent('0')
    // Each chat is its own log on disk now, holding the message.
    await expect(scenario.memory.readText('conversations/c50.jsonl')).toContain('New message in Chat 50')
  },
}
