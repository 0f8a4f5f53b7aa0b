import { useSelector } from '@xstate/react'
import { useCallback, useEffect, useMemo, useReducer, useState } from 'react'
import {
  type SaveCoordinatorSnapshot,
  selectAggregateStatus,
  selectDocumentStatus,
} from '../core/save-selectors'
import type { AggregateStatus, DocumentStatus } from '../core/status'
import { sameAggregate, sameDocumentStatus } from './equality'
import { useOptionalSaveflow, useSaveflow } from './SaveflowProvider'
import type { BackupInfo, BackupPreview, BackupsAdapter, RestoreResult } from './types'

/**
 * Reads a value derived from the coordinator's snapshot (`@xstate/react`'s `useSelector` over `coordinator.actor`)
 * and re-renders only when `isEqual` says it changed. The selectors of `saveflow` (`selectDocumentStatus`,
 * `selectAggregateStatus`, ...) fit; `select` and `isEqual` may be inline functions, since the previous value is
 * kept and compared, not the functions.
 *
 * The coordinator's snapshot changes whenever one of its save actors does (they report every change to it), so a
 * selector that reads a child's snapshot through it stays fresh. Time-derived text ("Saved 5 s ago") is not
 * selected here: it would change without any snapshot changing. Components tick for it with `useNow`.
 */
export function useSaveflowSelector<T>(
  select: (snapshot: SaveCoordinatorSnapshot) => T,
  isEqual: (a: T, b: T) => boolean = Object.is,
): T {
  const { coordinator } = useSaveflow()
  // The facade types its actor loosely (the machine's own types stay out of its public signature).
  return useSelector(coordinator.actor, select as (snapshot: unknown) => T, isEqual)
}

/** The status of the whole workspace; re-renders only when the aggregate (status, counts, writes) changes. */
export function useSaveStatus(): AggregateStatus {
  return useSaveflowSelector(selectAggregateStatus, sameAggregate)
}

/**
 * The status of one document, or undefined while `key` is not registered. Re-renders only when that document's
 * status changes, not when another document's does.
 */
export function useDocumentStatus(key: string): DocumentStatus | undefined {
  return useSaveflowSelector((snapshot) => selectDocumentStatus(snapshot, key), sameDocumentStatus)
}

/**
 * The current time from the provider's clock, refreshed every `intervalMs`; no timer at all while `intervalMs`
 * is null (a badge that shows no time should not re-render every second).
 */
export function useNow(intervalMs: number | null): number {
  const clock = useOptionalSaveflow()?.clock
  const [, tick] = useReducer((n: number) => n + 1, 0)
  useEffect(() => {
    if (intervalMs === null || clock === undefined) return
    return clock.every(intervalMs, tick)
  }, [clock, intervalMs])
  return clock === undefined ? Date.now() : clock.now()
}

/** What {@link useBackups} returns. */
export interface BackupsState {
  /** `unavailable` when no backups adapter was given. */
  status: 'unavailable' | 'loading' | 'ready' | 'error'
  /** Newest first, as the adapter lists them. */
  backups: readonly BackupInfo[]
  /** Why listing failed, when `status` is `error`. */
  error: unknown
  /** Lists the backups again. */
  reload(): void
  /** Restores a backup, then lists again (the replaced version is now a backup too). */
  restore(id: string): Promise<RestoreResult | undefined>
  /** Reads a backup without restoring it. */
  preview(id: string): Promise<BackupPreview>
}

const noAdapter = () =>
  Promise.reject(new Error('saveflow: no backups adapter was given to <SaveflowProvider>.'))

/**
 * The backups of one document, from the `backups` adapter of the provider (or the one passed here, for components
 * used outside a provider).
 */
export function useBackups(key: string, adapter?: BackupsAdapter): BackupsState {
  const fromContext = useOptionalSaveflow()?.backups ?? null
  const backups = adapter ?? fromContext
  const [generation, reload] = useReducer((n: number) => n + 1, 0)
  // `key` is kept with the list so that, for one render after the key changes, the old key's list is not shown.
  const [state, setState] = useState<{
    key: string | null
    status: BackupsState['status']
    backups: readonly BackupInfo[]
    error: unknown
  }>({ key: null, status: 'loading', backups: [], error: null })

  useEffect(() => {
    if (backups === null) return
    // Results of an older request (another key, an earlier reload) must not overwrite a newer one.
    let current = true
    // A reload keeps the list on screen until the new one arrives, so restoring does not make the rows flicker.
    setState((s) => ({ ...s, status: s.key === key && generation > 0 ? s.status : 'loading', error: null }))
    backups.list(key).then(
      (list) => current && setState({ key, status: 'ready', backups: list, error: null }),
      (error: unknown) => current && setState({ key, status: 'error', backups: [], error }),
    )
    return () => {
      current = false
    }
  }, [backups, key, generation])

  const restore = useCallback(
    async (id: string) => {
      if (backups === null) return noAdapter()
      const result = await backups.restore(key, id)
      reload()
      return result
    },
    [backups, key],
  )
  const preview = useCallback(
    (id: string) => (backups === null ? noAdapter() : backups.preview(key, id)),
    [backups, key],
  )

  return useMemo(
    () =>
      backups === null
        ? { status: 'unavailable', backups: [], error: null, reload, restore, preview }
        : state.key === key
          ? { status: state.status, backups: state.backups, error: state.error, reload, restore, preview }
          : { status: 'loading', backups: [], error: null, reload, restore, preview },
    [backups, key, state, restore, preview],
  )
}
