import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  DEFAULT_PERSISTENCE_CONFIG,
  type RecoveryReport,
  type RepositoryEvent,
  RPC_PATH,
  resolvePersistenceConfig,
  type SaveOutcome,
} from 'saveflow'
import { createRpcHandler, openWorkspace, type RpcEvent, type Workspace } from 'saveflow/node'
import { createFaultyStorage, type FaultyStorage } from 'saveflow/testing'
import type { AppBootstrap } from '../src/bootstrap'
import { createDevFaults, FAULT_ACTIONS, type FaultAction } from './dev-faults'
import { seedSampleIfNew } from './first-run'
import { bearerCheck, checkLocalOrigin, readJsonBody, sendJson } from './local-request'
import { createServedRepository } from './served-repository'
import { loadStaticFiles } from './static-files'

/**
 * The workspace app's Node server. It owns the workspace folder (`openWorkspace`: the lock, the crash cleanup, the
 * fs backend) and serves three things on 127.0.0.1 only:
 * - `GET /`: the built page, with this run's token written into it (see `src/bootstrap.ts`);
 * - `POST /saveflow/rpc`: the rpc bridge, whose handler checks Host, Origin, token and body size itself;
 * - `POST /saveflow/dev/faults`: the developer panel's fault switches, behind the same checks and token.
 *
 * The page runs the save machines (its state lives there) and calls the repository here, where the disk is
 * (DESIGN.md "Data flow"). The storage is the fs backend wrapped in `createFaultyStorage`, whose rules stay empty
 * (every call passes straight through) until the developer panel switches a fault on.
 */

/** Sent by a page that fetches `index.html` only to renew its token (`src/server-link.ts`). */
const TOKEN_RENEWAL_HEADER = 'x-saveflow-token-renewal'

/** The path of the developer fault endpoint. */
export const FAULTS_PATH = '/saveflow/dev/faults'

/** Options of {@link startAppServer}. */
export interface AppServerOptions {
  /** The workspace folder; created (0700) if missing, with a sample project when it has none. */
  dir: string
  /** The port on 127.0.0.1; 0 picks a free one. @default 0 */
  port?: number
  /** Vite's output folder for the page. */
  distDir: string
  /** Offer the developer fault endpoint (and panel). @default true */
  faults?: boolean
  /** Receives one line per notable event (backups, quarantine, refused requests). @default nothing is logged */
  log?: (line: string) => void
}

/** A running app server. */
export interface AppServer {
  /** The page's address: `http://127.0.0.1:<port>/`. */
  readonly url: string
  readonly port: number
  readonly workspace: Workspace
  /** The faulty wrapper of the fs backend (the developer panel's switches). */
  readonly storage: FaultyStorage
  /** This run's token. */
  readonly token: string
  /** Whether this run created the sample project. */
  readonly seeded: boolean
  /**
   * Stops taking requests, lets those in progress finish (a save in flight is written and answered), then flushes
   * and closes the workspace, releasing its lock. A second call returns the first one's outcomes.
   */
  close(options?: { deadlineMs?: number }): Promise<SaveOutcome[]>
}

/** Largest body of a fault request: an action name. */
const FAULT_BODY_LIMIT = 1024

/** Opens the workspace and starts serving; rejects when the app is not built, the folder or the port is unusable. */
export async function startAppServer(options: AppServerOptions): Promise<AppServer> {
  const log = options.log ?? (() => {})
  // Before the workspace opens: a missing build must not take the folder's lock on its way to failing.
  const files = await loadStaticFiles(options.distDir)
  let storage: FaultyStorage | undefined
  const workspace = await openWorkspace(options.dir, {
    wrapStorage: (fs) => {
      storage = createFaultyStorage(fs)
      return storage
    },
  })
  const faulty = storage!
  let server: ReturnType<typeof createServer> | undefined
  try {
    const seeded = await seedSampleIfNew(workspace)
    const served = createServedRepository({
      storage: workspace.storage,
      persistence:
        workspace.settings.status === 'ready'
          ? resolvePersistenceConfig(workspace.settings.data.persistence)
          : DEFAULT_PERSISTENCE_CONFIG,
      readOnly: () => workspace.readOnly,
      onEvent: (event) => log(describeRepositoryEvent(event)),
    })
    const handler = createRpcHandler({
      repository: served.repository,
      onEvent: (event: RpcEvent) => {
        if (event.type === 'rpc.rejected') log(`refused an rpc request: ${event.reason} (${event.status})`)
      },
    })
    const token = handler.token
    const hasToken = bearerCheck(token)
    const faults = options.faults === false ? null : createDevFaults(faulty, workspace.dir)
    // What the server recovered while opening (a file damaged while it was not running): told to the first page.
    let startupRecovery: RecoveryReport[] = workspace.session.recoveryReports()

    /** `renewal`: a page that stays open renewing its token shows no dialog, so the reports wait for a new page. */
    const bootstrap = (renewal: boolean): AppBootstrap => {
      const report = startupRecovery
      if (!renewal) startupRecovery = []
      return {
        token,
        rpcPath: RPC_PATH,
        faultsPath: faults === null ? null : FAULTS_PATH,
        persistence: served.persistence,
        readOnly: workspace.readOnly,
        startupRecovery: report,
        folder: workspace.dir,
      }
    }

    const handleFaults = async (req: IncomingMessage, res: ServerResponse) => {
      const refusal = checkLocalOrigin(req)
      if (refusal !== null) return sendJson(res, refusal.status, { error: refusal.message })
      if (req.method !== 'POST') return sendJson(res, 405, { error: 'Only POST is accepted.' })
      if (!hasToken(req))
        return sendJson(res, 401, { error: 'The request did not carry the token of this run.' })
      if ((req.headers['content-type'] ?? '').split(';')[0]!.trim() !== 'application/json') {
        return sendJson(res, 415, { error: 'The body must be application/json.' })
      }
      const body = (await readJsonBody(req, FAULT_BODY_LIMIT)) as { action?: unknown } | null
      const action = body?.action
      if (typeof action !== 'string' || !FAULT_ACTIONS.includes(action as FaultAction)) {
        return sendJson(res, 400, { error: 'Unknown fault action.' })
      }
      const state = await faults!.apply(action as FaultAction)
      if (action !== 'state') log(`fault panel: ${action}`)
      sendJson(res, 200, state)
    }

    const route = async (req: IncomingMessage, res: ServerResponse) => {
      // Only the path is used; the request line's host part, if any, is ignored (Host is checked below).
      const pathname = (req.url ?? '/').split('?')[0]!
      if (pathname === RPC_PATH) return handler.listener(req, res)
      if (pathname === FAULTS_PATH && faults !== null) return handleFaults(req, res)
      const refusal = checkLocalOrigin(req)
      if (refusal !== null) return sendText(res, refusal.status, refusal.message)
      if (req.method !== 'GET') return sendText(res, 405, 'Only GET is accepted here.')
      if (pathname === '/' || pathname === '/index.html') {
        return files.sendIndex(res, bootstrap(req.headers[TOKEN_RENEWAL_HEADER] !== undefined))
      }
      if (!(await files.sendAsset(res, pathname))) sendText(res, 404, 'Not found.')
    }

    server = createServer((req, res) => {
      route(req, res).catch((error: unknown) => {
        log(`request failed: ${String(error)}`)
        if (!res.headersSent) sendText(res, 500, 'Internal error.')
        else res.destroy()
      })
    })
    const http = server
    const port = await new Promise<number>((resolve, reject) => {
      http.once('error', reject)
      // 127.0.0.1, explicitly: no other machine can connect, whatever the host's default address is.
      http.listen(options.port ?? 0, '127.0.0.1', () => {
        http.off('error', reject)
        resolve((http.address() as AddressInfo).port)
      })
    })

    let closing: Promise<SaveOutcome[]> | null = null
    return {
      url: `http://127.0.0.1:${port}/`,
      port,
      workspace,
      storage: faulty,
      token,
      seeded,
      close(closeOptions = {}) {
        const deadlineMs = closeOptions.deadlineMs ?? 5000
        closing ??= (async () => {
          await stopServer(http, deadlineMs)
          return workspace.close({ deadlineMs })
        })()
        return closing
      },
    }
  } catch (error) {
    server?.close()
    await workspace.close()
    throw error
  }
}

/**
 * Stops accepting connections and waits for the requests in progress (a save being written is finished and
 * answered, so the page sees it acknowledged); idle keep-alive connections are dropped at once, and whatever is
 * still open at the deadline is cut.
 */
function stopServer(server: ReturnType<typeof createServer>, deadlineMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.closeAllConnections(), deadlineMs)
    server.close(() => {
      clearTimeout(timer)
      resolve()
    })
    server.closeIdleConnections()
  })
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  })
  res.end(text)
}

/** One log line per repository event worth seeing in the terminal. */
function describeRepositoryEvent(event: RepositoryEvent): string {
  switch (event.type) {
    case 'backup.created':
      return `backup of ${event.key} (revision ${event.backup.revision}, ${event.reason})`
    case 'backup.pruned':
      return `pruned ${event.removed.length} old backup(s) of ${event.key}`
    case 'backup.skipped':
      return `no backup of ${event.key}: the current file did not verify (${event.code})`
    case 'backup.failed':
      return `backup of ${event.key} failed: ${event.error.message}`
    case 'quarantined':
      return `moved a damaged ${event.key} file to ${event.result.to}`
    case 'migrated':
      return `migrated ${event.key} from schema ${event.from} to ${event.to}`
    default:
      // Journal events and any added later: their type and key say enough for a terminal.
      return `${event.type}: ${event.key}`
  }
}
