import { createDocumentValidator } from './document-validator'
import { DOCUMENTS, type DocumentDefinitions, definitionFor } from './documents'
import { SaveflowError, toSaveflowError } from './errors'
import {
  decodeResult,
  KEEPALIVE_BODY_LIMIT,
  opSpec,
  parseRpcResult,
  REMOTE_OPS,
  type RemoteOp,
  type RemoteRepository,
  type RpcResult,
  type WireCall,
} from './rpc-protocol'
import type { ValidateFn, WriteFn } from './save-coordinator'

/**
 * The page's (or renderer's) side of the rpc bridge: a {@link RemoteRepository} whose calls run in the Node process
 * that owns the disk. Browser-safe: `fetch` only.
 *
 * Errors come back as `SaveflowError`s with the server's code, message and hint, so the save coordinator classifies
 * them as it would locally. A server that cannot be reached is `io` with `details.unreachable`: retried with
 * backoff, so a page keeps its edits and saves them once the server is back.
 */

/** Options shared by both clients. */
interface ClientBaseOptions {
  /**
   * The definitions the client validates with in {@link RpcClient.validateFn}; pass the server's overrides, if it
   * has any. @default the built-in definitions
   */
  definitions?: Partial<DocumentDefinitions>
}

/** Options of {@link createRpcClient}. */
export interface RpcClientOptions extends ClientBaseOptions {
  /** The endpoint: `RpcServer.url`, such as `http://127.0.0.1:4312/saveflow/rpc`. */
  url: string
  /** The server's per-run token, sent as `Authorization: Bearer <token>`. */
  token: string
  /** The fetch to use (a test's, or one with a proxy). @default globalThis.fetch */
  fetch?: typeof fetch
  /**
   * Sends requests with `keepalive: true` so they outlive the page: set it on the client that flushes on
   * `pagehide`. A request is kept alive only while the bodies of all keepalive requests in flight stay within
   * 64 KiB, the browsers' limit; a larger one goes as a normal request (which a closing page may cut off).
   * @default false
   */
  keepalive?: boolean
}

/** Sends one call to the handler's `dispatch`, for example `window.saveflow.invoke` exposed by a preload script. */
export type RpcInvoke = (op: RemoteOp, args: unknown[]) => Promise<RpcResult>

/** Options of {@link createRpcInvokeClient}. */
export interface RpcInvokeClientOptions extends ClientBaseOptions {
  /** Reaches `RpcHandler.dispatch` (in Electron: `ipcRenderer.invoke(RPC_CHANNEL, op, args)`). */
  invoke: RpcInvoke
}

/** A remote repository, plus the coordinator's write and validate functions over it. */
export interface RpcClient extends RemoteRepository {
  /** `save` as the coordinator's `WriteFn`: `createSaveCoordinator({ write: client.writeFn })`. */
  readonly writeFn: WriteFn
  /**
   * Validates with the document's schema in the page, so invalid data fails without a round trip; the server
   * validates again all the same. The project and conversations are checked by their change, as
   * `Repository.validate` does, against what this client loaded or restored or last validated: data handed to a save
   * must not be changed in place afterwards.
   */
  readonly validateFn: ValidateFn
}

/** Carries one call and resolves its result; rejects only with a `SaveflowError`. */
type Transport = (op: RemoteOp, call: WireCall) => Promise<RpcResult>

/** A client over HTTP, for a page talking to its local Node server. */
export function createRpcClient(options: RpcClientOptions): RpcClient {
  return clientOver(httpTransport(options), options)
}

/** A client over any `invoke` function that reaches `RpcHandler.dispatch`: Electron's IPC, or a test. */
export function createRpcInvokeClient(options: RpcInvokeClientOptions): RpcClient {
  const transport: Transport = async (op, { args, signal }) => {
    if (signal?.aborted) throw aborted(signal)
    let answer: unknown
    try {
      answer = await options.invoke(op, args)
    } catch (error) {
      throw unreachable(error)
    }
    return parseRpcResult(answer) ?? badAnswer(undefined)
  }
  return clientOver(transport, options)
}

function clientOver(transport: Transport, options: ClientBaseOptions): RpcClient {
  const definitions: DocumentDefinitions = { ...DOCUMENTS, ...options.definitions }
  // Every op of the table becomes a method: an op added there needs nothing here.
  const methods = {} as Record<RemoteOp, (...args: unknown[]) => Promise<unknown>>
  for (const op of REMOTE_OPS) {
    const spec = opSpec(op)
    methods[op] = async (...args) => {
      try {
        const result = await transport(op, spec.toWire?.(args) ?? { args })
        if (result.ok) return decodeResult(op, result.value)
        throw toSaveflowError(result.error)
      } catch (error) {
        // `load` and `readBackup` never throw, as in the repository: the load machine reads the failure's code.
        if (spec.loadResult) return { ok: false, error: toSaveflowError(error), path: '' }
        throw toSaveflowError(error)
      }
    }
  }
  const remote = methods as unknown as RemoteRepository
  // The page validates a save of the project or a conversation by its change, against what it loaded or last
  // validated, so a save does not parse the whole document on the UI thread; the server checks again all the same.
  const validator = createDocumentValidator((key) => definitionFor(key, definitions))
  const trusted = <R extends { ok: boolean; data?: unknown }>(key: string, result: R): R => {
    if (result.ok) validator.trust(key, result.data)
    return result
  }
  return {
    ...remote,
    load: async (key) => trusted(key, await remote.load(key)),
    restoreBackup: async (key, which) => trusted(key, await remote.restoreBackup(key, which)),
    writeFn: ({ key, data, revision, signal }) => remote.save(key, data, revision, signal),
    validateFn: ({ key, data }) => validator.validate(key, data),
  }
}

function httpTransport(options: RpcClientOptions): Transport {
  const { url, token } = options
  // Looked up per call, and called as a plain function: a browser's fetch throws "Illegal invocation" when called
  // as a method of another object.
  const fetchFn: typeof fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init))
  const encoder = new TextEncoder()
  let keepaliveInFlight = 0

  return async (op, { args, signal }) => {
    let body: string
    try {
      body = JSON.stringify({ op, args })
    } catch (error) {
      // A cycle or a BigInt: waiting will not make it JSON.
      throw new SaveflowError('invalid-data', { message: 'The data cannot be sent as JSON.', cause: error })
    }
    if (signal?.aborted) throw aborted(signal)

    // A UTF-8 body is at least as many bytes as the string has code units, so a long string is never encoded twice.
    let payload: string | Uint8Array<ArrayBuffer> = body
    let keptAlive = 0
    if (options.keepalive && body.length <= KEEPALIVE_BODY_LIMIT) {
      const bytes = encoder.encode(body)
      if (keepaliveInFlight + bytes.length <= KEEPALIVE_BODY_LIMIT) {
        payload = bytes
        keptAlive = bytes.length
      }
    }
    keepaliveInFlight += keptAlive
    let status: number
    let text: string
    try {
      const response = await fetchFn(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: payload,
        keepalive: keptAlive > 0,
        // The server never redirects; a redirect would be someone else's answer, and must not get the token.
        redirect: 'error',
        ...(signal === undefined ? {} : { signal }),
      })
      status = response.status
      text = await response.text()
    } catch (error) {
      if (signal?.aborted) throw aborted(signal)
      throw unreachable(error)
    } finally {
      keepaliveInFlight -= keptAlive
    }
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      return badAnswer(status)
    }
    return parseRpcResult(json) ?? badAnswer(status)
  }
}

function aborted(signal: AbortSignal): SaveflowError {
  return new SaveflowError('aborted', { cause: signal.reason })
}

/** Server down, restarting, or the connection dropped: `io`, which the coordinator retries with backoff. */
function unreachable(error: unknown): SaveflowError {
  return new SaveflowError('io', {
    message: 'The saveflow server could not be reached.',
    cause: error,
    details: { unreachable: true },
  })
}

/** An answer that is not an rpc result (a proxy's error page, a truncated body): `io`, so it is retried. */
function badAnswer(status: number | undefined): never {
  throw new SaveflowError('io', {
    message: 'The saveflow server sent an answer that is not a result.',
    details: status === undefined ? { badAnswer: true } : { badAnswer: true, status },
  })
}
