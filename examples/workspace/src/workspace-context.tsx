import { createContext, type ReactNode, useContext, useSyncExternalStore } from 'react'
import type { HydrationStatus, StoreBinding } from 'saveflow/zustand'
import type { AppWorkspace, ExternalList } from './workspace'

const WorkspaceContext = createContext<AppWorkspace | null>(null)

/** Hands the page's workspace (session, stores, client) to every component below. */
export function WorkspaceProvider({ workspace, children }: { workspace: AppWorkspace; children: ReactNode }) {
  return <WorkspaceContext.Provider value={workspace}>{children}</WorkspaceContext.Provider>
}

/** The page's workspace; throws outside {@link WorkspaceProvider}. */
export function useWorkspace(): AppWorkspace {
  const workspace = useContext(WorkspaceContext)
  if (workspace === null) throw new Error('useWorkspace must be used inside <WorkspaceProvider>.')
  return workspace
}

/** Where a binding's hydration stands, re-rendering when it moves. */
export function useHydration(binding: StoreBinding<unknown>): HydrationStatus {
  return useSyncExternalStore(
    (listener) => binding.onHydration(listener),
    () => binding.hydration,
  )
}

/** The items of an {@link ExternalList}. */
export function useExternalList<T>(list: ExternalList<T>): readonly T[] {
  return useSyncExternalStore(list.subscribe, list.get)
}
