import type { WorkspaceSession } from 'saveflow'
import { type AppBootstrap, readBootstrap } from './bootstrap'

/**
 * The page's connection to its app server, across server restarts.
 *
 * Each server run has its own token, so a page that outlives its server (the server was stopped or crashed, and
 * started again on the same port) holds a token the new run refuses. The page then asks the server for its page
 * again, same-origin, and takes the new token from it: exactly what a reload would do, without losing the edits
 * held in memory. Only the page's own origin can read that response (no CORS headers are ever sent, and the server
 * refuses a foreign Host), so this hands the token to nobody new. The new run must serve the same folder: edits
 * made to one workspace are never sent to another one that happens to answer on the same port.
 */

/** What {@link createServerLink} returns. */
export interface ServerLink {
  /** A fetch that sends the current token and, refused with 401, renews it once and tries again. */
  readonly fetch: typeof fetch
  /** The current token. */
  token(): string
  /**
   * Loads the page from the server to learn whether it is up and its token; resolves true when it answered for
   * the same folder (the token is then current). Concurrent calls share one request.
   */
  refresh(): Promise<boolean>
  /** True once a server answered for another folder: saving stops until the user reloads. */
  readonly foreign: boolean
}

/** Creates the link for the page served with `bootstrap`. */
export function createServerLink(bootstrap: AppBootstrap): ServerLink {
  let token = bootstrap.token
  let foreign = false
  let refreshing: Promise<boolean> | null = null

  const refresh = (): Promise<boolean> => {
    refreshing ??= (async () => {
      try {
        const response = await globalThis.fetch('/', {
          cache: 'no-store',
          redirect: 'error',
          // Tells the server this is not a new page: reports meant for the next page it serves are kept for it.
          headers: { 'x-saveflow-token-renewal': '1' },
        })
        if (!response.ok) return false
        const next = readBootstrap(new DOMParser().parseFromString(await response.text(), 'text/html'))
        if (next.folder !== bootstrap.folder) {
          foreign = true
          return false
        }
        token = next.token
        return true
      } catch {
        return false
      } finally {
        refreshing = null
      }
    })()
    return refreshing
  }

  const withToken = (init: RequestInit | undefined): RequestInit => ({
    ...init,
    headers: { ...(init?.headers as Record<string, string> | undefined), authorization: `Bearer ${token}` },
  })

  return {
    async fetch(input, init) {
      const used = token
      const response = await globalThis.fetch(input, withToken(init))
      if (response.status !== 401 || foreign) return response
      // Another request may have renewed the token meanwhile; otherwise ask for it.
      if (token === used && !(await refresh())) return response
      return globalThis.fetch(input, withToken(init))
    },
    token: () => token,
    refresh,
    get foreign() {
      return foreign
    },
  }
}

/** How often the page looks for its server while saves cannot reach it, in ms. */
const RECONNECT_INTERVAL_MS = 1000

/**
 * While a document's save fails because the server cannot be reached, looks for the server every second; once it
 * answers, retries those documents at once instead of waiting out their backoff (or their exhausted attempts).
 * Returns the function that stops watching.
 */
export function watchServer(session: WorkspaceSession, link: ServerLink): () => void {
  const { coordinator } = session
  let timer: ReturnType<typeof setTimeout> | undefined
  let stopped = false

  const waiting = () =>
    coordinator.keys().filter((key) => {
      const status = coordinator.status(key)
      return (
        (status.status === 'retrying' || status.status === 'failed') &&
        status.lastError?.details?.unreachable === true
      )
    })

  const poll = async () => {
    timer = undefined
    if (stopped || waiting().length === 0) return
    if (await link.refresh()) {
      for (const key of waiting()) session.retry(key)
      return
    }
    if (!link.foreign) schedule()
  }
  const schedule = () => {
    if (!stopped && timer === undefined) timer = setTimeout(() => void poll(), RECONNECT_INTERVAL_MS)
  }

  const unsubscribe = coordinator.subscribe(() => {
    if (waiting().length > 0) schedule()
  })
  return () => {
    stopped = true
    clearTimeout(timer)
    unsubscribe()
  }
}
