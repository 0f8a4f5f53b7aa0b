import { createContext, type ReactNode, useContext, useMemo } from 'react'
import type { SaveCoordinator } from '../core/save-coordinator'
import { systemUiClock, type UiClock } from './clock'
import type { BackupsAdapter } from './types'

/** What the provider hands down. */
export interface SaveflowContextValue {
  coordinator: SaveCoordinator
  backups: BackupsAdapter | null
  clock: UiClock
}

const SaveflowContext = createContext<SaveflowContextValue | null>(null)

/** Props of {@link SaveflowProvider}. */
export interface SaveflowProviderProps {
  /** The coordinator whose documents the hooks and components show. */
  coordinator: SaveCoordinator
  /** Backup operations of the storage layer, for `useBackups` and the recovery dialog. @default none */
  backups?: BackupsAdapter
  /**
   * Time and ticks for "Saved 5 s ago" and retry countdowns; pass `uiClockFrom(clock, now)` when the coordinator
   * runs on a simulated clock. @default the wall clock
   */
  clock?: UiClock
  children?: ReactNode
}

/** Makes a coordinator (and optionally the backups) available to every saveflow hook and component below it. */
export function SaveflowProvider({ coordinator, backups, clock, children }: SaveflowProviderProps) {
  const value = useMemo<SaveflowContextValue>(
    () => ({ coordinator, backups: backups ?? null, clock: clock ?? systemUiClock }),
    [coordinator, backups, clock],
  )
  return <SaveflowContext.Provider value={value}>{children}</SaveflowContext.Provider>
}

/** The provider's value, or null outside one (for components that also work alone, like the recovery dialog). */
export function useOptionalSaveflow(): SaveflowContextValue | null {
  return useContext(SaveflowContext)
}

/** The provider's value; throws outside a {@link SaveflowProvider}, where a silent default would hide a wiring bug. */
export function useSaveflow(): SaveflowContextValue {
  const value = useContext(SaveflowContext)
  if (value === null)
    throw new Error('saveflow: this hook or component must be used inside <SaveflowProvider>.')
  return value
}

/** The coordinator of the nearest {@link SaveflowProvider} (to call `retry`, `flush`, `change`). */
export function useSaveCoordinator(): SaveCoordinator {
  return useSaveflow().coordinator
}
