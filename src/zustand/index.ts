// The entry point `saveflow/zustand`: binds zustand stores to saveflow documents, and the seed's reference stores.
// Browser-safe. A plain list of named re-exports: add lines, never `export *`.

export type {
  BindableSession,
  BindableStore,
  BindStoreOptions,
  HydrationOutcome,
  HydrationStatus,
  StoreBinding,
} from './bind-store'
export { bindStore } from './bind-store'
export type {
  ChatActions,
  ChatState,
  ChatStore,
  ChatStoreOptions,
  NewConversation,
  NewMessage,
} from './chat-store'
export { conversationOf, createChatStore, withConversation } from './chat-store'
export type { ConnectOptions, ReferenceStores } from './connect'
export { connectReferenceStores, conversationRefOf } from './connect'
export type { ConversationBindings, ConversationBindingsOptions } from './conversation-bindings'
export { bindConversations } from './conversation-bindings'
export type { MergeEdits } from './merge-edits'
export { mergeEarlyEdits } from './merge-edits'
export type { ProjectActions, ProjectState, ProjectStore, ProjectStoreOptions } from './project-store'
export {
  createProjectStore,
  emptyProject,
  mergeProjectEdits,
  projectDataOf,
  selectChildren,
} from './project-store'
export type {
  SettingsActions,
  SettingsPatch,
  SettingsState,
  SettingsStore,
  SettingsStoreOptions,
} from './settings-store'
export { createSettingsStore, settingsOf } from './settings-store'
export type { StoreEnvironment } from './store-env'
