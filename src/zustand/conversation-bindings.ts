import { conversationKey } from '../core/paths'
import type { Conversation } from '../core/schemas'
import { type BindableSession, bindStore, type HydrationOutcome, type StoreBinding } from './bind-store'
import { type ChatState, type ChatStore, conversationOf, withConversation } from './chat-store'

/**
 * One binding per conversation: each conversation is its own `conversation/<id>` document, so a message appended to
 * one conversation saves that file alone. {@link bindConversations} keeps the set of bindings in step with the chat
 * store: a conversation created in the store is bound (and written at once, so the project's index never names a
 * file that does not exist), a deleted one is unbound and closed in the session.
 */

/** Options of {@link bindConversations}. */
export interface ConversationBindingsOptions {
  /** Called once each time a conversation's hydration settles. */
  onRehydrate?: (id: string, outcome: HydrationOutcome<Conversation | undefined>) => void
}

/** What {@link bindConversations} returns. */
export interface ConversationBindings {
  /**
   * Binds a conversation (once; a second call returns the same binding). A conversation that exists only on disk
   * (listed by the project) is loaded into the store.
   */
  bind(id: string): StoreBinding<Conversation | undefined>
  /** The binding of a conversation, if it is bound. */
  get(id: string): StoreBinding<Conversation | undefined> | undefined
  /** Ids of the bound conversations. */
  ids(): string[]
  /** Resolves when every conversation bound so far has settled its hydration. */
  whenHydrated(): Promise<Array<HydrationOutcome<Conversation | undefined>>>
  /** Unbinds every conversation and stops following the store. Documents stay open in the session. */
  stop(): void
}

/**
 * Binds every conversation of the chat store to its document, now and as conversations are created; a deleted
 * conversation is unbound and its document closed (flushed, then forgotten by the session). The file itself stays
 * on disk: the session has no delete operation, and the project's index no longer lists it.
 */
export function bindConversations(
  store: ChatStore,
  session: BindableSession,
  options: ConversationBindingsOptions = {},
): ConversationBindings {
  const bindings = new Map<string, StoreBinding<Conversation | undefined>>()

  const bind = (id: string) => {
    const existing = bindings.get(id)
    if (existing !== undefined) return existing
    const key = conversationKey(id)
    const binding = bindStore<ChatState, Conversation | undefined>(store, {
      session,
      key,
      partialize: conversationOf(id),
      merge: withConversation(id),
      // A new conversation is listed in the project at once; its file must exist before its first message.
      saveNew: true,
      ...(options.onRehydrate === undefined
        ? {}
        : { onRehydrate: (_state, outcome) => options.onRehydrate!(id, outcome) }),
    })
    bindings.set(id, binding)
    return binding
  }

  // Subscribed before any binding, so a deletion unbinds the conversation before its own binding hears of it.
  const unsubscribe = store.subscribe((state, previous) => {
    if (state.conversations === previous.conversations) return
    for (const id of Object.keys(previous.conversations)) {
      if (state.conversations[id] !== undefined) continue
      const binding = bindings.get(id)
      if (binding === undefined) continue
      binding.unbind()
      bindings.delete(id)
      closeQuietly(session, binding.key)
    }
    for (const id of Object.keys(state.conversations)) {
      if (previous.conversations[id] === undefined) bind(id)
    }
  })
  for (const id of Object.keys(store.getState().conversations)) bind(id)

  return {
    bind,
    get: (id) => bindings.get(id),
    ids: () => [...bindings.keys()],
    whenHydrated: () => Promise.all([...bindings.values()].map((binding) => binding.whenHydrated())),
    stop() {
      unsubscribe()
      for (const binding of bindings.values()) binding.unbind()
      bindings.clear()
    },
  }
}

/** Closes a document whose conversation was deleted; a failed final flush is the save status's to show, not ours. */
function closeQuietly(session: Pick<BindableSession, 'closeDocument'>, key: string): void {
  session.closeDocument(key).catch(() => {})
}
