import type { z } from 'zod'
import { invalidData } from '../core/document-reader'
import { SaveflowError } from '../core/errors'

/**
 * What the reference stores take from the outside world: time and fresh ids. Injected so that tests and stories get
 * the same data on every run (a store never reads `Date.now` or a random source of its own when these are given).
 */
export interface StoreEnvironment {
  /** Current time in ms since the epoch; stamped on `createdAt` / `updatedAt` as ISO text. @default Date.now */
  now?: () => number
  /** A new id matching the document id rule (`[A-Za-z0-9_-]{1,128}`). @default a random UUID */
  createId?: () => string
}

/** The environment with its defaults filled in. */
export interface ResolvedEnvironment {
  nowIso: () => string
  createId: () => string
}

/** Fills in the defaults of a {@link StoreEnvironment}. */
export function resolveEnvironment(env: StoreEnvironment = {}): ResolvedEnvironment {
  const now = env.now ?? Date.now
  return { nowIso: () => new Date(now()).toISOString(), createId: env.createId ?? randomId }
}

// `crypto.randomUUID` exists in Node 20 and in every browser saveflow supports (secure contexts); a UUID matches
// the id rule as it is, so it can name a file later.
function randomId(): string {
  return globalThis.crypto.randomUUID()
}

/** Parses `value` with `schema`, or throws `invalid-data` naming the field (`path` prefixes the issue paths). */
export function parseOrThrow<S extends z.ZodType>(schema: S, value: unknown, path?: string): z.infer<S> {
  const parsed = schema.safeParse(value)
  if (!parsed.success) throw invalidData(parsed.error, path)
  return parsed.data
}

/** A `not-found` error for an id a store does not hold (a stale id from the UI, most likely). */
export function notFound(what: string, id: string): SaveflowError {
  return new SaveflowError('not-found', { message: `No ${what} "${id}".`, details: { [what]: id } })
}
