import { act, render, screen, waitFor, within } from '@testing-library/react'
import userEvent from '@testing-library/user-event'
import { describe, expect, it, vi } from 'vitest'
import { SimulatedClock } from 'xstate'
import { SaveflowError } from '../../src/core/errors'
import type { SaveEvent } from '../../src/core/status'
import { SaveflowProvider, SaveToasts, uiClockFrom } from '../../src/react/index'
import { createFakeCoordinator } from './support/fake-coordinator'

const eio = new SaveflowError('io', { sysCode: 'EIO' }).toJSON()
const eacces = new SaveflowError('permission-denied', { sysCode: 'EACCES' }).toJSON()

function setup(onShowBackups?: (key: string) => void) {
  const coordinator = createFakeCoordinator()
  coordinator.set('project', { status: 'saving', maxAttempts: 5 })
  const clock = new SimulatedClock()
  const view = render(
    <SaveflowProvider coordinator={coordinator} clock={uiClockFrom(clock, () => clock.now())}>
      <SaveToasts
        documentLabel={(key) => (key === 'project' ? 'Project' : key)}
        {...(onShowBackups === undefined ? {} : { onShowBackups })}
      />
    </SaveflowProvider>,
  )
  const toasts = () => document.querySelectorAll('[data-sonner-toast]')
  const emit = (event: SaveEvent) => act(() => coordinator.emit(event))
  return { coordinator, clock, view, toasts, emit }
}

const retrying = (attempt: number, retryAt: number, error = eio): SaveEvent => ({
  type: 'save.retrying',
  key: 'project',
  revision: 4,
  attempt,
  error,
  retryAt,
})

describe('SaveToasts', () => {
  it('tells one failure episode in one toast, updated in place', async () => {
    const { toasts, emit } = setup()
    emit(retrying(1, 1000))
    await screen.findByText("Couldn't save Project")
    expect(screen.getByText(/Next try in 1 s \(attempt 2 of 5\)/)).toBeInTheDocument()

    emit(retrying(2, 3000))
    await screen.findByText(/Next try in 3 s \(attempt 3 of 5\)/)
    expect(toasts()).toHaveLength(1)

    emit({ type: 'save.recovered', key: 'project', revision: 4, failedAttempts: 2 })
    emit({ type: 'save.succeeded', key: 'project', revision: 4, attempt: 3, durationMs: 5, bytes: 10, at: 0 })
    await screen.findByText('Project is saved again')
    expect(screen.getByText('It saved after 2 failed attempts.')).toBeInTheDocument()
    expect(toasts()).toHaveLength(1)
  })

  it('shows nothing for a save that succeeds at once', async () => {
    const { toasts, emit } = setup()
    emit({ type: 'save.succeeded', key: 'project', revision: 1, attempt: 1, durationMs: 5, bytes: 10, at: 0 })
    // Give sonner a frame to render anything it was asked to.
    await new Promise((resolve) => requestAnimationFrame(resolve))
    expect(toasts()).toHaveLength(0)
  })

  it('offers Retry and Show backups on a failure', async () => {
    const onShowBackups = vi.fn()
    const { coordinator, toasts, emit } = setup(onShowBackups)
    emit({ type: 'save.failed', key: 'project', revision: 2, attempt: 1, error: eacces })
    const toast = await waitFor(() => {
      const [first] = toasts()
      if (first === undefined) throw new Error('no toast yet')
      return first as HTMLElement
    })
    expect(toast).toHaveTextContent('Project is not saved')
    expect(toast).toHaveTextContent('Check the folder permissions, then press Retry.')

    await userEvent.click(within(toast).getByRole('button', { name: 'Retry' }))
    expect(coordinator.retried).toEqual(['project'])
    // Retry keeps the toast: the retry's outcome is told in it.
    expect(toasts()).toHaveLength(1)

    await userEvent.click(within(toast).getByRole('button', { name: 'Show backups' }))
    expect(onShowBackups).toHaveBeenCalledWith('project')
  })

  it('opens a new toast for a new episode after a recovery', async () => {
    const { emit } = setup()
    emit(retrying(1, 1000))
    emit({ type: 'save.recovered', key: 'project', revision: 4, failedAttempts: 1 })
    await screen.findByText('Project is saved again')
    emit({ type: 'save.failed', key: 'project', revision: 5, attempt: 1, error: eacces })
    await screen.findByText('Project is not saved')
    // Both stories are on screen: the recovery was not overwritten by the next failure.
    expect(screen.getByText('Project is saved again')).toBeInTheDocument()
  })

  it('stops listening when unmounted', () => {
    const { coordinator, view } = setup()
    expect(coordinator.listenerCount()).toBe(4)
    view.unmount()
    expect(coordinator.listenerCount()).toBe(0)
  })
})
