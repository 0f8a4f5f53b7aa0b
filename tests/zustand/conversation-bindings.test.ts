import { describe, expect, it } from 'vitest'
import type { Conversation } from '../../src/core/schemas'
import { createMemoryStorage } from '../../src/testing'
import { createChatStore } from '../../src/zustand/chat-store'
import { bindConversations } from '../../src/zustand/conversation-bindings'
import { sampleConversation } from '../core/support/documents'
import { fileOf, recording, reload, setup, testEnvironment } from './support'

/** Writes that reached `path`: a replace renamed over it, or an append to it (a conversation log grows so). */
const writesTo = (log: ReturnType<typeof createMemoryStorage>['log'], path: string) =>
  log.filter(
    (op) =>
      (op.call === 'writeAtomic' && op.step === 'rename' && op.to === path) ||
      (op.call === 'append' && op.step === 'append' && op.path === path),
  ).length

describe('bindConversations', () => {
  it('writes a new conversation at once and each conversation to its own file', async () => {
    const { clock, memory, session } = setup()
    const chat = createChatStore(testEnvironment())
    const bindings = bindConversations(chat, session)

    const a = chat.getState().createConversation({ title: 'A' })
    const b = chat.getState().createConversation({ title: 'B' })
    await bindings.whenHydrated()
    await clock.advance(150)
    expect(Object.keys(memory.files()).sort()).toEqual([
      `conversations/${a}.jsonl`,
      `conversations/${b}.jsonl`,
    ])

    memory.clearLog()
    chat.getState().appendMessage(a, { role: 'user', content: 'Hello' })
    await clock.advance(150)

    expect(writesTo(memory.log, `conversations/${a}.jsonl`)).toBe(1)
    expect(writesTo(memory.log, `conversations/${b}.jsonl`)).toBe(0)
    const saved = (await reload(memory, `conversation/${a}`)) as Conversation
    expect(saved.messages.map((m) => m.content)).toEqual(['Hello'])
  })

  it('keeps a message appended before the new conversation hydrated', async () => {
    const { clock, memory, session } = setup()
    const chat = createChatStore(testEnvironment())
    const bindings = bindConversations(chat, session)

    const id = chat.getState().createConversation()
    chat.getState().appendMessage(id, { role: 'user', content: 'typed at once' })
    expect(bindings.get(id)?.hydration).toBe('hydrating')
    await bindings.whenHydrated()
    await clock.advance(150)

    const saved = (await reload(memory, `conversation/${id}`)) as Conversation
    expect(saved.messages.map((m) => m.content)).toEqual(['typed at once'])
  })

  it('loads a conversation that exists only on disk into the store', async () => {
    const onDisk = sampleConversation('c1')
    const storage = createMemoryStorage({
      files: { 'conversations/c1.json': fileOf('conversation', onDisk) },
    })
    const { session } = setup({ storage })
    const spy = recording(session)
    const chat = createChatStore(testEnvironment())
    const bindings = bindConversations(chat, spy)

    await bindings.bind('c1').whenHydrated()

    expect(chat.getState().conversations.c1).toEqual(onDisk)
    expect(spy.changes).toEqual([])
  })

  it('unbinds and closes a deleted conversation', async () => {
    const { session } = setup()
    const spy = recording(session)
    const chat = createChatStore(testEnvironment())
    const bindings = bindConversations(chat, spy)
    const id = chat.getState().createConversation()
    await bindings.whenHydrated()
    const binding = bindings.get(id)!
    const sent = spy.changes.length

    chat.getState().deleteConversation(id)
    await binding.whenHydrated()
    await new Promise<void>((resolve) => setImmediate(resolve))

    expect(bindings.get(id)).toBeUndefined()
    expect(session.keys()).not.toContain(`conversation/${id}`)
    expect(spy.changes).toHaveLength(sent)
  })

  it('stops following the store', async () => {
    const { session } = setup()
    const chat = createChatStore(testEnvironment())
    const bindings = bindConversations(chat, session)
    bindings.stop()

    chat.getState().createConversation()

    expect(bindings.ids()).toEqual([])
  })
})
