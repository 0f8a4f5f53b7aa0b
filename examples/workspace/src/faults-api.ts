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

/** Creates the caller over `fetchWithToken`, which adds the run's token as the rpc bridge's requests carry it. */
export function createFaultsApi(url: string, fetchWithToken: typeof fetch): FaultsApi {
  return {
    async apply(action) {
      const response = await fetchWithToken(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
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
