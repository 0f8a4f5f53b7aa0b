import type { PersistenceConfigInput, RecoveryReport, SaveflowErrorData } from 'saveflow'

/**
 * What the server hands the page when it serves `index.html`: a JSON block in the HTML itself, never a URL
 * parameter, so the per-run token cannot leak through `Referer`, history or logs. The server fills it in on every
 * request for the page (see `server/static-files.ts`); this module only names its shape and reads it. Shared by the
 * server (types only) and the page.
 */

/** The id of the `<script type="application/json">` element holding the bootstrap. */
export const BOOTSTRAP_ELEMENT_ID = 'saveflow-bootstrap'

/** The placeholder in the built `index.html` that the server replaces with the bootstrap JSON. */
export const BOOTSTRAP_PLACEHOLDER = '"__SAVEFLOW_BOOTSTRAP__"'

/** The bootstrap the page starts from. */
export interface AppBootstrap {
  /** The per-run token: `Authorization: Bearer <token>` on every call to the server. */
  token: string
  /** Path of the rpc bridge (`/saveflow/rpc`). */
  rpcPath: string
  /** Path of the developer fault endpoint, or null when the server runs without it. */
  faultsPath: string | null
  /** The workspace's persistence settings as the server last read or saved them; the page's session runs on them. */
  persistence: PersistenceConfigInput
  /** Why the workspace is read-only (another process holds its lock), or null. */
  readOnly: SaveflowErrorData | null
  /** What the server had to recover when it opened the workspace (shown once, by the first page served). */
  startupRecovery: RecoveryReport[]
  /** The workspace folder, for display. */
  folder: string
}

/** Reads the bootstrap the server put in the page; throws when the page was not served by the app server. */
export function readBootstrap(doc: Document): AppBootstrap {
  const text = doc.getElementById(BOOTSTRAP_ELEMENT_ID)?.textContent ?? ''
  const value: unknown = JSON.parse(text)
  if (typeof value !== 'object' || value === null || typeof (value as AppBootstrap).token !== 'string') {
    throw new Error('This page must be opened through the saveflow workspace server (npm start).')
  }
  return value as AppBootstrap
}

/**
 * The bootstrap as text safe inside `<script>`: `<` is escaped so no value (a folder name, an error message) can
 * close the element and inject markup.
 */
export function bootstrapJson(bootstrap: AppBootstrap): string {
  return JSON.stringify(bootstrap)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029')
}
