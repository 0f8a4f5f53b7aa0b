import { describe, expect, it } from 'vitest'
import { conversationSchema } from '../../src/core/schemas'
import { createChatStore } from '../../src/zustand/chat-store'
import { testEnvironment } from './support'

describe('createChatStore', () => {
  it('creates conversations and edits their messages', () => {
    const s = createChatStore(testEnvironment())
    const c = s.getState().createConversation({ title: 'Kick-off' })
    const m1 = s.getState().appendMessage(c, { role: 'user', content: 'Hello' })
    const m2 = s.getState().appendMessage(c, { role: 'assistant', content: 'Hi' })
    s.getState().editMessage(c, m1, 'Hello there')
    s.getState().deleteMessage(c, m2)
    const conversation = s.getState().conversations[c]!
    expect(conversation.messages.map((m) => [m.id, m.content])).toEqual([[m1, 'Hello there']])
    expect(conversationSchema.safeParse(conversation).success).toBe(true)
  })

  it('changes only the edited conversation object', () => {
    const s = createChatStore(testEnvironment())
    const a = s.getState().createConversation()
    const b = s.getState().createConversation()
    const before = s.getState().conversations
    s.getState().appendMessage(a, { role: 'user', content: 'x' })
    expect(s.getState().conversations[b]).toBe(before[b])
    expect(s.getState().conversations[a]).not.toBe(before[a])
  })

  it('deletes a conversation and clears it as the active one', () => {
    const s = createChatStore(testEnvironment())
    const a = s.getState().createConversation()
    s.getState().setActiveConversation(a)
    s.getState().deleteConversation(a)
    expect(s.getState().conversations).toEqual({})
    expect(s.getState().activeConversationId).toBeNull()
  })

  it('refuses unknown, duplicate and malformed ids with typed errors', () => {
    const s = createChatStore(testEnvironment())
    const a = s.getState().createConversation({ id: 'c1' })
    const state = s.getState()
    expect(() => s.getState().createConversation({ id: 'c1' })).toThrowError(
      expect.objectContaining({ code: 'invalid-id' }),
    )
    expect(() => s.getState().createConversation({ id: '../etc' })).toThrowError(
      expect.objectContaining({ code: 'invalid-data' }),
    )
    expect(() => s.getState().appendMessage('nope', { role: 'user', content: '' })).toThrowError(
      expect.objectContaining({ code: 'not-found' }),
    )
    expect(() => s.getState().editMessage(a, 'nope', '')).toThrowError(
      expect.objectContaining({ code: 'not-found' }),
    )
    expect(s.getState()).toBe(state)
  })
})
