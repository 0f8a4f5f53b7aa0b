/**
 * The page's side of the developer fault endpoint (`server/dev-faults.ts`). Types are repeated here rather than
 * imported, so the page bundle never pulls in server code.
 */

/** What the panel can ask for. */
export type FaultAction =
  | 'state'
  | 'disk-full'
  | 'permission-denied'
  | 'slow'
  | 'flaky'
  | 'clear'
  | 'corrupt-project'
  | 'corrupt-settings'

/** The server's answer. */
export interface FaultState {
  faults: Array<{ id: number; label: string; used: number }>
  message: string
}

/** Calls the fault endpoint. */
export interface FaultsApi {
  apply(action: FaultAction): Promise<FaultState>
}

/** Creates the caller; the token travels in a header, like the rpc bridge's. */
export function createFaultsApi(url: string, token: string): FaultsApi {
  return {
    async apply(action) {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ action }),
        redirect: 'error',
      })
      const body = (await response.json()) as FaultState | { error: string }
      if (!response.ok || 'error' in body) {
        throw new Error('error' in body ? body.error : `The fault endpoint answered ${response.status}.`)
      }
      return body
    },
  }
}
