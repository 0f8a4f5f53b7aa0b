import { z } from 'zod'
import { resolveBackup } from './backups'
import type { LoadResult } from './document-reader'
import { SaveflowError, type SaveflowErrorData, toSaveflowError } from './errors'
import type { Repository } from './repository-types'

/**
 * The wire format of the rpc bridge, shared by the client (a page or an Electron renderer) and the server (the local
 * Node process or Electron's main process). Browser-safe.
 *
 * Every operation is one entry of {@link RPC_OPS}: its argument tuple as the server checks it, and how a client
 * method's arguments become that tuple. The op names, {@link RemoteRepository}, the client's methods and the
 * server's dispatch all derive from that table, so a new operation (a journal's `append(key, records)`) is one
 * entry there, once `Repository` has the method.
 */

/** The HTTP endpoint of the bridge on the local server. */
export const RPC_PATH = '/saveflow/rpc'

/** The Electron IPC channel: `ipcMain.handle(RPC_CHANNEL, (_e, op, args) => handler.dispatch(op, args))`. */
export const RPC_CHANNEL = 'saveflow'

/** Largest request body the server reads, in bytes: the largest document (256 MiB project) is not sent whole. */
export const RPC_MAX_BODY_BYTES = 32 * 1024 * 1024

/**
 * Deepest nesting of arrays and objects in a request. The documents are shallow (a flat keyed tree); a deeply
 * nested body only serves to exhaust the stack of a recursive validator such as `z.json()`.
 */
export const RPC_MAX_DEPTH = 64

/**
 * Browsers refuse a `keepalive` fetch once the bodies of all keepalive requests in flight exceed 64 KiB (Fetch
 * standard, "keepalive"); larger bodies go as normal requests.
 */
export const KEEPALIVE_BODY_LIMIT = 64 * 1024

/** What every call returns: the operation's value, or the error as plain data (revive it with `toSaveflowError`). */
export type RpcResult<T = unknown> = { ok: true; value: T } | { ok: false; error: SaveflowErrorData }

/** A request body as it travels over HTTP. */
export interface RpcRequest {
  op: string
  args: unknown[]
}

/** The request envelope; anything else (extra fields, a non-array `args`) is refused before an op is looked at. */
export const rpcRequestSchema = z.strictObject({
  op: z.string().min(1).max(64),
  args: z.array(z.unknown()).max(16),
})

/** A call as a client sends it: the wire arguments and, separately, the signal that aborts the request. */
export interface WireCall {
  args: unknown[]
  signal?: AbortSignal
}

/** One operation of the bridge. */
export interface RpcOpSpec {
  /** `args[0]` is a document key, checked with the repository's key rules before anything else. */
  readonly keyed: boolean
  /** The wire arguments as the server accepts them; a mismatch is a 400 `invalid-data`. */
  readonly args: z.ZodType<readonly unknown[]>
  /**
   * Server side, after `args` passed: further checks with the repository's own rules, returning the arguments to
   * call with. Throws a `SaveflowError` (400 for `invalid-id` and `invalid-data`).
   */
  readonly prepare?: (rules: RepositoryRules, args: readonly unknown[]) => unknown[]
  /** Server side: pass the request's AbortSignal as the last argument. */
  readonly abortable?: boolean
  /** The result is a `LoadResult`: its error travels as data and the client never throws, like the repository. */
  readonly loadResult?: boolean
  /** Client side: a method's arguments to the wire. @default every argument, no signal */
  readonly toWire?: (args: readonly unknown[]) => WireCall
}

/** The repository's own rules the server checks arguments with: keys (`invalid-id`) and schemas (`invalid-data`). */
export type RepositoryRules = Pick<Repository, 'definitionFor' | 'validate'>

/** A document key on the wire; the repository's rules decide beyond this (`invalid-id`). */
const keyArg = z.string().max(256)
/** Revisions are the coordinator's counter: a non-negative safe integer. */
const revisionArg = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)
/** A backup travels by name only, never by path; {@link resolveBackup} checks it is one of the key's backups. */
const backupNameArg = z.string().min(1).max(128)
/**
 * A quarantine reason ends up (slugified) in a file name; a separator or a control character has no business in
 * one, so a reason that looks like a path is refused rather than quietly cleaned.
 */
const reasonArg = z
  .string()
  .min(1)
  .max(200)
  .regex(/^[^/\\\p{Cc}]*$/u, 'A reason may not contain "/", "\\" or control characters.')

/** `readBackup` and `restoreBackup` take a name or a `BackupInfo`; only the name travels. */
const backupToWire = ([key, backup]: readonly unknown[]): WireCall => ({
  args: [key, backupName(key, backup)],
})

/** Checks a backup name with the repository's rule, so no caller-supplied name can point outside its folder. */
const checkBackup = (_rules: RepositoryRules, args: readonly unknown[]): unknown[] => {
  resolveBackup(args[0] as string, args[1] as string)
  return [...args]
}

/** The operations of the bridge: the document operations a page or a renderer needs, and nothing that takes a path. */
export const RPC_OPS = {
  load: { keyed: true, loadResult: true, args: z.tuple([keyArg]) },
  save: {
    keyed: true,
    abortable: true,
    // `data` is checked by the document's schema in `prepare`: the server trusts nothing it is sent, even with the
    // repository's own validation turned off.
    args: z.tuple([keyArg, z.unknown(), revisionArg]),
    prepare: (rules, [key, data, revision]) => [key, rules.validate(key as string, data), revision],
    toWire: ([key, data, revision, signal]) => ({
      args: [key, data, revision],
      ...(signal instanceof AbortSignal ? { signal } : {}),
    }),
  },
  listBackups: { keyed: true, args: z.tuple([keyArg]) },
  readBackup: {
    keyed: true,
    loadResult: true,
    args: z.tuple([keyArg, backupNameArg]),
    prepare: checkBackup,
    toWire: backupToWire,
  },
  restoreBackup: {
    keyed: true,
    args: z.tuple([keyArg, backupNameArg]),
    prepare: checkBackup,
    toWire: backupToWire,
  },
  quarantine: { keyed: true, args: z.tuple([keyArg, reasonArg]) },
  backupNow: { keyed: true, args: z.tuple([keyArg]) },
  listQuarantine: { keyed: false, args: z.tuple([]) },
} as const satisfies { readonly [K in keyof Repository]?: RpcOpSpec }

/** The name of an operation of the bridge. */
export type RemoteOp = keyof typeof RPC_OPS

/** Every {@link RemoteOp}, in the table's order. */
export const REMOTE_OPS = Object.keys(RPC_OPS) as RemoteOp[]

/**
 * The repository as a page or a renderer sees it across the process boundary: the document operations of
 * {@link Repository}, with the same signatures, so both sides stay in sync.
 */
export type RemoteRepository = Pick<Repository, RemoteOp>

/** What the server needs of a repository: the remote operations plus the key and schema rules it checks with. */
export type ServedRepository = RemoteRepository & RepositoryRules

/** True when `op` names an operation of the bridge (own keys only: `toString` or `__proto__` are not ops). */
export function isRemoteOp(op: unknown): op is RemoteOp {
  return typeof op === 'string' && Object.hasOwn(RPC_OPS, op)
}

/** The spec of an op, widened to {@link RpcOpSpec} so callers can read optional fields without narrowing. */
export function opSpec(op: RemoteOp): RpcOpSpec {
  return RPC_OPS[op]
}

/** The name of a backup given as a name or a `BackupInfo`; `invalid-id` for another key's backup or a non-backup. */
function backupName(key: unknown, backup: unknown): unknown {
  if (typeof backup !== 'object' || backup === null) return backup
  const info = backup as { key?: unknown; name?: unknown }
  if (info.key !== key || typeof info.name !== 'string') {
    throw new SaveflowError('invalid-id', {
      message: 'That is not a backup of this document.',
      details: { key: String(key).slice(0, 80) },
    })
  }
  return info.name
}

/**
 * Server side: a result made plain for the wire. A `LoadResult`'s error becomes {@link SaveflowErrorData}: JSON and
 * the structured clone of Electron's IPC would both lose its code otherwise.
 */
export function encodeResult(op: RemoteOp, value: unknown): unknown {
  if (!opSpec(op).loadResult || !isFailure(value)) return value
  return { ...value, error: errorToWire(value.error) }
}

/** Client side: the inverse of {@link encodeResult}. */
export function decodeResult(op: RemoteOp, value: unknown): unknown {
  if (!opSpec(op).loadResult || !isFailure(value)) return value
  return { ...value, error: toSaveflowError(value.error) } satisfies LoadResult
}

function isFailure(value: unknown): value is { ok: false; error: unknown; path: string } {
  return typeof value === 'object' && value !== null && (value as { ok?: unknown }).ok === false
}

/**
 * Any error as plain data that survives JSON and structured clone. `details` go through JSON so that nothing but
 * JSON values (no `cause`, no class instances) crosses the boundary.
 */
export function errorToWire(error: unknown): SaveflowErrorData {
  const data = toSaveflowError(error).toJSON()
  if (data.details === undefined) return data
  try {
    return { ...data, details: JSON.parse(JSON.stringify(data.details)) as Record<string, unknown> }
  } catch {
    const { details: _dropped, ...rest } = data
    return rest
  }
}

/** Reads a response body as an {@link RpcResult}; `null` when it is not one (a proxy's page, a truncated body). */
export function parseRpcResult(value: unknown): RpcResult | null {
  if (typeof value !== 'object' || value === null) return null
  const result = value as { ok?: unknown; value?: unknown; error?: unknown }
  if (result.ok === true) return { ok: true, value: result.value }
  if (result.ok !== false || typeof result.error !== 'object' || result.error === null) return null
  const error = result.error as Partial<SaveflowErrorData>
  if (typeof error.code !== 'string' || typeof error.message !== 'string') return null
  return { ok: false, error: error as SaveflowErrorData }
}

/**
 * True when no array or object in the JSON `text` nests deeper than `maxDepth`. A linear scan before
 * `JSON.parse`, so a hostile body is refused before it costs a parse.
 */
export function jsonDepthWithin(text: string, maxDepth: number): boolean {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === 0x5c)
        i++ // a backslash escapes the next character, a quote included
      else if (c === 0x22) inString = false
    } else if (c === 0x22) inString = true
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > maxDepth) return false
    } else if (c === 0x7d || c === 0x5d) depth--
  }
  return true
}

/**
 * Why `value` is not a JSON value no deeper than `maxDepth`, or `null` when it is. For calls that did not come as
 * JSON text (Electron's structured clone carries `Date`, `Map`, `NaN`...): what is saved must survive JSON, the
 * format on disk. `undefined` passes, as JSON would drop it.
 */
export function wireValueProblem(value: unknown, maxDepth: number): string | null {
  const stack: [unknown, number][] = [[value, 0]]
  while (stack.length > 0) {
    const [item, depth] = stack.pop()!
    if (item === null || item === undefined) continue
    switch (typeof item) {
      case 'string':
      case 'boolean':
        continue
      case 'number':
        if (!Number.isFinite(item)) return 'a number that is not finite'
        continue
      case 'object':
        break
      default:
        return `a ${typeof item}`
    }
    if (depth >= maxDepth) return `nesting deeper than ${maxDepth}`
    if (Array.isArray(item)) {
      for (const element of item) stack.push([element, depth + 1])
      continue
    }
    const proto = Object.getPrototypeOf(item)
    if (proto !== Object.prototype && proto !== null) {
      return `an instance of ${(item as object).constructor?.name ?? 'a class'}`
    }
    for (const element of Object.values(item)) stack.push([element, depth + 1])
  }
  return null
}
