import { type FormEvent, useEffect, useRef, useState } from 'react'
import { SaveStatusBadge } from 'saveflow/react'
import { useStore } from 'zustand'
import { ANSWER_DELAY_MS, cannedAnswer } from '../assistant'
import { useWorkspace } from '../workspace-context'

/**
 * The chat about one feature: its conversation (the first one linked to the node), each message appended to the
 * conversation's own document. The first message creates the conversation.
 */
export function ChatPanel({ nodeId }: { nodeId: string }) {
  const { stores } = useWorkspace()
  const title = useStore(
    stores.project,
    (state) => state.tree.find((node) => node.id === nodeId)?.title ?? '',
  )
  const conversation = useStore(stores.chat, (state) => {
    let first: (typeof state.conversations)[string] | undefined
    for (const candidate of Object.values(state.conversations)) {
      if (candidate.nodeId === nodeId && (first === undefined || candidate.createdAt < first.createdAt)) {
        first = candidate
      }
    }
    return first
  })
  const [draft, setDraft] = useState('')
  const [typing, setTyping] = useState(false)
  const list = useRef<HTMLOListElement>(null)
  const messageCount = conversation?.messages.length ?? 0

  // Keep the newest message in view as the conversation grows.
  useEffect(() => {
    if (messageCount > 0) list.current?.lastElementChild?.scrollIntoView({ block: 'nearest' })
  }, [messageCount])

  const send = (event: FormEvent) => {
    event.preventDefault()
    const content = draft.trim()
    if (content === '') return
    const chat = stores.chat.getState()
    const id = conversation?.id ?? chat.createConversation({ nodeId, title: title.trim() || 'Chat' })
    chat.appendMessage(id, { role: 'user', content })
    setDraft('')
    setTyping(true)
    const userCount = (conversation?.messages.filter((message) => message.role === 'user').length ?? 0) + 1
    window.setTimeout(() => {
      setTyping(false)
      try {
        stores.chat
          .getState()
          .appendMessage(id, { role: 'assistant', content: cannedAnswer(title, content, userCount) })
      } catch {
        // The conversation was deleted meanwhile: there is no one to answer.
      }
    }, ANSWER_DELAY_MS)
  }

  return (
    <section className="chat" aria-label="Chat">
      <div className="panel-head">
        <h2>Chat</h2>
        {conversation !== undefined && (
          <>
            <span className="chat-title">{conversation.title}</span>
            <SaveStatusBadge documentKey={`conversation/${conversation.id}`} />
          </>
        )}
      </div>
      <ol ref={list} className="messages" aria-label="Messages" aria-live="polite">
        {conversation === undefined || conversation.messages.length === 0 ? (
          <li className="empty">No messages about this feature yet. Ask the assistant something.</li>
        ) : (
          conversation.messages.map((message) => (
            <li key={message.id} className={`message ${message.role}`}>
              <span className="role">{message.role === 'user' ? 'You' : 'Assistant'}</span>
              <p>{message.content}</p>
            </li>
          ))
        )}
        {typing && <li className="message assistant typing">Assistant is typing…</li>}
      </ol>
      <form className="composer" onSubmit={send}>
        <textarea
          aria-label="New message"
          placeholder="Write a message (Enter sends, Shift+Enter for a new line)"
          rows={2}
          value={draft}
          onChange={(event) => setDraft(event.target.value)}
          onKeyDown={(event) => {
            if (event.key === 'Enter' && !event.shiftKey && !event.nativeEvent.isComposing) send(event)
          }}
        />
        <button type="submit" disabled={draft.trim() === ''}>
          Send
        </button>
      </form>
    </section>
  )
}
