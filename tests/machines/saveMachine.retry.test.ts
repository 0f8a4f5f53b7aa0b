import { describe, expect, it } from 'vitest'
import { createActor, fromPromise } from 'xstate'
import { saveCoordinatorMachine } from '../../machines/saveCoordinatorMachine'
import { saveMachine } from '../../machines/saveMachine'
import type { SaveWriteInput, SaveWriteOutput } from '../../src/core/save-protocol'
import type { SaveEvent } from '../../src/core/status'
import { createTestCoordinator, TestClock } from './harness'

const retry = { maxAttempts: 3, delay: 100, maxDelay: 1000, backoff: true }
const config = { saveDebounce: 300, maxWait: 1000, retry }

function setup(options: Parameters<typeof createTestCoordinator>[0] = { config }) {
  const harness = createTestCoordinator(options)
  harness.coordinator.register('project', { kind: 'project' })
  return harness
}

/** Starts a save of `{ n: 1 }` at t=0 (the flush skips the debounce). */
function saveNow(harness: ReturnType<typeof setup>) {
  harness.coordinator.change('project', { n: 1 })
  harness.coordinator.flush('project')
}

describe('saveMachine: retries', () => {
  it('retries with exponential backoff after I/O errors, then emits save.recovered', async () => {
    const harness = setup()
    const { clock, storage, coordinator, events } = harness
    storage.queue({ fail: 'EIO' }, { fail: 'EIO' }, { ms: 10 })
    saveNow(harness)
    await clock.advance(10)
    expect(coordinator.status('project')).toMatchObject({ status: 'retrying', attempt: 1, nextRetryAt: 110 })
    expect(coordinator.status('project').lastError?.code).toBe('io')
    await clock.advance(100)
    await clock.advance(10)
    expect(coordinator.status('project')).toMatchObject({ status: 'retrying', attempt: 2, nextRetryAt: 320 })
    await clock.advance(200)
    await clock.advance(10)
    expect(storage.writes.map((write) => [write.startedAt, write.outcome])).toEqual([
      [0, 'failed'],
      [110, 'failed'],
      [320, 'ok'],
    ])
    expect(events).toEqual([
      expect.objectContaining({ type: 'save.retrying', attempt: 1, retryAt: 110 }),
      expect.objectContaining({ type: 'save.retrying', attempt: 2, retryAt: 320 }),
      expect.objectContaining({ type: 'save.succeeded', revision: 1, attempt: 3, durationMs: 10, at: 330 }),
      { type: 'save.recovered', key: 'project', revision: 1, failedAttempts: 2 },
    ])
    expect(coordinator.status('project')).toMatchObject({ status: 'saved', attempt: 0, lastError: null })
  })

  it('fails after maxAttempts and keeps the data in memory', async () => {
    const harness = setup()
    const { clock, storage, coordinator, events, stateOf } = harness
    storage.fallback = () => ({ fail: 'EIO' })
    saveNow(harness)
    await clock.advance(10_000)
    expect(storage.writes).toHaveLength(3)
    expect(stateOf('project')).toBe('failed')
    expect(coordinator.status('project')).toMatchObject({ status: 'failed', attempt: 3, pendingRevision: 1 })
    expect(events.at(-1)).toMatchObject({ type: 'save.failed', attempt: 3, error: { code: 'io' } })
  })

  it('retries busy errors after the base delay, without backoff', async () => {
    const harness = setup()
    const { clock, storage } = harness
    storage.queue({ fail: 'EBUSY' }, { fail: 'EMFILE' })
    saveNow(harness)
    await clock.advance(1000)
    expect(storage.writes.map((write) => write.startedAt)).toEqual([0, 110, 220])
  })

  it('backs off by a constant delay when backoff is off', async () => {
    const harness = setup({ config: { ...config, retry: { ...retry, backoff: false } } })
    harness.storage.queue({ fail: 'EIO' }, { fail: 'EIO' })
    saveNow(harness)
    await harness.clock.advance(1000)
    expect(harness.storage.writes.map((write) => write.startedAt)).toEqual([0, 110, 220])
  })

  it('retries a full disk at the cap beyond maxAttempts until space returns', async () => {
    const harness = setup()
    const { clock, storage, coordinator, events, stateOf } = harness
    let diskFull = true
    storage.fallback = () => (diskFull ? { fail: 'ENOSPC' } : { ms: 10 })
    saveNow(harness)
    await clock.advance(10_000)
    expect(stateOf('project')).toBe('retrying')
    expect(storage.writes.length).toBeGreaterThan(retry.maxAttempts)
    const starts = storage.writes.map((write) => write.startedAt)
    expect(starts.slice(1).map((start, i) => start - (starts[i] as number))).toEqual(
      starts.slice(1).map(() => 1010),
    )
    expect(coordinator.status('project').lastError?.code).toBe('disk-full')
    diskFull = false
    await clock.advance(1010)
    expect(coordinator.status('project').status).toBe('saved')
    expect(events.at(-1)).toMatchObject({ type: 'save.recovered', failedAttempts: starts.length })
  })

  it('fails at once on a permission error, and retries on the user word', async () => {
    const harness = setup()
    const { clock, storage, coordinator, events, stateOf } = harness
    storage.queue({ fail: 'EACCES' })
    saveNow(harness)
    await clock.advance(10_000)
    expect(storage.writes).toHaveLength(1)
    expect(stateOf('project')).toBe('failed')
    expect(events).toEqual([
      expect.objectContaining({ type: 'save.failed', attempt: 1, error: expect.anything() }),
    ])
    expect(coordinator.status('project').lastError).toMatchObject({
      code: 'permission-denied',
      sysCode: 'EACCES',
    })
    coordinator.retry('project')
    await clock.advance(10)
    expect(coordinator.status('project').status).toBe('saved')
    expect(events.at(-1)).toMatchObject({ type: 'save.recovered', failedAttempts: 1 })
  })

  it.each(['EPERM', 'EROFS'])('does not retry %s', async (code) => {
    const harness = setup()
    harness.storage.queue({ fail: code })
    saveNow(harness)
    await harness.clock.advance(10_000)
    expect(harness.storage.writes).toHaveLength(1)
    expect(harness.stateOf('project')).toBe('failed')
  })

  it('gives a manual retry a fresh budget of attempts', async () => {
    const harness = setup()
    const { clock, storage, coordinator } = harness
    storage.fallback = () => ({ fail: 'EIO' })
    saveNow(harness)
    await clock.advance(10_000)
    expect(storage.writes).toHaveLength(3)
    coordinator.retry('project')
    await clock.advance(10_000)
    expect(storage.writes).toHaveLength(6)
    expect(coordinator.status('project')).toMatchObject({ status: 'failed', attempt: 6 })
  })

  it('re-arms saving on a new edit after a failure', async () => {
    const harness = setup()
    const { clock, storage, coordinator, stateOf } = harness
    storage.queue({ fail: 'EACCES' })
    saveNow(harness)
    await clock.advance(10)
    coordinator.change('project', { n: 2 })
    expect(stateOf('project')).toEqual({ debouncing: 'quiet' })
    await clock.advance(310)
    expect(storage.stored.get('project')).toEqual({ n: 2 })
  })

  it('keeps a failed document failed on a new edit when autoSave is off, until a flush', async () => {
    const harness = setup({ config: { ...config, autoSave: false } })
    const { clock, storage, coordinator, stateOf } = harness
    storage.queue({ fail: 'EACCES' })
    saveNow(harness)
    await clock.advance(10)
    coordinator.change('project', { n: 2 })
    await clock.advance(1000)
    expect(stateOf('project')).toBe('failed')
    const outcome = coordinator.flush('project')
    await clock.advance(10)
    await expect(outcome).resolves.toMatchObject({ result: 'saved', savedRevision: 2 })
  })

  it('validates data edited during the wait before retrying it', async () => {
    const validated: unknown[] = []
    const harness = setup({
      config,
      validate: ({ data }) => {
        validated.push(data)
        return data
      },
    })
    const { clock, storage, coordinator } = harness
    storage.queue({ fail: 'EIO' })
    saveNow(harness)
    await clock.advance(10)
    coordinator.change('project', { n: 2 })
    await clock.advance(110)
    expect(validated).toEqual([{ n: 1 }, { n: 2 }])
    expect(storage.writes.map((write) => [write.revision, write.outcome])).toEqual([
      [1, 'failed'],
      [2, 'ok'],
    ])
  })

  it('retries at once on save.retry or flush while waiting', async () => {
    const harness = setup()
    const { clock, storage, coordinator } = harness
    storage.queue({ fail: 'EIO' }, { fail: 'EIO' })
    saveNow(harness)
    await clock.advance(10)
    coordinator.retry('project')
    await clock.advance(10)
    expect(storage.writes.map((write) => write.startedAt)).toEqual([0, 10])
    coordinator.flush('project')
    await clock.advance(10)
    expect(storage.writes.map((write) => write.startedAt)).toEqual([0, 10, 20])
    expect(coordinator.status('project').status).toBe('saved')
  })

  it.each([
    [0, [0, 80, 240]],
    [0.999_99, [0, 120, 360]],
  ])('spreads retries with jitter %d', async (draw, starts) => {
    const harness = setup({ config, random: () => draw })
    harness.storage.queue({ fail: 'EIO' }, { fail: 'EIO' })
    saveNow(harness)
    await harness.clock.advance(1000)
    // Each failed write takes 10 ms before its retry is scheduled.
    expect(harness.storage.writes.map((write) => write.startedAt)).toEqual(
      starts.map((start, i) => start + 10 * i),
    )
  })

  it('never waits longer than the cap', async () => {
    const harness = setup({
      config: { ...config, retry: { maxAttempts: 10, delay: 400, maxDelay: 1000 } },
      random: () => 0.999_99,
    })
    harness.storage.queue({ fail: 'EIO' }, { fail: 'EIO' }, { fail: 'EIO' })
    saveNow(harness)
    await harness.clock.advance(10_000)
    const starts = harness.storage.writes.map((write) => write.startedAt)
    expect(starts.slice(1).map((start, i) => start - (starts[i] as number) - 10)).toEqual([480, 960, 1000])
  })

  it('treats a rejection that skipped the classifying wrapper as a retryable I/O error', async () => {
    const clock = new TestClock()
    let calls = 0
    const write = fromPromise<SaveWriteOutput, SaveWriteInput>(async () => {
      calls += 1
      if (calls === 1) throw new Error('raw')
      return { bytes: 1, startedAt: 0, finishedAt: 0 }
    })
    const machine = saveCoordinatorMachine.provide({
      actors: { save: saveMachine.provide({ actors: { write } }) },
    })
    const actor = createActor(machine, { clock, input: { maxConcurrentWrites: 1, flushPriority: 0 } }).start()
    const events: SaveEvent[] = []
    actor.on('*', (event) => events.push(event))
    const settings = { autoSave: true, debounceMs: 0, maxWaitMs: 0, retry: { ...retry, backoff: true } }
    actor.send({ type: 'doc.register', key: 'k', input: { kind: 'cache', priority: 4, settings } })
    actor.getSnapshot().context.docs.k?.ref.send({ type: 'doc.changed', data: 1 })
    await clock.advance(1000)
    expect(events.map((event) => event.type)).toEqual(['save.retrying', 'save.succeeded', 'save.recovered'])
    expect(events[0]).toMatchObject({ error: { code: 'io', retry: 'normal' } })
  })

  it('fails its writes as retryable until a write actor is provided', async () => {
    const clock = new TestClock()
    const actor = createActor(saveCoordinatorMachine, {
      clock,
      input: { maxConcurrentWrites: 1, flushPriority: 0 },
    }).start()
    const settings = { autoSave: true, debounceMs: 0, maxWaitMs: 0, retry }
    actor.send({ type: 'doc.register', key: 'k', input: { kind: 'cache', priority: 4, settings } })
    actor.getSnapshot().context.docs.k?.ref.send({ type: 'doc.changed', data: 1 })
    await clock.advance(0)
    const snapshot = actor.getSnapshot().context.docs.k?.ref.getSnapshot()
    expect(snapshot?.value).toBe('retrying')
    expect(snapshot?.context.lastError).toMatchObject({
      code: 'io',
      message: expect.stringContaining('provide a write'),
    })
  })

  it('emits its events on the save actor itself as well', async () => {
    const harness = setup()
    const heard: string[] = []
    harness.actorOf('project').on('*', (event) => heard.push(event.type))
    saveNow(harness)
    await harness.clock.advance(10)
    expect(heard).toEqual(['save.succeeded'])
  })
})
