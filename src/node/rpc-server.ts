import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { SaveflowError, type SaveflowErrorCode } from '../core/errors'
import {
  encodeResult,
  errorToWire,
  isRemoteOp,
  jsonDepthWithin,
  opSpec,
  RPC_MAX_BODY_BYTES,
  RPC_MAX_DEPTH,
  RPC_PATH,
  type RpcResult,
  rpcRequestSchema,
  type ServedRepository,
  wireValueProblem,
} from '../core/rpc-protocol'

/**
 * The Node side of the rpc bridge: the repository runs here, where the disk is, and the page or renderer calls it
 * (DESIGN.md "Data flow"). Two transports share one {@link RpcHandler.dispatch}: Electron's `ipcMain.handle` calls it
 * directly; a local web app posts to {@link RpcHandler.listener} over HTTP on 127.0.0.1 (see {@link listenRpcServer}).
 *
 * The HTTP checks run in this order, each before the next costs anything: Host (DNS rebinding), Origin, path and
 * method, token, content type, declared length, streamed length, UTF-8, nesting depth, JSON, envelope. Then dispatch
 * checks the op, the document key (the repository's rules), the argument shape, and the data (the document's
 * schema), and only then touches the disk. It offers the document operations only, never a path.
 */

/** What the handler reports besides responses; for logs. Must not throw. */
export type RpcEvent =
  /** A call reached dispatch (over HTTP or IPC); `code` when it failed. */
  | { type: 'rpc.call'; op: string; ok: boolean; code?: SaveflowErrorCode }
  /** An HTTP request was refused before dispatch. */
  | { type: 'rpc.rejected'; status: number; reason: RpcRejectReason }

/** Why an HTTP request was refused before dispatch. */
export type RpcRejectReason =
  | 'host'
  | 'origin'
  | 'path'
  | 'method'
  | 'token'
  | 'content-type'
  | 'too-large'
  | 'encoding'
  | 'depth'
  | 'json'
  | 'shape'

/** Options of {@link createRpcHandler}. */
export interface RpcHandlerOptions {
  /** The repository the calls go to (a whole `Repository` fits). */
  repository: ServedRepository
  /**
   * The per-run secret every HTTP request must carry as `Authorization: Bearer <token>`; hand it to the page (for
   * example in the HTML the server renders). At least 16 characters. @default 32 random bytes, base64url
   */
  token?: string
  /**
   * Origins, besides the server's own (`http://<Host>`), whose pages may call: a dev server such as
   * `http://localhost:5173`. Compared exactly. @default []
   */
  allowedOrigins?: readonly string[]
  /** Largest request body, in bytes; larger ones get 413 before more is read. @default 32 MiB */
  maxBodyBytes?: number
  /** Deepest nesting of arrays and objects in a request. @default 64 */
  maxDepth?: number
  /** Receives {@link RpcEvent}s. */
  onEvent?: (event: RpcEvent) => void
}

/** Options of {@link RpcHandler.dispatch}. */
export interface DispatchOptions {
  /** Aborts a save while it can still be abandoned (the caller went away). */
  signal?: AbortSignal
}

/** What {@link createRpcHandler} returns. */
export interface RpcHandler {
  /** The token HTTP callers must present (the given one, or the generated one). */
  readonly token: string
  /**
   * Runs one call without any transport: `ipcMain.handle(RPC_CHANNEL, (_e, op, args) => handler.dispatch(op, args))`.
   * Checks op, key, argument shape and data as over HTTP; the transport checks (token, Host, Origin, size) are
   * the caller's, Electron's IPC being private to the app. Never rejects: failures resolve `{ ok: false, error }`.
   */
  dispatch(op: string, args: unknown, options?: DispatchOptions): Promise<RpcResult>
  /**
   * The Node `http` request listener for POST {@link RPC_PATH} with a JSON body `{ op, args }`. It accepts only
   * `Host: 127.0.0.1:<port>` or `localhost:<port>` of the port it was reached on: behind a dev server's proxy, let
   * the proxy rewrite Host (Vite: `changeOrigin: true`) and list the dev server's origin in `allowedOrigins`.
   */
  readonly listener: (req: IncomingMessage, res: ServerResponse) => void
}

/**
 * The HTTP status of a failed call: 4xx for what the caller can change, 409 for a state of the workspace, 5xx for
 * the disk. The body always holds the typed error; the status is for logs, proxies and devtools.
 */
const STATUS: Readonly<Partial<Record<SaveflowErrorCode, number>>> = {
  'invalid-id': 400,
  'invalid-data': 400,
  'not-found': 404,
  'too-large': 413,
  locked: 409,
  'read-only': 409,
  'permission-denied': 409,
  'future-version': 409,
  corrupt: 409,
  busy: 503,
  timeout: 504,
  'disk-full': 507,
}

/** The HTTP status of a failed call's error code (500 for `io` and anything unlisted). */
export function rpcHttpStatus(code: SaveflowErrorCode): number {
  return STATUS[code] ?? 500
}

const MIN_TOKEN_LENGTH = 16

/** Creates the transport-free dispatcher and the HTTP listener over one repository. */
export function createRpcHandler(options: RpcHandlerOptions): RpcHandler {
  const { repository } = options
  const token = options.token ?? randomBytes(32).toString('base64url')
  if (token.length < MIN_TOKEN_LENGTH) {
    throw new TypeError(`The rpc token must have at least ${MIN_TOKEN_LENGTH} characters.`)
  }
  // Compared as digests: equal lengths for timingSafeEqual, and no early exit that times out the token's length.
  const tokenDigest = sha256(token)
  const allowedOrigins = new Set(options.allowedOrigins ?? [])
  const maxBodyBytes = options.maxBodyBytes ?? RPC_MAX_BODY_BYTES
  const maxDepth = options.maxDepth ?? RPC_MAX_DEPTH
  const emit = (event: RpcEvent): void => {
    try {
      options.onEvent?.(event)
    } catch {
      // A logger's failure must not turn a saved document into a failed response.
    }
  }

  async function run(op: string, args: unknown, signal: AbortSignal | undefined, fromJson: boolean) {
    if (!isRemoteOp(op)) {
      throw new SaveflowError('invalid-data', {
        message: 'Unknown operation.',
        details: { op: opName(op) },
      })
    }
    if (!Array.isArray(args)) {
      throw new SaveflowError('invalid-data', { message: 'The arguments must be an array.', details: { op } })
    }
    const spec = opSpec(op)
    // The key first: a bad key is `invalid-id` whatever else is wrong, and nothing is built from it.
    if (spec.keyed) repository.definitionFor(args[0] as string)
    // JSON text cannot hold anything but JSON values; a structured clone (Electron) can.
    const problem = fromJson ? null : wireValueProblem(args, maxDepth - 1)
    if (problem !== null) {
      throw new SaveflowError('invalid-data', {
        message: `The arguments of "${op}" hold ${problem}; only JSON values travel.`,
        details: { op },
      })
    }
    const parsed = spec.args.safeParse(args)
    if (!parsed.success) {
      const issues = parsed.error.issues.slice(0, 10).map((issue) => ({
        path: issue.path.map(String).join('.'),
        message: issue.message,
      }))
      throw new SaveflowError('invalid-data', {
        message: `The arguments of "${op}" are not valid: ${issues[0]?.message ?? 'wrong shape'}`,
        details: { op, issues },
      })
    }
    const callArgs = spec.prepare?.(repository, parsed.data) ?? [...parsed.data]
    if (spec.abortable) callArgs.push(signal)
    const method = repository[op] as (...a: unknown[]) => Promise<unknown>
    return encodeResult(op, await method.apply(repository, callArgs))
  }

  async function dispatchWith(
    op: string,
    args: unknown,
    signal: AbortSignal | undefined,
    fromJson: boolean,
  ): Promise<RpcResult> {
    try {
      const value = await run(op, args, signal, fromJson)
      emit({ type: 'rpc.call', op: opName(op), ok: true })
      return { ok: true, value }
    } catch (error) {
      const data = errorToWire(error)
      emit({ type: 'rpc.call', op: opName(op), ok: false, code: data.code })
      return { ok: false, error: data }
    }
  }

  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    handleHttp(req, res).catch((error: unknown) => {
      // Only a bug gets here (dispatch never rejects); answer rather than leave the request hanging.
      if (!res.headersSent) sendJson(res, 500, { ok: false, error: errorToWire(error) })
      else res.destroy()
    })
  }

  async function handleHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const reject = (
      status: number,
      reason: RpcRejectReason,
      error: SaveflowError,
      headers: Record<string, string> = {},
    ) => {
      emit({ type: 'rpc.rejected', status, reason })
      sendJson(res, status, { ok: false, error: errorToWire(error) }, headers)
    }
    const denied = (message: string, reason: RpcRejectReason) =>
      new SaveflowError('permission-denied', { message, details: { reason } })

    // DNS rebinding: a page of evil.example whose name now resolves to 127.0.0.1 reaches this socket, but its
    // requests still say `Host: evil.example:<port>`.
    const port = req.socket.localPort
    const host = (req.headers.host ?? '').toLowerCase()
    if (host !== `127.0.0.1:${port}` && host !== `localhost:${port}`) {
      return reject(403, 'host', denied('The request was not addressed to this local server.', 'host'))
    }
    const origin = req.headers.origin
    const crossOrigin = origin !== undefined && origin !== `http://${host}`
    if (crossOrigin && !allowedOrigins.has(origin)) {
      return reject(403, 'origin', denied('Pages of this origin may not call the server.', 'origin'))
    }
    const cors: Record<string, string> = crossOrigin
      ? { 'access-control-allow-origin': origin, vary: 'Origin' }
      : {}

    if ((req.url ?? '').split('?')[0] !== RPC_PATH) {
      return reject(404, 'path', new SaveflowError('not-found', { message: 'No such endpoint.' }), cors)
    }
    // A preflight carries no Authorization header by design; it only learns that POST with a token is allowed.
    if (req.method === 'OPTIONS' && crossOrigin) {
      res.writeHead(204, {
        ...cors,
        'access-control-allow-methods': 'POST',
        'access-control-allow-headers': 'authorization, content-type',
        'access-control-max-age': '600',
      })
      res.end()
      return
    }
    if (req.method !== 'POST') {
      const error = new SaveflowError('invalid-data', { message: 'Only POST is accepted.' })
      return reject(405, 'method', error, { ...cors, allow: 'POST, OPTIONS' })
    }
    if (!hasToken(req.headers.authorization)) {
      const error = denied('The request did not carry the token of this run.', 'token')
      return reject(401, 'token', error, { ...cors, 'www-authenticate': 'Bearer' })
    }
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()
    if (contentType !== 'application/json') {
      const error = new SaveflowError('invalid-data', { message: 'The body must be application/json.' })
      return reject(415, 'content-type', error, cors)
    }
    const tooLarge = () =>
      reject(
        413,
        'too-large',
        new SaveflowError('too-large', {
          message: `The request is larger than ${maxBodyBytes} bytes.`,
          details: { maxBytes: maxBodyBytes },
        }),
        // The rest of the body is never read; closing the connection is what stops it arriving.
        { ...cors, connection: 'close' },
      )
    const declared = Number(req.headers['content-length'] ?? Number.NaN)
    if (declared > maxBodyBytes) return tooLarge()

    const body = await readBody(req, maxBodyBytes)
    if (body === 'too-large') return tooLarge()
    if (body === 'closed') return

    const bad = (reason: RpcRejectReason, message: string) =>
      reject(400, reason, new SaveflowError('invalid-data', { message, details: { reason } }), cors)
    let text: string
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(body)
    } catch {
      return bad('encoding', 'The body is not UTF-8.')
    }
    if (!jsonDepthWithin(text, maxDepth)) return bad('depth', `The body nests deeper than ${maxDepth}.`)
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      return bad('json', 'The body is not JSON.')
    }
    const request = rpcRequestSchema.safeParse(json)
    if (!request.success) return bad('shape', 'The body must be { "op": string, "args": [...] }.')

    // A client that goes away (an aborted fetch) aborts its save while the write can still be abandoned.
    const abort = new AbortController()
    res.on('close', () => {
      if (!res.writableFinished) abort.abort(new SaveflowError('aborted'))
    })
    const result = await dispatchWith(request.data.op, request.data.args, abort.signal, true)
    if (res.destroyed) return
    sendJson(res, result.ok ? 200 : rpcHttpStatus(result.error.code), result, cors)
  }

  function hasToken(header: string | undefined): boolean {
    // The scheme is case-insensitive (RFC 9110); the token itself is compared exactly.
    const match = /^Bearer +(\S+)$/i.exec(header ?? '')
    return match !== null && timingSafeEqual(sha256(match[1]!), tokenDigest)
  }

  return {
    token,
    dispatch: (op, args, dispatchOptions = {}) => dispatchWith(op, args, dispatchOptions.signal, false),
    listener,
  }
}

/** An op name fit for a log line; IPC callers can send anything, even an object whose `toString` throws. */
function opName(op: unknown): string {
  return typeof op === 'string' ? op.slice(0, 64) : typeof op
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest()
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = JSON.stringify(body)
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...headers,
  })
  res.end(text)
}

/**
 * The request body, or `too-large` as soon as it passes `maxBytes` (chunks past the limit are dropped, never
 * kept), or `closed` when the client went away first.
 */
function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | 'too-large' | 'closed'> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    let size = 0
    let settled = false
    const settle = (value: Buffer | 'too-large' | 'closed') => {
      if (settled) return
      settled = true
      chunks.length = 0
      resolve(value)
    }
    req.on('data', (chunk: Buffer) => {
      if (settled) return
      size += chunk.length
      if (size > maxBytes) return settle('too-large')
      chunks.push(chunk)
    })
    req.on('end', () => settle(Buffer.concat(chunks, size)))
    req.on('error', () => settle('closed'))
    req.on('close', () => settle('closed'))
  })
}

/** Options of {@link listenRpcServer}. */
export interface ListenRpcOptions {
  handler: RpcHandler
  /** The port on 127.0.0.1; 0 picks a free one. @default 0 */
  port?: number
}

/** A listening rpc server. */
export interface RpcServer {
  /** The endpoint to give `createRpcClient`: `http://127.0.0.1:<port>/saveflow/rpc`. */
  readonly url: string
  /** The port it listens on (the one picked, when 0 was asked for). */
  readonly port: number
  /** The underlying server, for timeouts and tests. */
  readonly server: Server
  /**
   * Stops accepting connections, lets requests in progress finish (a save in flight completes and is answered),
   * drops idle keep-alive connections, and resolves once the server is closed.
   */
  close(): Promise<void>
}

/**
 * Serves `handler` on 127.0.0.1 only: the loopback address, explicitly, so no other machine can connect, whatever
 * the host's default address is (DESIGN.md "Security").
 */
export function listenRpcServer(options: ListenRpcOptions): Promise<RpcServer> {
  const server = createServer(options.handler.listener)
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject)
      const { port } = server.address() as AddressInfo
      resolve({
        url: `http://127.0.0.1:${port}${RPC_PATH}`,
        port,
        server,
        close: () =>
          new Promise<void>((done, fail) => {
            server.close((error) => (error === undefined ? done() : fail(error)))
            server.closeIdleConnections()
          }),
      })
    })
  })
}
