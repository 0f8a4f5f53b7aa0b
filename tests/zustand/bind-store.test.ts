import { describe, expect, it, vi } from 'vitest'
import { create } from 'zustand'
import { immer } from 'zustand/middleware/immer'
import { createStore } from 'zustand/vanilla'
import { createRepository } from '../../src/core/repository'
import { type ProjectData, userSettingsSchema } from '../../src/core/schemas'
import { createFaultyStorage, createMemoryStorage, type FaultyStorage } from '../../src/testing'
import { bindStore, type HydrationOutcome } from '../../src/zustand/bind-store'
import { createProjectStore, mergeProjectEdits, projectDataOf } from '../../src/zustand/project-store'
import { createSettingsStore, settingsOf } from '../../src/zustand/settings-store'
import { sampleProject } from '../core/support/documents'
import { fileOf, holdLoads, recording, reload, setup, testEnvironment } from './support'

interface Todos {
  todos: { id: string; text: string; done: boolean }[]
  filter: 'all' | 'open'
  add(text: string): void
  toggle(id: string): void
  setFilter(filter: 'all' | 'open'): void
}

/** A store with the immer middleware, persisted as a cache document (any JSON). */
function createTodoStore() {
  return createStore<Todos>()(
    immer((set) => ({
      todos: [],
      filter: 'all',
      add: (text) =>
        set((draft) => {
          draft.todos.push({ id: `t${draft.todos.length + 1}`, text, done: false })
        }),
      toggle: (id) =>
        set((draft) => {
          const todo = draft.todos.find((t) => t.id === id)
          if (todo) todo.done = !todo.done
        }),
      setFilter: (filter) => set({ filter }),
    })),
  )
}

const todosOf = (state: Todos) => ({ todos: state.todos })

describe('bindStore', () => {
  it('hydrates from the file and calls onRehydrate once with the hydrated state', async () => {
    const saved = sampleProject(3, 'On disk')
    const memory = createMemoryStorage({ files: { 'project.json': fileOf('project', saved) } })
    const { session } = setup({ storage: memory })
    const store = createProjectStore(testEnvironment())
    const onRehydrate =
      vi.fn<(state: ReturnType<typeof store.getState>, outcome: HydrationOutcome<ProjectData>) => void>()

    const binding = bindStore(store, { session, key: 'project', partialize: projectDataOf, onRehydrate })
    expect(binding.hydration).toBe('hydrating')
    const outcome = await binding.whenHydrated()

    expect(outcome.status).toBe('hydrated')
    expect(binding.hydration).toBe('hydrated')
    expect(projectDataOf(store.getState())).toEqual(saved)
    expect(onRehydrate).toHaveBeenCalledTimes(1)
    expect(onRehydrate.mock.calls[0]![0]).toBe(store.getState())
    expect(onRehydrate.mock.calls[0]![1]).toMatchObject({
      status: 'hydrated',
      document: { source: 'primary' },
    })
  })

  it('saves store edits to the repository, excluding transient fields', async () => {
    const { clock, memory, session } = setup()
    const store = createProjectStore(testEnvironment())
    const binding = bindStore(store, { session, key: 'project', partialize: projectDataOf })
    await binding.whenHydrated()
    // A first run writes nothing until the first edit.
    expect(memory.files()).toEqual({})

    const root = store.getState().addNode(null, 'Root')
    store.getState().selectNode(root)
    await clock.advance(150)

    const loaded = (await reload(memory, 'project')) as ProjectData
    expect(loaded.tree.map((node) => node.title)).toEqual(['Root'])
    expect(loaded).not.toHaveProperty('selectedNodeId')
    expect(loaded).toEqual(projectDataOf(store.getState()))
  })

  it('does not call change when only a transient field changes', async () => {
    const { session } = setup()
    const spy = recording(session)
    const store = createProjectStore(testEnvironment())
    const root = store.getState().addNode(null, 'Root')
    const binding = bindStore(store, { session: spy, key: 'project', partialize: projectDataOf })
    await binding.whenHydrated()
    const before = spy.changes.length

    store.getState().selectNode(root)
    store.getState().selectNode(null)
    store.getState().renameNode(root, 'Root') // same title: the store keeps its state

    expect(spy.changes).toHaveLength(before)
    store.getState().renameNode(root, 'Renamed')
    expect(spy.changes).toHaveLength(before + 1)
  })

  it('sends only the slice: the default partialize drops the actions', async () => {
    const { session } = setup()
    const spy = recording(session)
    const store = createStore<{ count: number; bump(): void }>()((set) => ({
      count: 0,
      bump: () => set((s) => ({ count: s.count + 1 })),
    }))
    const binding = bindStore(store, { session: spy, key: 'cache/counter' })
    await binding.whenHydrated()

    store.getState().bump()

    expect(spy.changes).toEqual([['cache/counter', { count: 1 }]])
  })

  it('works with immer updates, sending a change only when the slice changed', async () => {
    const { clock, memory, session } = setup()
    const spy = recording(session)
    const store = createTodoStore()
    const binding = bindStore(store, { session: spy, key: 'cache/todos', partialize: todosOf })
    await binding.whenHydrated()

    store.getState().add('write tests')
    store.getState().add('ship')
    store.getState().toggle('t1')
    store.getState().setFilter('open')
    await clock.advance(150)

    expect(spy.changes).toHaveLength(3)
    expect(await reload(memory, 'cache/todos')).toEqual({
      todos: [
        { id: 't1', text: 'write tests', done: true },
        { id: 't2', text: 'ship', done: false },
      ],
    })
  })

  it('accepts a React store made with create', async () => {
    const { clock, memory, session } = setup()
    const useCounter = create<{ count: number; bump(): void }>()((set) => ({
      count: 0,
      bump: () => set((s) => ({ count: s.count + 1 })),
    }))
    const binding = bindStore(useCounter, { session, key: 'cache/react-counter' })
    await binding.whenHydrated()

    useCounter.getState().bump()
    await clock.advance(150)

    expect(await reload(memory, 'cache/react-counter')).toEqual({ count: 1 })
  })

  it('neither loses nor writes an edit made before hydration finished', async () => {
    const saved = sampleProject(3, 'On disk')
    const storage = createMemoryStorage({ files: { 'project.json': fileOf('project', saved, 7) } })
    const bytesBefore = storage.readText('project.json')
    let hold!: ReturnType<typeof holdLoads>
    const { clock, memory, session } = setup({
      storage,
      wrap: (repo) => {
        hold = holdLoads(repo)
        return hold.held
      },
    })
    const spy = recording(session)
    const store = createProjectStore(testEnvironment())
    const binding = bindStore(store, {
      session: spy,
      key: 'project',
      partialize: projectDataOf,
      mergeEdits: mergeProjectEdits,
    })

    // The app edits while the file is still being read.
    await clock.advance(0)
    expect(hold.waiting()).toBe(1)
    const early = store.getState().addNode(null, 'Added before the load')
    store.getState().updateMetadata({ description: 'edited early' })
    await clock.advance(5000)

    expect(binding.hydration).toBe('hydrating')
    expect(spy.changes).toEqual([])
    // A save would append to the project's journal: no file but the one read may appear.
    expect(Object.keys(memory.files())).toEqual(['project.json'])
    expect(memory.readText('project.json')).toBe(bytesBefore)

    hold.release()
    const outcome = await binding.whenHydrated()
    expect(outcome.status).toBe('hydrated')

    // The rule: loaded data under the early edits. The loaded tree is kept and the early node appended; the
    // untouched metadata name comes from disk, the edited description from the app.
    const state = store.getState()
    expect(state.tree.map((node) => node.id)).toEqual([...saved.tree.map((node) => node.id), early])
    expect(state.metadata).toMatchObject({ name: 'On disk', description: 'edited early' })
    expect(state.conversations).toEqual(saved.conversations)
    expect(state.version).toBe(saved.version + 2)

    await clock.advance(150)
    const written = (await reload(memory, 'project')) as ProjectData
    expect(written).toEqual(projectDataOf(state))
    // Saved once hydrated, as the revision after the one loaded (in the journal that starts at project.json).
    expect(await createRepository({ storage: memory.fork() }).load('project')).toMatchObject({
      ok: true,
      revision: 8,
    })
  })

  it('writes nothing when the loaded data needed no merge', async () => {
    const saved = sampleProject(2)
    const storage = createMemoryStorage({ files: { 'project.json': fileOf('project', saved) } })
    const { clock, memory, session } = setup({ storage })
    const spy = recording(session)
    const store = createProjectStore(testEnvironment())
    await bindStore(store, { session: spy, key: 'project', partialize: projectDataOf }).whenHydrated()
    await clock.advance(5000)

    expect(spy.changes).toEqual([])
    expect(memory.log.filter((op) => op.call === 'writeAtomic')).toEqual([])
  })

  it('reports needsUser for a damaged file without backups and writes nothing until the user chooses', async () => {
    const storage = createMemoryStorage({ files: { 'project.json': '{ not a snapshot' } })
    const { clock, memory, session } = setup({ storage })
    const spy = recording(session)
    const store = createProjectStore(testEnvironment())
    const onRehydrate = vi.fn()
    const binding = bindStore(store, { session: spy, key: 'project', partialize: projectDataOf, onRehydrate })
    const seen: string[] = []
    binding.onHydration((hydration) => seen.push(hydration))

    const outcome = await binding.whenHydrated()
    expect(outcome.status).toBe('needsUser')
    expect(binding.hydration).toBe('needsUser')

    const root = store.getState().addNode(null, 'Typed while the dialog is open')
    await clock.advance(5000)
    expect(spy.changes).toEqual([])
    expect(memory.log.filter((op) => op.call === 'writeAtomic')).toEqual([])
    expect(memory.files()['project.json']).toBeUndefined()

    // The user starts empty: the binding hears it from the session and hydrates, keeping the edit.
    if (outcome.status !== 'needsUser') throw new Error('unreachable')
    await outcome.document.startEmpty()
    expect(binding.hydration).toBe('hydrated')
    expect(seen).toEqual(['needsUser', 'hydrated'])
    expect(onRehydrate).toHaveBeenCalledTimes(2)
    await clock.advance(150)
    const written = (await reload(memory, 'project')) as ProjectData
    expect(written.tree.map((node) => node.id)).toEqual([root])
  })

  it('reports failed when the file cannot be read, and rehydrate retries', async () => {
    const storage = createMemoryStorage({ files: { 'settings.json': fileOf('settings', { theme: 'dark' }) } })
    let faulty!: FaultyStorage
    const { session } = setup({
      storage,
      backend: (memory) => {
        faulty = createFaultyStorage(memory, [{ op: 'read', path: 'settings.json', code: 'EACCES' }])
        return faulty
      },
    })
    const store = createSettingsStore()
    const binding = bindStore(store, { session, key: 'settings', partialize: settingsOf })

    const outcome = await binding.whenHydrated()
    expect(outcome).toMatchObject({ status: 'failed', error: { code: 'permission-denied' } })
    expect(store.getState().theme).toBe('system')

    faulty.clear()
    const retried = await binding.rehydrate()
    expect(retried.status).toBe('hydrated')
    expect(store.getState().theme).toBe('dark')
  })

  it('stops sending changes after unbind', async () => {
    const { session } = setup()
    const spy = recording(session)
    const store = createSettingsStore()
    const binding = bindStore(store, { session: spy, key: 'settings', partialize: settingsOf })
    await binding.whenHydrated()
    store.getState().setTheme('dark')
    expect(spy.changes).toHaveLength(1)

    binding.unbind()
    store.getState().setTheme('light')

    expect(spy.changes).toHaveLength(1)
  })

  it('keeps a rejected settings update away from the session', async () => {
    const { session } = setup()
    const spy = recording(session)
    const store = createSettingsStore()
    await bindStore(store, { session: spy, key: 'settings', partialize: settingsOf }).whenHydrated()

    expect(() => store.getState().setPersistence({ saveDebounce: -1 })).toThrowError(
      expect.objectContaining({ code: 'invalid-data' }),
    )
    expect(spy.changes).toEqual([])
  })

  it('replaces the store with a restored backup', async () => {
    const { clock, session } = setup()
    const store = createSettingsStore()
    const binding = bindStore(store, { session, key: 'settings', partialize: settingsOf })
    await binding.whenHydrated()
    store.getState().setTheme('dark')
    await clock.advance(150)
    store.getState().setTheme('light')
    await clock.advance(150)
    const [newest] = await session.listBackups('settings')

    await session.restoreBackup('settings', newest!.id)

    expect(store.getState().theme).toBe('dark')
  })

  it('rehydrates a hydrated store from the file, after flushing its edits', async () => {
    const { clock, memory, session } = setup()
    const store = createSettingsStore()
    const binding = bindStore(store, { session, key: 'settings', partialize: settingsOf })
    await binding.whenHydrated()
    store.getState().setEditor({ fontSize: 20 })

    const outcome = await binding.rehydrate()
    await clock.advance(150)

    expect(outcome).toMatchObject({ status: 'hydrated', document: { source: 'primary' } })
    expect(store.getState().editor.fontSize).toBe(20)
    expect(((await reload(memory, 'settings')) as { editor: { fontSize: number } }).editor.fontSize).toBe(20)
  })

  it('shows a file from a newer app read-only and never sends its changes', async () => {
    const newer = { ...userSettingsSchema.parse({ theme: 'dark' }), sidebar: 'left' }
    const storage = createMemoryStorage({ files: { 'settings.json': fileOf('settings', newer, 4, 3) } })
    const { clock, memory, session } = setup({ storage })
    const spy = recording(session)
    const store = createSettingsStore()
    const migrate = vi.fn((persisted: unknown, version: number) => {
      const { sidebar: _dropped, ...known } = persisted as typeof newer
      return { ...known, language: `v${version}` }
    })
    const binding = bindStore(store, { session: spy, key: 'settings', partialize: settingsOf, migrate })

    await binding.whenHydrated()
    store.getState().setTheme('light')
    await clock.advance(5000)

    expect(binding.readOnly).toMatchObject({ code: 'future-version', fileVersion: 3 })
    expect(migrate).toHaveBeenCalledWith(newer, 3)
    expect(store.getState().language).toBe('v3')
    expect(spy.changes).toEqual([])
    expect(memory.log.filter((op) => op.call === 'writeAtomic')).toEqual([])
  })

  it('uses migrate for data of another schema version than the store follows', async () => {
    const storage = createMemoryStorage({ files: { 'cache/legacy.json': fileOf('cache', { n: 1 }) } })
    const { session } = setup({ storage })
    const store = createStore<{ value: number }>()(() => ({ value: 0 }))
    const binding = bindStore(store, {
      session,
      key: 'cache/legacy',
      version: 0,
      migrate: (persisted, version) => ({ value: (persisted as { n: number }).n * 10 + version }),
    })

    await binding.whenHydrated()

    expect(store.getState().value).toBe(11)
  })
})
