import { describe, expect, it } from 'vitest'
import { SaveflowError } from '../../src/core/errors'
import { createTestCoordinator } from './harness'

const config = { saveDebounce: 300, maxWait: 1000, retry: { maxAttempts: 3, delay: 100, maxDelay: 1000 } }

function setup(options: Parameters<typeof createTestCoordinator>[0] = { config }) {
  const harness = createTestCoordinator(options)
  harness.coordinator.register('project', { kind: 'project' })
  return harness
}

describe('saveMachine: debounce and maxWait', () => {
  it('starts a save once the edits have been quiet for the debounce', async () => {
    const { clock, storage, coordinator, stateOf } = setup()
    coordinator.change('project', { n: 1 })
    await clock.advance(200)
    coordinator.change('project', { n: 2 })
    expect(stateOf('project')).toEqual({ debouncing: 'quiet' })
    await clock.advance(299)
    expect(storage.writes).toHaveLength(0)
    await clock.advance(1)
    expect(storage.writes.map((write) => write.startedAt)).toEqual([500])
    await clock.advance(10)
    expect(storage.stored.get('project')).toEqual({ n: 2 })
    expect(coordinator.status('project')).toMatchObject({
      status: 'saved',
      savedRevision: 2,
      lastSavedAt: 510,
    })
  })

  it('writes at most 3 times for 1,000 edits over 2 s, and the last write holds the last edit', async () => {
    const { clock, storage, coordinator } = setup()
    for (let n = 1; n <= 1000; n++) {
      await clock.advance(2)
      coordinator.change('project', { n })
    }
    await clock.advance(5000)
    const writes = storage.writesOf('project')
    expect(writes.length).toBeGreaterThanOrEqual(2)
    expect(writes.length).toBeLessThanOrEqual(3)
    // A stream of edits cannot starve saving: the first save starts maxWait after the first unsaved edit.
    expect(writes[0]?.startedAt).toBe(1002)
    expect(writes.at(-1)?.data).toEqual({ n: 1000 })
    expect(coordinator.status('project')).toMatchObject({
      status: 'saved',
      pendingRevision: 1000,
      savedRevision: 1000,
    })
  })

  it('skips the debounce on flush', async () => {
    const { clock, storage, coordinator, stateOf } = setup()
    coordinator.change('project', { n: 1 })
    const outcome = coordinator.flush('project')
    expect(stateOf('project')).toBe('validating')
    await clock.advance(10)
    await expect(outcome).resolves.toEqual({
      key: 'project',
      result: 'saved',
      savedRevision: 1,
      pendingRevision: 1,
    })
    expect(storage.writes[0]?.startedAt).toBe(0)
  })

  it('saves only on flush when autoSave is off', async () => {
    const { clock, storage, coordinator, stateOf } = setup({ config: { ...config, autoSave: false } })
    coordinator.change('project', { n: 1 })
    coordinator.change('project', { n: 2 })
    await clock.advance(10_000)
    expect(storage.writes).toHaveLength(0)
    expect(stateOf('project')).toBe('idle')
    expect(coordinator.status('project').status).toBe('unsaved')
    coordinator.flush('project')
    await clock.advance(10)
    expect(storage.stored.get('project')).toEqual({ n: 2 })
    expect(coordinator.status('project').status).toBe('saved')
  })

  it('does nothing on flush when everything is saved', async () => {
    const { clock, storage, coordinator, stateOf } = setup()
    await expect(coordinator.flush('project')).resolves.toMatchObject({ result: 'saved', savedRevision: 0 })
    await clock.advance(1000)
    expect(stateOf('project')).toBe('idle')
    expect(storage.writes).toHaveLength(0)
  })
})

describe('saveMachine: revisions', () => {
  it('keeps an edit made during a slow write and saves it next (Scenario A)', async () => {
    const { clock, storage, coordinator } = setup()
    storage.queue({ ms: 500 })
    coordinator.change('project', { n: 1 })
    await clock.advance(300)
    expect(storage.writes).toHaveLength(1)
    coordinator.change('project', { n: 2 })
    await clock.advance(500)
    // Only the revision that was written is marked saved; the newer edit keeps the document unsaved.
    expect(coordinator.status('project')).toMatchObject({
      status: 'unsaved',
      savedRevision: 1,
      pendingRevision: 2,
    })
    expect(storage.stored.get('project')).toEqual({ n: 1 })
    await clock.advance(300)
    await clock.advance(10)
    expect(storage.writes.map((write) => write.revision)).toEqual([1, 2])
    expect(storage.stored.get('project')).toEqual({ n: 2 })
    expect(coordinator.status('project')).toMatchObject({ status: 'saved', savedRevision: 2 })
  })

  it('saves the newer edit without a debounce when a flush arrived during the write (Scenario B)', async () => {
    const { clock, storage, coordinator, stateOf } = setup()
    storage.queue({ ms: 500 })
    coordinator.change('project', { n: 1 })
    await clock.advance(300)
    coordinator.change('project', { n: 2 })
    const outcome = coordinator.flush('project')
    await clock.advance(500)
    expect(stateOf('project')).toEqual({ writing: 'active' })
    expect(storage.writes.map((write) => [write.revision, write.startedAt])).toEqual([
      [1, 300],
      [2, 800],
    ])
    await clock.advance(10)
    await expect(outcome).resolves.toMatchObject({ result: 'saved', savedRevision: 2 })
  })

  it('lets a flush during a write of the newest revision wait for that write only', async () => {
    const { clock, storage, coordinator, stateOf } = setup()
    storage.queue({ ms: 500 })
    coordinator.change('project', { n: 1 })
    await clock.advance(300)
    const outcome = coordinator.flush('project')
    await clock.advance(500)
    await expect(outcome).resolves.toMatchObject({ result: 'saved', savedRevision: 1 })
    expect(stateOf('project')).toBe('idle')
    expect(storage.writes).toHaveLength(1)
  })

  it('keeps edits made during validation for the next save', async () => {
    let release: (() => void) | undefined
    const { clock, storage, coordinator } = setup({
      config,
      validate: ({ data }) => new Promise((resolve) => (release = () => resolve(data))),
    })
    coordinator.change('project', { n: 1 })
    await clock.advance(300)
    coordinator.change('project', { n: 2 })
    release?.()
    await clock.advance(10)
    expect(storage.writes.map((write) => [write.revision, write.data])).toEqual([[1, { n: 1 }]])
    expect(coordinator.status('project')).toMatchObject({
      status: 'unsaved',
      savedRevision: 1,
      pendingRevision: 2,
    })
  })
})

describe('saveMachine: validation', () => {
  it('never writes invalid data and fails with invalid-data', async () => {
    const { clock, storage, coordinator, events, stateOf } = setup({
      config,
      validate: ({ data }) => {
        if ((data as { n: number }).n < 0) throw new Error('n must be positive')
        return data
      },
    })
    coordinator.change('project', { n: -1 })
    await clock.advance(5000)
    expect(storage.writes).toHaveLength(0)
    expect(stateOf('project')).toBe('failed')
    expect(coordinator.status('project').lastError?.code).toBe('invalid-data')
    expect(events).toEqual([
      expect.objectContaining({ type: 'save.failed', revision: 1, attempt: 1, error: expect.anything() }),
    ])
    // The next edit fixes the data and re-arms saving.
    coordinator.change('project', { n: 1 })
    await clock.advance(310)
    expect(storage.stored.get('project')).toEqual({ n: 1 })
    expect(events.map((event) => event.type)).toEqual(['save.failed', 'save.succeeded', 'save.recovered'])
  })

  it('keeps the code of a SaveflowError thrown by the validator', async () => {
    const { clock, coordinator } = setup({
      config,
      validate: () => {
        throw new SaveflowError('too-large')
      },
    })
    coordinator.change('project', { n: 1 })
    await clock.advance(300)
    expect(coordinator.status('project').lastError?.code).toBe('too-large')
  })

  it('skips the validator when validation is disabled', async () => {
    const { clock, storage, coordinator } = setup({
      config: { ...config, validation: { enabled: false } },
      validate: () => {
        throw new Error('never called')
      },
    })
    coordinator.change('project', { n: 1 })
    await clock.advance(310)
    expect(storage.stored.get('project')).toEqual({ n: 1 })
  })
})

describe('saveMachine: loading and read-only', () => {
  it('never writes before the document was loaded, then saves the edits made meanwhile', async () => {
    const { clock, storage, coordinator, stateOf } = createTestCoordinator({ config })
    coordinator.register('project', { kind: 'project', loaded: false })
    expect(coordinator.change('project', { n: 1 })).toBe(1)
    expect(coordinator.change('project', { n: 2 })).toBe(2)
    await clock.advance(10_000)
    expect(storage.writes).toHaveLength(0)
    expect(stateOf('project')).toBe('loading')
    expect(coordinator.status('project').status).toBe('loading')
    coordinator.markLoaded('project', { revision: 7 })
    // Edits made before the load are rebased above the revision on disk.
    expect(coordinator.status('project')).toMatchObject({
      status: 'unsaved',
      savedRevision: 7,
      pendingRevision: 9,
    })
    await clock.advance(310)
    expect(storage.writes.map((write) => [write.revision, write.data])).toEqual([[9, { n: 2 }]])
  })

  it('saves at once after loading when a flush waited for it', async () => {
    const { clock, storage, coordinator, stateOf } = createTestCoordinator({ config })
    coordinator.register('project', { kind: 'project', loaded: false })
    coordinator.change('project', { n: 1 })
    const outcome = coordinator.flush('project', { deadlineMs: 5000 })
    await clock.advance(1000)
    expect(storage.writes).toHaveLength(0)
    coordinator.markLoaded('project')
    expect(stateOf('project')).toBe('validating')
    await clock.advance(10)
    await expect(outcome).resolves.toMatchObject({ result: 'saved', savedRevision: 1 })
  })

  it('goes idle after loading when nothing was edited', () => {
    const { coordinator, stateOf } = createTestCoordinator({ config })
    coordinator.register('project', { kind: 'project', loaded: false })
    coordinator.markLoaded('project', { revision: 3 })
    expect(stateOf('project')).toBe('idle')
    expect(coordinator.status('project')).toMatchObject({
      status: 'saved',
      savedRevision: 3,
      pendingRevision: 3,
    })
  })

  it('never writes while read-only, keeps the edits, and saves them when writable again', async () => {
    const { clock, storage, coordinator } = setup()
    const locked = new SaveflowError('locked').toJSON()
    coordinator.setReadOnly(locked)
    coordinator.change('project', { n: 1 })
    await clock.advance(10_000)
    expect(storage.writes).toHaveLength(0)
    expect(coordinator.status('project')).toMatchObject({
      status: 'readOnly',
      lastError: locked,
      pendingRevision: 1,
    })
    await expect(coordinator.flush('project')).resolves.toMatchObject({ result: 'failed', error: locked })
    const future = new SaveflowError('future-version').toJSON()
    coordinator.setReadOnly(future)
    expect(coordinator.status('project').lastError).toEqual(future)
    coordinator.setReadOnly(null)
    await clock.advance(310)
    expect(storage.stored.get('project')).toEqual({ n: 1 })
  })

  it('aborts a write in flight when the workspace becomes read-only', async () => {
    const { clock, storage, coordinator } = setup()
    storage.queue({ ms: 1000 })
    coordinator.change('project', { n: 1 })
    await clock.advance(300)
    expect(coordinator.aggregate().writesInFlight).toBe(1)
    coordinator.setReadOnly(new SaveflowError('locked').toJSON())
    await clock.advance(0)
    expect(storage.writes[0]?.outcome).toBe('aborted')
    expect(coordinator.aggregate().writesInFlight).toBe(0)
    expect(coordinator.status('project').savedRevision).toBe(0)
  })

  it('stays read-only when loaded meanwhile, and waits for the load when made writable first', async () => {
    const { clock, storage, coordinator, stateOf } = createTestCoordinator({ config })
    coordinator.setReadOnly(new SaveflowError('locked').toJSON())
    coordinator.register('a', { kind: 'project', loaded: false })
    coordinator.register('b', { kind: 'settings', loaded: false })
    coordinator.change('a', 'a1')
    coordinator.change('b', 'b1')
    expect(stateOf('a')).toBe('readOnly')
    coordinator.markLoaded('a', { revision: 2 })
    expect(stateOf('a')).toBe('readOnly')
    coordinator.setReadOnly(null)
    expect(stateOf('a')).toEqual({ debouncing: 'quiet' })
    expect(stateOf('b')).toBe('loading')
    await clock.advance(310)
    expect(storage.writes.map((write) => [write.key, write.revision])).toEqual([['a', 3]])
  })
})
