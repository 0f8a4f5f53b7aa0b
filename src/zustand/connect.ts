import type { Conversation, ConversationRef, ProjectData, UserSettings } from '../core/schemas'
import { type BindableSession, bindStore, type HydrationOutcome, type StoreBinding } from './bind-store'
import { type ChatStore, createChatStore } from './chat-store'
import { bindConversations, type ConversationBindings } from './conversation-bindings'
import { createProjectStore, mergeProjectEdits, type ProjectStore, projectDataOf } from './project-store'
import { createSettingsStore, type SettingsStore, settingsOf } from './settings-store'
import type { StoreEnvironment } from './store-env'

/**
 * The seed's three stores wired to their documents: `project` (the feature tree and the conversation index),
 * `settings`, and one `conversation/<id>` per conversation. The chat store is the source of each conversation;
 * the project's index (`ProjectData.conversations`) follows it, so the index and the files agree.
 */

/** Options of {@link connectReferenceStores}. */
export interface ConnectOptions extends StoreEnvironment {
  /** Stores to wire; fresh ones are created for any left out. */
  project?: ProjectStore
  chat?: ChatStore
  settings?: SettingsStore
}

/** What {@link connectReferenceStores} returns. */
export interface ReferenceStores {
  project: ProjectStore
  chat: ChatStore
  settings: SettingsStore
  bindings: { project: StoreBinding<ProjectData>; settings: StoreBinding<UserSettings> }
  conversations: ConversationBindings
  /**
   * Resolves when settings and project have settled their hydration and every conversation the project lists has
   * settled its own (each outcome may still be `needsUser` or `failed`: check `bindings.*.hydration`).
   */
  whenHydrated(): Promise<{
    project: HydrationOutcome<ProjectData>
    settings: HydrationOutcome<UserSettings>
    conversations: Array<HydrationOutcome<Conversation | undefined>>
  }>
  /** Unbinds everything and stops the index sync. Documents stay open in the session: close or flush it there. */
  disconnect(): void
}

/** Creates (or takes) the three reference stores and binds them to their documents in `session`. */
export function connectReferenceStores(
  session: BindableSession,
  options: ConnectOptions = {},
): ReferenceStores {
  const env: StoreEnvironment = {
    ...(options.now === undefined ? {} : { now: options.now }),
    ...(options.createId === undefined ? {} : { createId: options.createId }),
  }
  const project = options.project ?? createProjectStore(env)
  const chat = options.chat ?? createChatStore(env)
  const settings = options.settings ?? createSettingsStore()

  const settingsBinding = bindStore(settings, { session, key: 'settings', partialize: settingsOf })
  const conversations = bindConversations(chat, session)
  const unsubscribeIndex = chat.subscribe((state, previous) => {
    if (state.conversations !== previous.conversations)
      syncIndex(project, state.conversations, previous.conversations)
  })
  // Conversations created before this call are indexed too (they were not seen as changes).
  syncIndex(project, chat.getState().conversations, {})

  const projectBinding = bindStore(project, {
    session,
    key: 'project',
    partialize: projectDataOf,
    mergeEdits: mergeProjectEdits,
  })
  // The project lists the conversations on disk: load each once the project is known.
  const listed = projectBinding.whenHydrated().then(async (outcome) => {
    if (outcome.status === 'hydrated') {
      for (const ref of project.getState().conversations) conversations.bind(ref.id)
    }
    return conversations.whenHydrated()
  })

  return {
    project,
    chat,
    settings,
    bindings: { project: projectBinding, settings: settingsBinding },
    conversations,
    async whenHydrated() {
      const [projectOutcome, settingsOutcome, conversationOutcomes] = await Promise.all([
        projectBinding.whenHydrated(),
        settingsBinding.whenHydrated(),
        listed,
      ])
      return { project: projectOutcome, settings: settingsOutcome, conversations: conversationOutcomes }
    },
    disconnect() {
      unsubscribeIndex()
      conversations.stop()
      projectBinding.unbind()
      settingsBinding.unbind()
    },
  }
}

/** The project's index entry of a conversation. */
export function conversationRefOf(conversation: Conversation): ConversationRef {
  return {
    id: conversation.id,
    title: conversation.title,
    nodeId: conversation.nodeId,
    createdAt: conversation.createdAt,
    updatedAt: conversation.updatedAt,
    messageCount: conversation.messages.length,
  }
}

/**
 * Brings the project's index up to date with the conversations that changed (by reference). The project store
 * ignores an entry whose fields did not change, so a conversation loaded from disk does not bump the project.
 */
function syncIndex(
  project: ProjectStore,
  next: Readonly<Record<string, Conversation>>,
  previous: Readonly<Record<string, Conversation>>,
): void {
  const actions = project.getState()
  for (const [id, conversation] of Object.entries(next)) {
    if (previous[id] !== conversation) actions.upsertConversationRef(conversationRefOf(conversation))
  }
  for (const id of Object.keys(previous)) {
    if (next[id] === undefined) actions.removeConversationRef(id)
  }
}
