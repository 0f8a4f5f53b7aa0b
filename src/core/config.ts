import { z } from 'zod'
import { SaveflowError } from './errors'

/**
 * The seed's `ValidationConfig`. The schema itself belongs to each document definition (a zod schema, written out as
 * JSON Schema for other tools), so here it is only switched on or off and made strict or lenient.
 */
export const validationConfigSchema = z.object({
  /** Validate before every save and on every load. @default true */
  enabled: z.boolean().default(true),
  /** Reject unknown keys (true) or strip them (false). @default false */
  strict: z.boolean().default(false),
})

/** The seed's `RetryConfig`, plus a cap on the backoff delay. */
export const retryConfigSchema = z.object({
  /** Attempts before a save is `failed` (the first write counts). A full disk is retried without limit. @default 5 */
  maxAttempts: z.number().int().min(1).max(100).default(5),
  /** Base delay between attempts, in ms. @default 500 */
  delay: z.number().int().min(0).max(600_000).default(500),
  /** Double the delay after each failed attempt (`min(delay * 2^attempt, maxDelay)`, with jitter). @default true */
  backoff: z.boolean().default(true),
  /** Upper bound of a backoff delay, in ms; also the interval at which a full disk is retried. @default 30000 */
  maxDelay: z.number().int().min(0).max(3_600_000).default(30_000),
})

/** The seed's `PersistenceConfig`, plus `maxWait`, `maxConcurrentWrites` and `backupInterval`. */
export const persistenceConfigSchema = z.object({
  /** Save changes by themselves; when false only `flush` saves. @default true */
  autoSave: z.boolean().default(true),
  /** Quiet time after the last edit before a save starts, in ms. @default 300 */
  saveDebounce: z.number().int().min(0).max(600_000).default(300),
  /** Longest time an unsaved change may wait under a stream of edits, in ms. @default 2000 */
  maxWait: z.number().int().min(0).max(3_600_000).default(2000),
  /** Keep backups of snapshot documents. @default true */
  backupEnabled: z.boolean().default(true),
  /** Newest backups kept per document. @default 10 */
  backupCount: z.number().int().min(0).max(1000).default(10),
  /** At most one backup per document in this interval, in ms. @default 600000 (10 min) */
  backupInterval: z.number().int().min(0).default(600_000),
  /** Writes in flight across all documents. @default 2 */
  maxConcurrentWrites: z.number().int().min(1).max(64).default(2),
  validation: validationConfigSchema.default({ enabled: true, strict: false }),
  retry: retryConfigSchema.default({ maxAttempts: 5, delay: 500, backoff: true, maxDelay: 30_000 }),
})

/** A complete persistence configuration, every field set. */
export type PersistenceConfig = z.infer<typeof persistenceConfigSchema>
/** What a caller may pass: any field may be left out and takes its default. */
export type PersistenceConfigInput = z.input<typeof persistenceConfigSchema>
/** @see retryConfigSchema */
export type RetryConfig = z.infer<typeof retryConfigSchema>
/** @see validationConfigSchema */
export type ValidationConfig = z.infer<typeof validationConfigSchema>

/** The defaults, as a value. */
export const DEFAULT_PERSISTENCE_CONFIG: PersistenceConfig = persistenceConfigSchema.parse({})

/**
 * Completes a partial configuration with the defaults and checks it. Throws a `SaveflowError` with code
 * `invalid-data` naming the first bad field.
 */
export function resolvePersistenceConfig(input: PersistenceConfigInput = {}): PersistenceConfig {
  const result = persistenceConfigSchema.safeParse(input)
  if (result.success) return result.data
  const issue = result.error.issues[0]
  const field = issue?.path.join('.') || 'config'
  throw new SaveflowError('invalid-data', {
    message: `Invalid persistence setting "${field}": ${issue?.message ?? 'invalid value'}.`,
    cause: result.error,
    details: { field },
  })
}
