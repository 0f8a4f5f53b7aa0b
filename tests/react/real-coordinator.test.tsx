import { act, render, screen } from '@testing-library/react'
import { afterEach, describe, expect, it } from 'vitest'
import { SimulatedClock } from 'xstate'
import { createSaveCoordinator, type SaveCoordinator, type WriteFn } from '../../src/core/save-coordinator'
import { selectWritesInFlight } from '../../src/core/save-selectors'
import {
  SaveflowProvider,
  SaveStatusBadge,
  uiClockFrom,
  useDocumentStatus,
  useSaveflowSelector,
} from '../../src/react/index'

/** Lets the write promises and the actors' reactions to them run. */
const flush = () => new Promise((resolve) => setTimeout(resolve, 0))

let coordinator: SaveCoordinator | undefined
afterEach(() => coordinator?.stop())

function setup(options: { write?: WriteFn } = {}) {
  const clock = new SimulatedClock()
  clock.set(1_000_000)
  const writes: string[] = []
  coordinator = createSaveCoordinator({
    clock,
    now: () => clock.now(),
    random: () => 0.5,
    config: { saveDebounce: 300 },
    write:
      options.write ??
      (async ({ key, revision }) => {
        writes.push(`${key}@${revision}`)
        return { bytes: 1 }
      }),
  })
  coordinator.register('project', { kind: 'project' })
  coordinator.register('settings', { kind: 'settings' })
  const advance = async (ms: number) => {
    await act(async () => {
      clock.increment(ms)
      await flush()
    })
  }
  return { coordinator, clock, writes, advance, ui: uiClockFrom(clock, () => clock.now()) }
}

function Probe({ docKey, renders }: { docKey: string; renders: { count: number } }) {
  renders.count += 1
  const status = useDocumentStatus(docKey)
  return <p data-testid={docKey}>{status?.status}</p>
}

function WritesProbe({ renders }: { renders: { count: number } }) {
  renders.count += 1
  const writes = useSaveflowSelector(selectWritesInFlight)
  return <p data-testid="writes">{writes}</p>
}

describe('saveflow/react on the real coordinator', () => {
  it('selects from the coordinator snapshot with a saveflow selector, re-rendering only when it changes', async () => {
    let finish: (() => void) | undefined
    const { coordinator, advance, ui } = setup({
      write: () =>
        new Promise((resolve) => {
          finish = () => resolve({ bytes: 1 })
        }),
    })
    const renders = { count: 0 }
    render(
      <SaveflowProvider coordinator={coordinator} clock={ui}>
        <WritesProbe renders={renders} />
      </SaveflowProvider>,
    )
    const afterMount = renders.count

    // Edits change the snapshot, not the number of writes in flight.
    act(() => {
      coordinator.change('project', { name: 'Garden' })
      coordinator.change('settings', { theme: 'dark' })
    })
    expect(renders.count).toBe(afterMount)
    await advance(300)
    expect(screen.getByTestId('writes').textContent).toBe('2')
    expect(renders.count).toBe(afterMount + 1)

    await act(async () => {
      finish?.()
      await flush()
    })
    expect(screen.getByTestId('writes').textContent).toBe('1')
  })

  it("does not re-render a document's component for another document's saves", async () => {
    const { coordinator, advance, ui, writes } = setup()
    const renders = { count: 0 }
    render(
      <SaveflowProvider coordinator={coordinator} clock={ui}>
        <Probe docKey="project" renders={renders} />
      </SaveflowProvider>,
    )
    const afterMount = renders.count

    act(() => {
      coordinator.change('settings', { theme: 'dark' })
    })
    await advance(300)
    await advance(10)
    expect(writes).toEqual(['settings@1'])
    expect(coordinator.status('settings').status).toBe('saved')
    expect(renders.count).toBe(afterMount)

    act(() => {
      coordinator.change('project', { name: 'Garden' })
    })
    expect(screen.getByTestId('project').textContent).toBe('unsaved')
    expect(renders.count).toBe(afterMount + 1)
  })

  it('shows the save of an edit in the badge, then how long ago it was', async () => {
    const { coordinator, advance, ui } = setup()
    const view = render(
      <SaveflowProvider coordinator={coordinator} clock={ui}>
        <SaveStatusBadge documentKey="project" />
      </SaveflowProvider>,
    )
    const label = () => view.container.querySelector('[data-part="label"]')?.textContent
    expect(label()).toBe('All changes saved')

    act(() => {
      coordinator.change('project', { name: 'Garden' })
    })
    expect(label()).toBe('Unsaved changes')
    await advance(300)
    await advance(10)
    expect(label()).toBe('Saved just now')
    await advance(5000)
    expect(label()).toBe('Saved 5 s ago')
  })
})
