import { act, render, screen, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it } from 'vitest'
import { SimulatedClock } from 'xstate'
import { SaveflowError } from '../../src/core/errors'
import { SaveflowProvider, SaveStatusBadge, uiClockFrom } from '../../src/react/index'
import { createFakeCoordinator } from './support/fake-coordinator'

function setup(documentKey?: string) {
  const coordinator = createFakeCoordinator()
  const clock = new SimulatedClock()
  clock.set(1_000_000)
  const ui = uiClockFrom(clock, () => clock.now())
  const view = render(
    <SaveflowProvider coordinator={coordinator} clock={ui}>
      <SaveStatusBadge {...(documentKey === undefined ? {} : { documentKey })} />
    </SaveflowProvider>,
  )
  const label = () => view.container.querySelector('[data-part="label"]')?.textContent
  const live = () => view.container.querySelector('[aria-live="polite"]')?.textContent
  const advance = (ms: number) => act(() => clock.increment(ms))
  return { coordinator, clock, label, live, advance, view }
}

describe('SaveStatusBadge', () => {
  it('says how long ago the document was saved, and keeps it current', () => {
    const { coordinator, clock, label, live, advance } = setup('project')
    act(() => coordinator.set('project', { status: 'saved', lastSavedAt: clock.now() - 5000 }))
    expect(label()).toBe('Saved 5 s ago')
    expect(live()).toBe('All changes saved')

    advance(3000)
    expect(label()).toBe('Saved 8 s ago')
    advance(60_000)
    expect(label()).toBe('Saved 1 min ago')
    // The live region does not tick with the label.
    expect(live()).toBe('All changes saved')
  })

  it('shows unsaved, saving and loading', () => {
    const { coordinator, label, live } = setup('project')
    expect(label()).toBe('Loading…')
    act(() => coordinator.set('project', { status: 'unsaved' }))
    expect(label()).toBe('Unsaved changes')
    expect(live()).toBe('Unsaved changes')
    act(() => coordinator.set('project', { status: 'saving' }))
    expect(label()).toBe('Saving…')
    act(() => coordinator.set('project', { status: 'loading' }))
    expect(label()).toBe('Loading…')
  })

  it('counts down to the next attempt while retrying', () => {
    const { coordinator, clock, label, live, advance } = setup('project')
    act(() =>
      coordinator.set('project', {
        status: 'retrying',
        attempt: 1,
        maxAttempts: 5,
        nextRetryAt: clock.now() + 3000,
        lastError: new SaveflowError('io', { sysCode: 'EIO' }).toJSON(),
      }),
    )
    expect(label()).toBe('Retrying in 3 s, attempt 2 of 5')
    expect(live()).toBe('Saving failed; retrying, attempt 2 of 5')
    expect(screen.getByText('The disk reported an input/output error.')).toBeInTheDocument()
    expect(screen.queryByRole('alert')).toBeNull()

    advance(1000)
    expect(label()).toBe('Retrying in 2 s, attempt 2 of 5')
    advance(2000)
    expect(label()).toBe('Retrying now, attempt 2 of 5')
  })

  it('shows a full disk without an attempt limit, and its hint', () => {
    const { coordinator, clock, label } = setup('project')
    act(() =>
      coordinator.set('project', {
        status: 'retrying',
        attempt: 3,
        nextRetryAt: clock.now() + 30_000,
        lastError: new SaveflowError('disk-full', { sysCode: 'ENOSPC' }).toJSON(),
      }),
    )
    expect(label()).toBe('Retrying in 30 s, attempt 4')
    expect(screen.getByText('Free some space; saving resumes by itself.')).toBeInTheDocument()
  })

  it('alerts a failure with its message and hint, and Retry retries the document', async () => {
    const { coordinator, label } = setup('project')
    act(() =>
      coordinator.set('project', {
        status: 'failed',
        attempt: 1,
        lastError: new SaveflowError('permission-denied', { sysCode: 'EACCES' }).toJSON(),
      }),
    )
    expect(label()).toBe('Not saved')
    const alert = screen.getByRole('alert')
    expect(alert).toHaveTextContent('saveflow is not allowed to write to the data folder.')
    expect(alert).toHaveTextContent('Check the folder permissions, then press Retry.')

    await userEvent.click(within(alert).getByRole('button', { name: 'Retry' }))
    expect(coordinator.retried).toEqual(['project'])
  })

  it('names the holder of the lock when read-only', () => {
    const { coordinator, label } = setup('project')
    act(() =>
      coordinator.set('project', {
        status: 'readOnly',
        lastError: new SaveflowError('locked', {
          details: { holder: { pid: 4312, host: 'studio-mac' } },
        }).toJSON(),
      }),
    )
    expect(label()).toBe('Read-only: opened by process 4312 on studio-mac')
    expect(screen.getByText('Close the other one; this one stays read-only until then.')).toBeInTheDocument()
  })

  it('says read-only alone when the holder is unknown', () => {
    const { coordinator, label } = setup('project')
    act(() => coordinator.set('project', { status: 'readOnly', lastError: null }))
    expect(label()).toBe('Read-only')
  })

  it('shows the most urgent document of the workspace and retries every failed one', async () => {
    const { coordinator, label, view } = setup()
    act(() => {
      coordinator.set('project', { status: 'saved', lastSavedAt: 999_000 })
      coordinator.set('conversation/a', { status: 'failed', lastError: new SaveflowError('io').toJSON() })
      coordinator.set('conversation/b', { status: 'failed', lastError: new SaveflowError('io').toJSON() })
      coordinator.set('settings', { status: 'unsaved' })
    })
    expect(view.container.firstElementChild).toHaveAttribute('data-status', 'failed')
    expect(label()).toBe('Not saved (2 documents)')

    await userEvent.click(screen.getByRole('button', { name: 'Retry' }))
    expect(coordinator.retried).toEqual(['conversation/a', 'conversation/b'])

    act(() => {
      coordinator.set('conversation/a', { status: 'saved', lastError: null, lastSavedAt: 1_000_000 })
      coordinator.set('conversation/b', { status: 'saved', lastError: null, lastSavedAt: 998_000 })
      coordinator.set('settings', { status: 'saved', lastSavedAt: 997_000 })
    })
    // The newest save of any document.
    expect(label()).toBe('Saved just now')
  })
})
