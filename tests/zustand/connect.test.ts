import { describe, expect, it } from 'vitest'
import type { ProjectData, UserSettings } from '../../src/core/schemas'
import { connectReferenceStores } from '../../src/zustand/connect'
import { projectDataOf } from '../../src/zustand/project-store'
import { reload, setup, testEnvironment } from './support'

describe('connectReferenceStores', () => {
  it('saves edits in each store to its document and loads them all back in a new session', async () => {
    const { clock, memory, session } = setup()
    const first = connectReferenceStores(session, testEnvironment())
    const hydrated = await first.whenHydrated()
    expect(hydrated.project.status).toBe('hydrated')
    expect(hydrated.settings.status).toBe('hydrated')

    const node = first.project.getState().addNode(null, 'Login')
    first.settings.getState().setTheme('dark')
    first.settings.getState().setPersistence({ saveDebounce: 250 })
    const chatId = first.chat.getState().createConversation({ title: 'About login', nodeId: node })
    first.chat.getState().appendMessage(chatId, { role: 'user', content: 'How should login work?' })
    await first.conversations.whenHydrated()
    await clock.advance(150)

    expect(((await reload(memory, 'settings')) as UserSettings).persistence.saveDebounce).toBe(250)
    const savedProject = (await reload(memory, 'project')) as ProjectData
    expect(savedProject.conversations).toEqual([expect.objectContaining({ id: chatId, messageCount: 1 })])

    // The next start: fresh stores and a fresh session over the same files.
    const next = setup({ storage: memory.fork() })
    const second = connectReferenceStores(
      next.session,
      testEnvironment(Date.parse('2026-02-01T00:00:00.000Z')),
    )
    const again = await second.whenHydrated()

    expect(again.conversations.map((outcome) => outcome.status)).toEqual(['hydrated'])
    expect(projectDataOf(second.project.getState())).toEqual(projectDataOf(first.project.getState()))
    expect(second.settings.getState().theme).toBe('dark')
    expect(second.chat.getState().conversations[chatId]).toEqual(first.chat.getState().conversations[chatId])
  })

  it('keeps the project index in step with the chat store', async () => {
    const { session } = setup()
    const stores = connectReferenceStores(session, testEnvironment())
    await stores.whenHydrated()

    const id = stores.chat.getState().createConversation({ title: 'First' })
    stores.chat.getState().renameConversation(id, 'Renamed')
    expect(stores.project.getState().conversations).toEqual([
      expect.objectContaining({ id, title: 'Renamed', messageCount: 0 }),
    ])

    stores.chat.getState().deleteConversation(id)
    expect(stores.project.getState().conversations).toEqual([])
  })

  it('stops saving after disconnect', async () => {
    const { clock, memory, session } = setup()
    const stores = connectReferenceStores(session, testEnvironment())
    await stores.whenHydrated()
    stores.disconnect()

    stores.project.getState().addNode(null, 'Not saved')
    stores.settings.getState().setTheme('dark')
    await clock.advance(5000)

    expect(memory.files()).toEqual({})
  })
})
