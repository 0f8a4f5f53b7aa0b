import {
  createRpcClient,
  createWorkspaceSession,
  type RecoveryReport,
  type RpcClient,
  type SaveflowErrorData,
  type WorkspaceSession,
} from 'saveflow'
import type { BackupsAdapter } from 'saveflow/react'
import { connectReferenceStores, type ReferenceStores } from 'saveflow/zustand'
import { createBackupsAdapter } from './backups-adapter'
import type { AppBootstrap } from './bootstrap'
import { createFaultsApi, type FaultsApi } from './faults-api'
import { createServerLink, type ServerLink, watchServer } from './server-link'

/**
 * The page's workspace: the save machines run here, beside the state (the zustand stores), and call the repository
 * on the app server through the rpc client (DESIGN.md "Data flow"). Created once per page load.
 */

/** A recovery the user should hear about: from this page's loads, or from the server's when it opened the folder. */
export interface PendingRecovery {
  id: number
  report: RecoveryReport
  /** `server`: the server repaired the file while opening the folder; the page then loaded the repaired file. */
  source: 'page' | 'server'
}

/** A document that could not be read at all (permission denied, I/O error). */
export interface LoadProblem {
  key: string
  error: SaveflowErrorData
}

/** Everything the React app works with. */
export interface AppWorkspace {
  bootstrap: AppBootstrap
  client: RpcClient
  /** The connection to the server: its current token, renewed after a server restart. */
  link: ServerLink
  session: WorkspaceSession
  stores: ReferenceStores
  backups: BackupsAdapter
  /** The developer fault endpoint, when the server offers it. */
  faults: FaultsApi | null
  /** Recoveries to show in the recovery dialog, oldest first. */
  recoveries: ExternalList<PendingRecovery>
  /** Documents whose load failed. */
  loadProblems: ExternalList<LoadProblem>
}

/** A tiny external store for `useSyncExternalStore`: events may arrive before React has mounted. */
export interface ExternalList<T> {
  get(): readonly T[]
  subscribe(listener: () => void): () => void
  remove(match: (item: T) => boolean): void
}

function externalList<T>(): ExternalList<T> & { add(item: T): void } {
  let items: readonly T[] = []
  const listeners = new Set<() => void>()
  const set = (next: readonly T[]) => {
    items = next
    for (const listener of [...listeners]) listener()
  }
  return {
    get: () => items,
    subscribe(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
    add: (item) => set([...items, item]),
    remove: (match) => set(items.filter((item) => !match(item))),
  }
}

/** Creates the client, the session and the bound stores; loading starts at once. */
export function openAppWorkspace(bootstrap: AppBootstrap): AppWorkspace {
  const link = createServerLink(bootstrap)
  const client = createRpcClient({
    url: new URL(bootstrap.rpcPath, window.location.origin).href,
    token: bootstrap.token,
    // Sends the current token: a restarted server has a new one (see server-link.ts).
    fetch: link.fetch,
    // Every save may be the last one before the tab closes: keepalive lets it outlive the page (within the
    // browsers' 64 KiB budget; a larger body goes as a normal request).
    keepalive: true,
  })
  const session = createWorkspaceSession({
    repository: client,
    // Checked in the page first, so invalid data fails without a round trip; the server checks again.
    validate: client.validateFn,
    config: bootstrap.persistence,
    readOnly: bootstrap.readOnly,
  })

  // Subscribed before any document opens, so no recovery event can be missed.
  let nextId = 1
  const recoveries = externalList<PendingRecovery>()
  const loadProblems = externalList<LoadProblem>()
  for (const report of bootstrap.startupRecovery) recoveries.add({ id: nextId++, report, source: 'server' })
  session.on('document.recovered', ({ key, report }) => {
    // Starting empty was the user's own answer in the dialog; a backup chosen there already shows its outcome.
    if (report.startedEmpty || recoveries.get().some((item) => item.report.key === key)) return
    recoveries.add({ id: nextId++, report, source: 'page' })
  })
  session.on('document.needsUser', ({ key, report }) => {
    recoveries.remove((item) => item.report.key === key)
    recoveries.add({ id: nextId++, report, source: 'page' })
  })
  session.on('document.loadFailed', ({ key, error }) => {
    loadProblems.remove((item) => item.key === key)
    loadProblems.add({ key, error })
  })
  session.on('document.loaded', ({ key }) => loadProblems.remove((item) => item.key === key))

  const stores = connectReferenceStores(session)
  watchServer(session, link)
  rememberSelection(stores, bootstrap.folder)
  return {
    bootstrap,
    client,
    link,
    session,
    stores,
    backups: createBackupsAdapter(client, session),
    faults:
      bootstrap.faultsPath === null
        ? null
        : createFaultsApi(new URL(bootstrap.faultsPath, window.location.origin).href, link.fetch),
    recoveries,
    loadProblems,
  }
}

/**
 * Saves before the page goes away. `pagehide` is the last event a closing tab reliably gets (`unload` is not, and
 * bfcache skips it); the writes it starts are keepalive requests, which the browser completes after the page is
 * gone. `visibilitychange` to hidden comes first on mobile and when a window is minimised: saving then costs
 * nothing and covers a tab that is later killed without `pagehide`. While a save is failing or retrying, the
 * data is only in this page, so closing it asks first.
 */
export function installPageLifecycle(session: WorkspaceSession): () => void {
  const flush = () => {
    void session.flushAll()
  }
  const onVisibility = () => {
    if (document.visibilityState === 'hidden') flush()
  }
  const onBeforeUnload = (event: BeforeUnloadEvent) => {
    const { status } = session.coordinator.aggregate()
    if (status === 'retrying' || status === 'failed') event.preventDefault()
  }
  window.addEventListener('pagehide', flush)
  document.addEventListener('visibilitychange', onVisibility)
  window.addEventListener('beforeunload', onBeforeUnload)
  return () => {
    window.removeEventListener('pagehide', flush)
    document.removeEventListener('visibilitychange', onVisibility)
    window.removeEventListener('beforeunload', onBeforeUnload)
  }
}

/** The name a user knows a document by, for toasts and dialogs. */
export function documentLabel(stores: ReferenceStores, key: string): string {
  if (key === 'project') return 'Project'
  if (key === 'settings') return 'Settings'
  if (key.startsWith('conversation/')) {
    const title = stores.chat.getState().conversations[key.slice('conversation/'.length)]?.title
    return title === undefined || title === '' ? 'Chat' : `Chat "${title}"`
  }
  return key
}

/**
 * Keeps the selected feature across reloads of this tab (applying settings and the corruption demo reload the
 * page). The selection is view state, not data: it lives in the tab's sessionStorage, never in a document.
 */
function rememberSelection(stores: ReferenceStores, folder: string): void {
  const key = `saveflow-workspace:selected:${folder}`
  let storage: Storage | null = null
  try {
    storage = window.sessionStorage
  } catch {
    return // Storage disabled: the selection simply starts empty.
  }
  void stores.bindings.project.whenHydrated().then((outcome) => {
    const id = storage.getItem(key)
    const project = stores.project.getState()
    if (outcome.status !== 'hydrated' || id === null || project.selectedNodeId !== null) return
    if (project.tree.some((node) => node.id === id)) project.selectNode(id)
  })
  stores.project.subscribe((state, previous) => {
    if (state.selectedNodeId === previous.selectedNodeId) return
    if (state.selectedNodeId === null) storage.removeItem(key)
    else storage.setItem(key, state.selectedNodeId)
  })
}
