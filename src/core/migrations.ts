import { SaveflowError } from './errors'
import type { DocumentKind } from './status'

/**
 * Schema migrations: a chain of numbered steps, each taking the data of version `from` to version `from + 1`. A
 * step works on plain JSON (`unknown`), because the data it receives was valid for an older schema only; the result
 * of the whole chain is validated with the current schema afterwards.
 */

/** One step of a migration chain. */
export interface Migration {
  /** The schema version this step reads. */
  from: number
  /** The schema version it produces: always `from + 1`. */
  to: number
  /** What changed, for logs and the recovery report. */
  description: string
  /** Returns the data in the next version. Must not mutate its input; throwing fails the load with `invalid-data`. */
  migrate(data: unknown): unknown
}

/**
 * Checks that `migrations` lead from version 1 to `schemaVersion` one step at a time, with no gap and no
 * duplicate. Definitions call it once, so a broken chain fails at start-up rather than on a user's old file.
 */
export function assertMigrationChain(
  kind: DocumentKind,
  migrations: readonly Migration[],
  schemaVersion: number,
): void {
  if (!Number.isInteger(schemaVersion) || schemaVersion < 1) {
    throw new SaveflowError('invalid-data', {
      message: `The ${kind} schema version must be an integer >= 1.`,
    })
  }
  if (migrations.length !== schemaVersion - 1) {
    throw new SaveflowError('invalid-data', {
      message: `The ${kind} document needs ${schemaVersion - 1} migration steps to reach version ${schemaVersion}, not ${migrations.length}.`,
    })
  }
  migrations.forEach((step, index) => {
    if (step.from !== index + 1 || step.to !== index + 2) {
      throw new SaveflowError('invalid-data', {
        message: `Migration step ${index} of ${kind} goes ${step.from} -> ${step.to}; expected ${index + 1} -> ${index + 2}.`,
      })
    }
  })
}

/**
 * Runs the steps from `fromVersion` up to `toVersion`. A step that throws fails with `invalid-data` naming the step;
 * the file on disk is never touched here.
 */
export function runMigrations(
  kind: DocumentKind,
  migrations: readonly Migration[],
  data: unknown,
  fromVersion: number,
  toVersion: number,
): unknown {
  let current = data
  for (let version = fromVersion; version < toVersion; version++) {
    const step = migrations[version - 1]
    if (step === undefined || step.from !== version) {
      throw new SaveflowError('invalid-data', {
        message: `No migration of ${kind} from version ${version}.`,
        details: { kind, from: version },
      })
    }
    try {
      current = step.migrate(current)
    } catch (error) {
      throw new SaveflowError('invalid-data', {
        message: `Migrating ${kind} from version ${step.from} to ${step.to} failed.`,
        cause: error,
        details: { kind, from: step.from, to: step.to },
      })
    }
  }
  return current
}

/** The settings chain: version 2 added the editor preferences. */
export const SETTINGS_MIGRATIONS: readonly Migration[] = [
  {
    from: 1,
    to: 2,
    description: 'Adds editor preferences (font size, word wrap) with their defaults.',
    migrate: (data) => {
      // Anything but an object is left for the schema check to reject with a precise message.
      if (typeof data !== 'object' || data === null || Array.isArray(data)) return data
      return { ...data, editor: { fontSize: 14, wordWrap: true } }
    },
  },
]
