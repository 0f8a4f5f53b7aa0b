import { describe, expect, it } from 'vitest'
import { SaveflowError } from '../../src/core/errors'
import {
  selectAggregateStatus,
  selectDocumentActor,
  selectDocumentStatus,
  selectKeys,
  selectMetrics,
  selectPaused,
  selectWritesInFlight,
} from '../../src/core/save-selectors'
import type { DocumentKind } from '../../src/core/status'
import { createTestCoordinator } from './harness'

const config = { saveDebounce: 300, maxWait: 1000, maxConcurrentWrites: 2 }

function registerAll(harness: ReturnType<typeof createTestCoordinator>, docs: Array<[string, DocumentKind]>) {
  for (const [key, kind] of docs) harness.coordinator.register(key, { kind })
}

describe('saveCoordinatorMachine: write slots', () => {
  it('runs at most maxConcurrentWrites writes at once, and one per document', async () => {
    const harness = createTestCoordinator({ config })
    const { clock, storage, coordinator } = harness
    storage.fallback = () => ({ ms: 100 })
    registerAll(harness, [
      ['a', 'project'],
      ['b', 'project'],
      ['c', 'project'],
    ])
    for (const key of ['a', 'b', 'c']) coordinator.change(key, key)
    await clock.advance(300)
    expect(storage.inFlight).toBe(2)
    expect(coordinator.aggregate().writesInFlight).toBe(2)
    expect(coordinator.status('c').status).toBe('saving')
    await clock.advance(100)
    expect(storage.writes.map((write) => [write.key, write.startedAt])).toEqual([
      ['a', 300],
      ['b', 300],
      ['c', 400],
    ])
    await clock.advance(100)
    expect(storage.maxInFlight).toBe(2)
    expect(storage.overlaps).toBe(0)
    expect(coordinator.aggregate()).toMatchObject({ status: 'saved', writesInFlight: 0 })
  })

  it('grants slots by kind priority, first come first served within a kind', async () => {
    const harness = createTestCoordinator({ config: { ...config, maxConcurrentWrites: 1 } })
    const { clock, storage, coordinator } = harness
    storage.queue({ ms: 1000 })
    registerAll(harness, [
      ['blocker', 'cache'],
      ['cache/x', 'cache'],
      ['conversation/1', 'conversation'],
      ['conversation/2', 'conversation'],
      ['project', 'project'],
      ['settings', 'settings'],
    ])
    coordinator.change('blocker', 0)
    await clock.advance(300)
    for (const key of ['cache/x', 'conversation/1', 'project', 'conversation/2', 'settings']) {
      coordinator.change(key, key)
      await clock.advance(10)
    }
    await clock.advance(2000)
    expect(storage.writes.map((write) => write.key)).toEqual([
      'blocker',
      'settings',
      'project',
      'conversation/1',
      'conversation/2',
      'cache/x',
    ])
  })

  it('lets a flush jump the queue', async () => {
    const harness = createTestCoordinator({ config: { ...config, maxConcurrentWrites: 1 } })
    const { clock, storage, coordinator } = harness
    storage.queue({ ms: 1000 })
    registerAll(harness, [
      ['blocker', 'project'],
      ['settings', 'settings'],
      ['cache/x', 'cache'],
    ])
    coordinator.change('blocker', 0)
    await clock.advance(300)
    coordinator.change('settings', 1)
    coordinator.change('cache/x', 2)
    await clock.advance(300)
    expect(harness.stateOf('cache/x')).toEqual({ writing: 'waitingForSlot' })
    coordinator.flush('cache/x')
    await clock.advance(1000)
    expect(storage.writes.map((write) => write.key)).toEqual(['blocker', 'cache/x', 'settings'])
  })

  it('holds new writes while paused, lets the write in flight finish, and resumes', async () => {
    const harness = createTestCoordinator({ config })
    const { clock, storage, coordinator } = harness
    storage.queue({ ms: 100 })
    registerAll(harness, [
      ['a', 'project'],
      ['b', 'project'],
    ])
    coordinator.change('a', 1)
    await clock.advance(300)
    coordinator.pause()
    expect(selectPaused(coordinator.actor.getSnapshot())).toBe(true)
    coordinator.change('b', 1)
    await clock.advance(5000)
    expect(storage.writes.map((write) => [write.key, write.outcome])).toEqual([['a', 'ok']])
    expect(coordinator.status('b').status).toBe('saving')
    coordinator.resume()
    await clock.advance(10)
    expect(storage.stored.get('b')).toBe(1)
  })

  it('releases the slot and aborts the write when a document is stopped mid-write', async () => {
    const harness = createTestCoordinator({ config: { ...config, maxConcurrentWrites: 1 } })
    const { clock, storage, coordinator } = harness
    storage.queue({ ms: 10_000 })
    registerAll(harness, [
      ['a', 'project'],
      ['b', 'project'],
    ])
    coordinator.change('a', 1)
    coordinator.change('b', 1)
    await clock.advance(300)
    expect(selectWritesInFlight(coordinator.actor.getSnapshot())).toBe(1)
    const outcome = coordinator.unregister('a', { deadlineMs: 100 })
    await clock.advance(100)
    await expect(outcome).resolves.toMatchObject({ key: 'a', result: 'timeout', savedRevision: 0 })
    expect(storage.writesOf('a')[0]?.outcome).toBe('aborted')
    expect(coordinator.keys()).toEqual(['b'])
    await clock.advance(10)
    expect(storage.stored.get('b')).toBe(1)
    expect(coordinator.aggregate()).toMatchObject({ status: 'saved', writesInFlight: 0 })
  })

  it('drops the queued request of a document stopped while waiting for a slot', async () => {
    const harness = createTestCoordinator({ config: { ...config, maxConcurrentWrites: 1 } })
    const { clock, storage, coordinator } = harness
    storage.queue({ ms: 1000 })
    registerAll(harness, [
      ['a', 'project'],
      ['b', 'project'],
    ])
    coordinator.change('a', 1)
    coordinator.change('b', 1)
    await clock.advance(300)
    coordinator.unregister('b', { deadlineMs: 0 })
    await clock.advance(2000)
    expect(storage.writes.map((write) => write.key)).toEqual(['a'])
    expect(coordinator.actor.getSnapshot().context.queue).toEqual([])
  })

  it('ignores slot requests from unknown documents and releases of unknown tickets', () => {
    const { coordinator } = createTestCoordinator({ config })
    coordinator.actor.send({ type: 'slot.request', key: 'ghost', ticket: 1, priority: 0 })
    coordinator.actor.send({ type: 'slot.release', key: 'ghost', ticket: 1 })
    coordinator.actor.send({ type: 'doc.unregister', key: 'ghost' })
    expect(coordinator.actor.getSnapshot().context).toMatchObject({ queue: [], holders: [] })
  })

  it('keeps the first actor when a key is registered twice', () => {
    const harness = createTestCoordinator({ config })
    registerAll(harness, [['a', 'project']])
    const first = harness.actorOf('a')
    const settings = {
      autoSave: true,
      debounceMs: 0,
      maxWaitMs: 0,
      retry: { maxAttempts: 1, delay: 0, backoff: true, maxDelay: 0 },
    }
    harness.coordinator.actor.send({
      type: 'doc.register',
      key: 'a',
      input: { kind: 'cache', priority: 4, settings },
    })
    expect(harness.actorOf('a')).toBe(first)
    expect(harness.coordinator.status('a').kind).toBe('project')
  })

  it('ignores a second request for a slot already held', async () => {
    const harness = createTestCoordinator({ config })
    const { clock, storage, coordinator } = harness
    storage.queue({ ms: 1000 })
    registerAll(harness, [['a', 'project']])
    coordinator.change('a', 1)
    await clock.advance(300)
    const { ticket } = coordinator.actor.getSnapshot().context.holders[0] as { ticket: number }
    coordinator.actor.send({ type: 'slot.request', key: 'a', ticket, priority: 0 })
    expect(coordinator.actor.getSnapshot().context.queue).toEqual([])
  })
})

describe('saveCoordinatorMachine: flushAll', () => {
  it('saves every document now and reports each outcome', async () => {
    const harness = createTestCoordinator({ config })
    const { clock, storage, coordinator } = harness
    registerAll(harness, [
      ['a', 'project'],
      ['b', 'settings'],
      ['c', 'cache'],
    ])
    storage.fallback = (request) => (request.key === 'b' ? { fail: 'EACCES' } : { ms: 10 })
    coordinator.change('b', 'b')
    coordinator.change('a', 'a')
    const outcomes = coordinator.flushAll({ deadlineMs: 5000 })
    await clock.advance(100)
    await expect(outcomes).resolves.toEqual([
      { key: 'a', result: 'saved', savedRevision: 1, pendingRevision: 1 },
      expect.objectContaining({
        key: 'b',
        result: 'failed',
        error: expect.objectContaining({ code: 'permission-denied' }),
      }),
      { key: 'c', result: 'saved', savedRevision: 0, pendingRevision: 0 },
    ])
  })

  it('reports timeout for a write stuck past the deadline', async () => {
    const harness = createTestCoordinator({ config })
    const { clock, storage, coordinator } = harness
    registerAll(harness, [
      ['a', 'project'],
      ['b', 'project'],
    ])
    storage.fallback = (request) => (request.key === 'a' ? { ms: 60_000 } : { ms: 10 })
    coordinator.change('a', 1)
    coordinator.change('b', 1)
    const outcomes = coordinator.flushAll({ deadlineMs: 2000 })
    await clock.advance(1999)
    let settled = false
    outcomes.then(() => (settled = true))
    await clock.advance(0)
    expect(settled).toBe(false)
    await clock.advance(1)
    await expect(outcomes).resolves.toEqual([
      { key: 'a', result: 'timeout', savedRevision: 0, pendingRevision: 1 },
      { key: 'b', result: 'saved', savedRevision: 1, pendingRevision: 1 },
    ])
  })

  it('resolves at once with nothing registered', async () => {
    const { coordinator } = createTestCoordinator({ config })
    await expect(coordinator.flushAll()).resolves.toEqual([])
  })
})

describe('saveCoordinatorMachine: status and figures', () => {
  it('derives the aggregate status, most urgent first', async () => {
    const harness = createTestCoordinator({ config })
    const { clock, storage, coordinator } = harness
    registerAll(harness, [
      ['a', 'project'],
      ['b', 'settings'],
    ])
    coordinator.register('c', { kind: 'cache', loaded: false })
    expect(coordinator.aggregate()).toMatchObject({ status: 'loading', counts: { saved: 2, loading: 1 } })
    coordinator.change('a', 1)
    expect(coordinator.aggregate().status).toBe('unsaved')
    storage.queue({ ms: 50 }, { fail: 'EIO' })
    await clock.advance(300)
    coordinator.change('b', 1)
    expect(coordinator.aggregate().status).toBe('saving')
    await clock.advance(350)
    expect(coordinator.aggregate()).toMatchObject({ status: 'retrying', counts: { retrying: 1, saved: 1 } })
    coordinator.setReadOnly(new SaveflowError('locked').toJSON())
    expect(coordinator.aggregate()).toMatchObject({ status: 'readOnly', counts: { readOnly: 3 } })
  })

  it('keeps the figures of the last 20 saves of each document', async () => {
    const harness = createTestCoordinator({ config })
    const { clock, storage, coordinator } = harness
    registerAll(harness, [['a', 'project']])
    storage.fallback = () => ({ ms: 5, bytes: 42 })
    for (let n = 1; n <= 25; n++) {
      coordinator.change('a', n)
      coordinator.flush('a')
      await clock.advance(10)
    }
    const figures = coordinator.metrics('a')
    expect(figures).toHaveLength(20)
    expect(figures[0]).toEqual({ revision: 6, durationMs: 5, bytes: 42, at: 55 })
    expect(figures.at(-1)).toMatchObject({ revision: 25 })
    expect(selectMetrics(coordinator.actor.getSnapshot(), 'nobody')).toEqual([])
  })

  it('gives the coordinator a new snapshot whenever a document changes', () => {
    const harness = createTestCoordinator({ config })
    registerAll(harness, [['a', 'project']])
    const before = harness.coordinator.actor.getSnapshot()
    harness.coordinator.change('a', 1)
    const after = harness.coordinator.actor.getSnapshot()
    expect(after).not.toBe(before)
    expect(selectDocumentStatus(after, 'a')).toMatchObject({ status: 'unsaved', pendingRevision: 1 })
    expect(selectDocumentStatus(after, 'nobody')).toBeUndefined()
    expect(selectKeys(after)).toEqual(['a'])
    expect(selectDocumentActor(after, 'a')).toBe(harness.actorOf('a'))
    expect(selectAggregateStatus(after).counts.unsaved).toBe(1)
  })

  it('starts documents read-only when the workspace already is', () => {
    const harness = createTestCoordinator({ config })
    harness.coordinator.setReadOnly(new SaveflowError('locked').toJSON())
    registerAll(harness, [['a', 'project']])
    expect(harness.coordinator.status('a').status).toBe('readOnly')
  })
})
