import { createStore, type StoreApi } from 'zustand/vanilla'
import { SaveflowError } from '../core/errors'
import { type Conversation, conversationSchema, idSchema, type Message, messageSchema } from '../core/schemas'
import { notFound, parseOrThrow, resolveEnvironment, type StoreEnvironment } from './store-env'

/**
 * The reference chat store (the seed's `chat-store`): conversations with the assistant, keyed by id. Each
 * conversation is its own `conversation/<id>` document, so the store keeps them in a record: an edit replaces one
 * conversation object and leaves every other one as it was, which is what lets each binding see only its own
 * changes (see `bindConversations`).
 *
 * Actions validate with the document's zod schemas and throw a `SaveflowError` (`not-found`, `invalid-data`,
 * `invalid-id`); the state is unchanged when they throw.
 */

/** What {@link ChatActions.createConversation} may be given. */
export interface NewConversation {
  /** @default a new id */
  id?: string
  /** @default 'New conversation' */
  title?: string
  /** The feature node the conversation is about. @default null */
  nodeId?: string | null
}

/** What {@link ChatActions.appendMessage} is given. */
export interface NewMessage {
  role: Message['role']
  content: string
  /** @default a new id */
  id?: string
}

/** The actions of the chat store. */
export interface ChatActions {
  /** Starts a conversation; returns its id. An id already in the store throws `invalid-id`. */
  createConversation(input?: NewConversation): string
  /** Changes a conversation's title. */
  renameConversation(id: string, title: string): void
  /** Adds a message at the end of a conversation; returns the message id. */
  appendMessage(conversationId: string, message: NewMessage): string
  /** Replaces the content of a message. */
  editMessage(conversationId: string, messageId: string, content: string): void
  /** Removes one message. */
  deleteMessage(conversationId: string, messageId: string): void
  /** Removes a conversation from the store (its binding is then dropped: see `bindConversations`). */
  deleteConversation(id: string): void
  /** Shows a conversation in the UI. Transient: never saved. */
  setActiveConversation(id: string | null): void
}

/** The chat store's state. */
export interface ChatState extends ChatActions {
  /** Every conversation in memory, by id. Each one is the data of its `conversation/<id>` document. */
  conversations: Readonly<Record<string, Conversation>>
  /** The conversation shown in the UI. Transient: no conversation's slice includes it. */
  activeConversationId: string | null
}

/** A vanilla chat store; in React read it with `useStore(store, selector)`. */
export type ChatStore = StoreApi<ChatState>

/** Options of {@link createChatStore}. */
export interface ChatStoreOptions extends StoreEnvironment {
  /** Conversations to start with. @default none */
  initial?: readonly Conversation[]
}

/** The `partialize` of one conversation's binding: that conversation, or `undefined` once it was deleted. */
export function conversationOf(id: string): (state: ChatState) => Conversation | undefined {
  return (state) => state.conversations[id]
}

/** The `merge` of one conversation's binding: puts the loaded conversation back under its id. */
export function withConversation(
  id: string,
): (persisted: Conversation | undefined, state: ChatState) => ChatState {
  return (persisted, state) => {
    if (persisted === undefined || state.conversations[id] === persisted) return state
    return { ...state, conversations: { ...state.conversations, [id]: persisted } }
  }
}

/** Creates a fresh chat store (zustand stores are module singletons otherwise; tests and stories need new ones). */
export function createChatStore(options: ChatStoreOptions = {}): ChatStore {
  const { nowIso, createId } = resolveEnvironment(options)
  const initial: Record<string, Conversation> = {}
  for (const conversation of options.initial ?? []) initial[conversation.id] = conversation

  return createStore<ChatState>()((set, get) => {
    const conversationOrThrow = (id: string): Conversation => {
      const conversation = get().conversations[id]
      if (conversation === undefined) throw notFound('conversation', id)
      return conversation
    }
    /** Validates and stores one conversation; the other conversations keep their objects. */
    const put = (conversation: Conversation) => {
      const next = parseOrThrow(conversationSchema, conversation, `conversations.${conversation.id}`)
      set({ conversations: { ...get().conversations, [next.id]: next } })
    }
    const messageIndex = (conversation: Conversation, messageId: string): number => {
      const index = conversation.messages.findIndex((message) => message.id === messageId)
      if (index < 0) throw notFound('message', messageId)
      return index
    }

    return {
      conversations: initial,
      activeConversationId: null,

      createConversation(input = {}) {
        const id = parseOrThrow(idSchema, input.id ?? createId(), 'id')
        if (get().conversations[id] !== undefined) throw duplicate(id)
        const now = nowIso()
        put({
          id,
          title: input.title ?? 'New conversation',
          nodeId: input.nodeId ?? null,
          messages: [],
          createdAt: now,
          updatedAt: now,
        })
        return id
      },

      renameConversation(id, title) {
        const conversation = conversationOrThrow(id)
        if (conversation.title === title) return
        put({ ...conversation, title, updatedAt: nowIso() })
      },

      appendMessage(conversationId, message) {
        const conversation = conversationOrThrow(conversationId)
        const now = nowIso()
        const next = parseOrThrow(
          messageSchema,
          { id: message.id ?? createId(), role: message.role, content: message.content, createdAt: now },
          `conversations.${conversationId}.messages`,
        )
        if (conversation.messages.some((existing) => existing.id === next.id)) throw duplicate(next.id)
        put({ ...conversation, messages: [...conversation.messages, next], updatedAt: now })
        return next.id
      },

      editMessage(conversationId, messageId, content) {
        const conversation = conversationOrThrow(conversationId)
        const index = messageIndex(conversation, messageId)
        const message = conversation.messages[index]!
        if (message.content === content) return
        put({
          ...conversation,
          messages: conversation.messages.with(index, { ...message, content }),
          updatedAt: nowIso(),
        })
      },

      deleteMessage(conversationId, messageId) {
        const conversation = conversationOrThrow(conversationId)
        const index = messageIndex(conversation, messageId)
        put({
          ...conversation,
          messages: conversation.messages.toSpliced(index, 1),
          updatedAt: nowIso(),
        })
      },

      deleteConversation(id) {
        const { conversations, activeConversationId } = get()
        conversationOrThrow(id)
        const { [id]: _removed, ...rest } = conversations
        set({ conversations: rest, ...(activeConversationId === id ? { activeConversationId: null } : {}) })
      },

      setActiveConversation(id) {
        if (id !== null) conversationOrThrow(id)
        set({ activeConversationId: id })
      },
    }
  })
}

/** An id given twice would make two records one: refused, like a second `register` of a key. */
function duplicate(id: string): SaveflowError {
  return new SaveflowError('invalid-id', { message: `The id "${id}" is already in use.`, details: { id } })
}
