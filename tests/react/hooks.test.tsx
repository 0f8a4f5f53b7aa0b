import { act, render, renderHook, screen, waitFor } from '@testing-library/react'
import type { ReactNode } from 'react'
import { describe, expect, it, vi } from 'vitest'
import {
  type BackupsAdapter,
  SaveflowProvider,
  useBackups,
  useDocumentStatus,
  useSaveStatus,
} from '../../src/react/index'
import { createFakeCoordinator, type FakeCoordinator } from './support/fake-coordinator'

function wrapperFor(coordinator: FakeCoordinator, backups?: BackupsAdapter) {
  return ({ children }: { children: ReactNode }) => (
    <SaveflowProvider coordinator={coordinator} {...(backups === undefined ? {} : { backups })}>
      {children}
    </SaveflowProvider>
  )
}

/** Renders a document's status and counts its renders. */
function DocumentProbe({ docKey, renders }: { docKey: string; renders: { count: number } }) {
  renders.count += 1
  const status = useDocumentStatus(docKey)
  return (
    <p data-testid={`doc-${docKey}`}>
      {status === undefined ? 'none' : `${status.status} r${status.savedRevision}`}
    </p>
  )
}

function AggregateProbe({ renders }: { renders: { count: number } }) {
  renders.count += 1
  const aggregate = useSaveStatus()
  return (
    <p data-testid="aggregate">
      {aggregate.status} failed={aggregate.counts.failed} writes={aggregate.writesInFlight}
    </p>
  )
}

describe('useDocumentStatus', () => {
  it('returns the status of the document and undefined before it is registered', () => {
    const coordinator = createFakeCoordinator()
    const renders = { count: 0 }
    render(<DocumentProbe docKey="project" renders={renders} />, { wrapper: wrapperFor(coordinator) })
    expect(screen.getByTestId('doc-project').textContent).toBe('none')

    act(() => coordinator.set('project', { status: 'unsaved', savedRevision: 3 }))
    expect(screen.getByTestId('doc-project').textContent).toBe('unsaved r3')
  })

  it('re-renders only when the selected document changes', () => {
    const coordinator = createFakeCoordinator()
    coordinator.set('project', { status: 'saved' })
    coordinator.set('settings', { status: 'saved' })
    const renders = { count: 0 }
    render(<DocumentProbe docKey="project" renders={renders} />, { wrapper: wrapperFor(coordinator) })
    const afterMount = renders.count

    // Another document's changes and notifications without a change are not this component's business.
    act(() => coordinator.set('settings', { status: 'saving' }))
    act(() => coordinator.set('settings', { status: 'saved', savedRevision: 1 }))
    act(() => coordinator.poke())
    // Same values, new object: still no re-render.
    act(() => coordinator.set('project', { status: 'saved' }))
    expect(renders.count).toBe(afterMount)

    act(() => coordinator.set('project', { status: 'saving' }))
    expect(renders.count).toBe(afterMount + 1)
    expect(screen.getByTestId('doc-project').textContent).toBe('saving r0')
  })

  it('throws outside a SaveflowProvider', () => {
    // React logs the error it rethrows; keep the test output clean.
    const spy = vi.spyOn(console, 'error').mockImplementation(() => {})
    expect(() => renderHook(() => useDocumentStatus('project'))).toThrow(/SaveflowProvider/)
    spy.mockRestore()
  })
})

describe('useSaveStatus', () => {
  it('puts the most urgent status first and re-renders only when the aggregate changes', () => {
    const coordinator = createFakeCoordinator()
    coordinator.set('a', { status: 'saved' })
    coordinator.set('b', { status: 'saved' })
    const renders = { count: 0 }
    render(<AggregateProbe renders={renders} />, { wrapper: wrapperFor(coordinator) })
    expect(screen.getByTestId('aggregate').textContent).toBe('saved failed=0 writes=0')
    const afterMount = renders.count

    // A revision moving on does not change the aggregate.
    act(() => coordinator.set('a', { savedRevision: 7 }))
    act(() => coordinator.poke())
    expect(renders.count).toBe(afterMount)

    act(() => coordinator.set('b', { status: 'failed' }))
    expect(screen.getByTestId('aggregate').textContent).toBe('failed failed=1 writes=0')
    expect(renders.count).toBe(afterMount + 1)
  })
})

describe('useBackups', () => {
  const list = [
    { id: 'b2', savedAt: 2000, revision: 12, bytes: 2048 },
    { id: 'b1', savedAt: 1000, revision: 9, bytes: 1024 },
  ]

  it('lists the backups from the provider adapter', async () => {
    const adapter: BackupsAdapter = {
      list: vi.fn(async () => list),
      restore: vi.fn(async () => undefined),
      preview: vi.fn(async () => ({ text: '{}' })),
    }
    const { result } = renderHook(() => useBackups('project'), {
      wrapper: wrapperFor(createFakeCoordinator(), adapter),
    })
    expect(result.current.status).toBe('loading')
    await waitFor(() => expect(result.current.status).toBe('ready'))
    expect(result.current.backups.map((b) => b.id)).toEqual(['b2', 'b1'])
    expect(adapter.list).toHaveBeenCalledWith('project')
  })

  it('lists again after a restore, since the replaced version became a backup', async () => {
    let listing = list
    const adapter: BackupsAdapter = {
      list: async () => listing,
      restore: vi.fn(async () => {
        listing = [{ id: 'b3', savedAt: 3000, revision: 13, bytes: 4096 }, ...list]
        return { undoId: 'b3' }
      }),
      preview: async () => ({ text: '{}' }),
    }
    const { result } = renderHook(() => useBackups('project'), {
      wrapper: wrapperFor(createFakeCoordinator(), adapter),
    })
    await waitFor(() => expect(result.current.backups).toHaveLength(2))

    let restored: unknown
    await act(async () => {
      restored = await result.current.restore('b1')
    })
    expect(adapter.restore).toHaveBeenCalledWith('project', 'b1')
    expect(restored).toEqual({ undoId: 'b3' })
    await waitFor(() => expect(result.current.backups).toHaveLength(3))
  })

  it('reports an error when listing fails', async () => {
    const adapter: BackupsAdapter = {
      list: async () => {
        throw new Error('EIO')
      },
      restore: async () => undefined,
      preview: async () => ({ text: '' }),
    }
    const { result } = renderHook(() => useBackups('project'), {
      wrapper: wrapperFor(createFakeCoordinator(), adapter),
    })
    await waitFor(() => expect(result.current.status).toBe('error'))
    expect(result.current.backups).toEqual([])
  })

  it('is unavailable without an adapter', () => {
    const { result } = renderHook(() => useBackups('project'), {
      wrapper: wrapperFor(createFakeCoordinator()),
    })
    expect(result.current.status).toBe('unavailable')
  })
})
