import { describe, expect, it } from 'vitest'
import { SaveflowError } from '../../src/core/errors'
import { createSaveCoordinator } from '../../src/core/save-coordinator'
import type { SaveEvent } from '../../src/core/status'
import { createTestCoordinator } from '../machines/harness'

const config = { saveDebounce: 300, maxWait: 1000 }

describe('createSaveCoordinator', () => {
  it('hands out a new revision per change', () => {
    const { coordinator } = createTestCoordinator({ config })
    coordinator.register('project', { kind: 'project' })
    expect([1, 2, 3].map((n) => coordinator.change('project', { n }))).toEqual([1, 2, 3])
    expect(coordinator.keys()).toEqual(['project'])
  })

  it('refuses a key registered twice and names unknown keys', async () => {
    const { coordinator } = createTestCoordinator({ config })
    coordinator.register('project', { kind: 'project' })
    expect(() => coordinator.register('project', { kind: 'project' })).toThrowError(
      expect.objectContaining({ code: 'invalid-id' }),
    )
    expect(() => coordinator.change('nobody', 1)).toThrowError(expect.objectContaining({ code: 'not-found' }))
    expect(() => coordinator.status('nobody')).toThrowError(SaveflowError)
    await expect(coordinator.flush('nobody')).rejects.toMatchObject({ code: 'not-found' })
    await expect(coordinator.unregister('nobody')).rejects.toMatchObject({ code: 'not-found' })
  })

  it('rejects an invalid configuration with the field named', () => {
    expect(() =>
      createSaveCoordinator({ write: async () => ({ bytes: 0 }), config: { maxConcurrentWrites: 0 } }),
    ).toThrowError(
      expect.objectContaining({ code: 'invalid-data', details: { field: 'maxConcurrentWrites' } }),
    )
  })

  it('applies per-document overrides on top of the workspace settings', async () => {
    const { clock, storage, coordinator } = createTestCoordinator({
      config: { ...config, retry: { maxAttempts: 5, delay: 100 } },
    })
    coordinator.register('cache/x', {
      kind: 'cache',
      config: { saveDebounce: 2000, maxWait: 5000, retry: { maxAttempts: 1 } },
    })
    coordinator.register('project', { kind: 'project' })
    expect(coordinator.status('cache/x').maxAttempts).toBe(1)
    expect(coordinator.status('project').maxAttempts).toBe(5)
    storage.fallback = () => ({ fail: 'EIO' })
    coordinator.change('cache/x', 1)
    await clock.advance(1999)
    expect(storage.writes).toHaveLength(0)
    await clock.advance(11)
    // One attempt allowed: the first failure is final.
    expect(coordinator.status('cache/x').status).toBe('failed')
  })

  it('calls subscribers on every change until they unsubscribe', async () => {
    const { clock, coordinator } = createTestCoordinator({ config })
    coordinator.register('project', { kind: 'project' })
    const seen: string[] = []
    const unsubscribe = coordinator.subscribe(() => seen.push(coordinator.status('project').status))
    coordinator.change('project', 1)
    await clock.advance(310)
    expect(seen).toContain('unsaved')
    expect(seen).toContain('saving')
    expect(seen.at(-1)).toBe('saved')
    unsubscribe()
    const count = seen.length
    coordinator.change('project', 2)
    expect(seen).toHaveLength(count)
  })

  it('relays save events by type until the listener unsubscribes', async () => {
    const { clock, storage, coordinator } = createTestCoordinator({ config })
    coordinator.register('project', { kind: 'project' })
    const succeeded: SaveEvent[] = []
    const off = coordinator.on('save.succeeded', (event) => succeeded.push(event))
    storage.queue({ fail: 'EBUSY' })
    coordinator.change('project', 1)
    await clock.advance(2000)
    expect(succeeded).toEqual([
      expect.objectContaining({ type: 'save.succeeded', key: 'project', attempt: 2 }),
    ])
    off()
    coordinator.change('project', 2)
    await clock.advance(2000)
    expect(succeeded).toHaveLength(1)
  })

  it('flushes a document before unregistering it', async () => {
    const { clock, storage, coordinator } = createTestCoordinator({ config })
    coordinator.register('project', { kind: 'project' })
    coordinator.change('project', { n: 1 })
    const outcome = coordinator.unregister('project')
    await clock.advance(10)
    await expect(outcome).resolves.toEqual({
      key: 'project',
      result: 'saved',
      savedRevision: 1,
      pendingRevision: 1,
    })
    expect(storage.stored.get('project')).toEqual({ n: 1 })
    expect(coordinator.keys()).toEqual([])
    expect(coordinator.metrics('project')).toEqual([])
  })

  it('reports timeout for a flush held by pause', async () => {
    const { clock, coordinator } = createTestCoordinator({ config })
    coordinator.register('project', { kind: 'project' })
    coordinator.pause()
    coordinator.change('project', 1)
    const outcome = coordinator.flush('project', { deadlineMs: 500 })
    await clock.advance(500)
    await expect(outcome).resolves.toMatchObject({ result: 'timeout', savedRevision: 0, pendingRevision: 1 })
  })

  it('reports the last error of a document still retrying at the deadline', async () => {
    const { clock, storage, coordinator } = createTestCoordinator({ config })
    coordinator.register('project', { kind: 'project' })
    storage.fallback = () => ({ fail: 'ENOSPC' })
    coordinator.change('project', 1)
    const outcome = coordinator.flush('project', { deadlineMs: 3000 })
    await clock.advance(3000)
    await expect(outcome).resolves.toMatchObject({ result: 'timeout', error: { code: 'disk-full' } })
  })

  it('ends pending flushes as failed when stopped', async () => {
    const { clock, storage, coordinator } = createTestCoordinator({ config })
    coordinator.register('project', { kind: 'project' })
    storage.queue({ ms: 10_000 })
    coordinator.change('project', 1)
    const outcome = coordinator.flush('project')
    await clock.advance(10)
    coordinator.stop()
    await expect(outcome).resolves.toMatchObject({ result: 'failed', error: { code: 'aborted' } })
    expect(storage.writes[0]?.outcome).toBe('aborted')
  })

  it('saves on the host clock when no clock is given', async () => {
    const stored: unknown[] = []
    const coordinator = createSaveCoordinator({
      write: async ({ data }) => {
        stored.push(data)
        return { bytes: 1 }
      },
      config: { saveDebounce: 0 },
    })
    coordinator.register('settings', { kind: 'settings', loaded: false })
    coordinator.change('settings', { theme: 'dark' })
    coordinator.markLoaded('settings')
    const outcome = await coordinator.flush('settings')
    expect(outcome.result).toBe('saved')
    expect(stored).toEqual([{ theme: 'dark' }])
    expect(coordinator.status('settings').lastSavedAt).toEqual(expect.any(Number))
    coordinator.stop()
  })
})
