import { type FormEvent, useEffect, useMemo, useRef, useState } from 'react'
import { SaveStatusBadge } from 'saveflow/react'
import { useStore } from 'zustand'
import { ANSWER_DELAY_MS, cannedAnswer } from '../assistant'
import { useWorkspace } from '../workspace-context'

/**
 * The chats about one feature: each conversation linked to the node, one shown at a time, each message appended to
 * the conversation's own document. The first message creates a conversation; "New chat" starts another.
 */
export function ChatPanel({ nodeId }: { nodeId: string }) {
  const { stores } = useWorkspace()
  const title = useStore(
    stores.project,
    (state) => state.tree.find((node) => node.id === nodeId)?.title ?? '',
  )
  const conversations = useStore(stores.chat, (state) => state.conversations)
  const linked = useMemo(
    () =>
      Object.values(conversations)
        .filter((candidate) => candidate.nodeId === nodeId)
        .sort((a, b) => a.createdAt.localeCompare(b.createdAt)),
    [conversations, nodeId],
  )
  const [chosen, setChosen] = useState<string | null>(null)
  const conversation = linked.find((candidate) => candidate.id === chosen) ?? linked[0]
  const [draft, setDraft] = useState('')
  const [typing, setTyping] = useState(false)
  const list = useRef<HTMLOListElement>(null)
  const messageCount = conversation?.messages.length ?? 0

  // Keep the newest message in view as the conversation grows.
  useEffect(() => {
    if (messageCount > 0) list.current?.lastElementChild?.scrollIntoView({ block: 'nearest' })
  }, [messageCount])

  const startChat = () => {
    const id = stores.chat.getState().createConversation({ nodeId, title: title.trim() || 'Chat' })
    setChosen(id)
    return id
  }

  const send = (event: FormEvent) => {
    event.preventDefault()
    const content = draft.trim()
    if (content === '') return
    const chat = stores.chat.getState()
    const id = conversation?.id ?? startChat()
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
        {linked.length > 1 && conversation !== undefined ? (
          <select
            aria-label="Conversation"
            className="chat-title"
            value={conversation.id}
            onChange={(event) => setChosen(event.target.value)}
          >
            {linked.map((candidate, index) => (
              <option key={candidate.id} value={candidate.id}>
                {index + 1}. {candidate.title} ({candidate.messages.length})
              </option>
            ))}
          </select>
        ) : (
          <span className="chat-title">{conversation?.title ?? ''}</span>
        )}
        {conversation !== undefined && (
          <>
            <SaveStatusBadge documentKey={`conversation/${conversation.id}`} />
            <button type="button" onClick={startChat} title="Start another conversation about this feature">
              New chat
            </button>
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
