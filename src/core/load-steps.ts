import type {
  BackupInfo as LoadBackupInfo,
  LoadedDocument,
  LoadOutcome,
  LoadSteps,
} from '../../machines/loadMachine'
import type { BackupInfo } from './backups'
import type { LoadResult } from './document-reader'
import { definitionFor } from './documents'
import { SaveflowError, type SaveflowErrorData, toSaveflowError } from './errors'
import type { Repository } from './repository-types'

/**
 * The adapter between the repository and the load machine: the machine decides the order of the steps, the
 * repository performs them. Browser-safe: in a page the repository is the rpc client, which implements the same
 * subset of methods with the same signatures.
 */

/**
 * What the load steps need of a repository: the real one on Node, the rpc client in a page. `definitionFor` is
 * optional (the rpc client has none); without it the built-in definitions give the schema version.
 */
export type LoadStepsRepository = Pick<
  Repository,
  'load' | 'listBackups' | 'readBackup' | 'restoreBackup' | 'quarantine'
> &
  Partial<Pick<Repository, 'definitionFor'>>

/** Options of {@link loadStepsFromRepository}. */
export interface LoadStepsOptions {
  /**
   * False while this process may not change the workspace (another process holds its lock). Recovery then stops
   * before it moves or writes anything: the quarantine step fails with this error and the load ends `failed`, so
   * the writer, not a reader, repairs the file. Read on every quarantine and restore. @default always writable
   */
  writable?: () => SaveflowErrorData | null
}

/** The schema version the repository reads and writes for `key`: its own definitions first, else the built-in ones. */
export function schemaVersionOf(repository: Pick<LoadStepsRepository, 'definitionFor'>, key: string): number {
  return (repository.definitionFor?.(key) ?? definitionFor(key)).schemaVersion
}

/**
 * Adapts a repository to the load machine's {@link LoadSteps}:
 * `loadMachine.provide({ actors: loadActorsFrom(loadStepsFromRepository(repo)) })`.
 *
 * - The repository migrates an older file by itself (after backing it up), so a loaded document is reported at the
 *   current schema version with `migratedFrom` passed through, and the machine's `migrate` step is never reached.
 * - A `future-version` failure that carries the verified envelope is reported as a document of that newer version:
 *   the machine then opens its data read-only instead of treating the file as lost.
 * - Envelope times (ISO text) become clock ms; a backup's `name`/`takenAt` become the machine's `id`/`savedAt`.
 * - Every rejection is a `SaveflowError` (via `toSaveflowError`), so the machine's reports carry the user text.
 */
export function loadStepsFromRepository(
  repository: LoadStepsRepository,
  options: LoadStepsOptions = {},
): LoadSteps {
  const assertWritable = () => {
    const reason = options.writable?.() ?? null
    if (reason !== null) throw toSaveflowError(reason)
  }
  const outcomeOf = (key: string, result: LoadResult): LoadOutcome => {
    if (result.ok) {
      const document: LoadedDocument = {
        data: result.data,
        revision: result.revision,
        schemaVersion: schemaVersionOf(repository, key),
        savedAt: msOf(result.savedAt),
        ...(result.migratedFrom === undefined ? {} : { migratedFrom: result.migratedFrom }),
      }
      return { ok: true, document }
    }
    const error = toSaveflowError(result.error)
    // Scenario: a newer app wrote the file and its envelope verified. Its data is shown, read-only, never lost.
    if (error.code === 'future-version' && result.snapshot !== undefined) {
      const { snapshot } = result
      return {
        ok: true,
        document: {
          data: snapshot.data,
          revision: snapshot.revision,
          schemaVersion: snapshot.schemaVersion,
          savedAt: msOf(snapshot.savedAt),
        },
      }
    }
    return { ok: false, error: error.toJSON() }
  }

  return {
    loadPrimary: ({ key }) => classified(async () => outcomeOf(key, await repository.load(key))),
    listBackups: ({ key }) => classified(async () => (await repository.listBackups(key)).map(backupInfoOf)),
    loadBackup: ({ key, backupId }) =>
      classified(async () => outcomeOf(key, await repository.readBackup(key, backupId))),
    // Never reached: loadPrimary and loadBackup report migrated data at the current version. If a step ever did
    // report an older one, `io` (not a damage code) keeps the machine from quarantining a file over it.
    migrate: async ({ fromVersion, toVersion }) => ({
      ok: false,
      error: new SaveflowError('io', {
        message: `The repository did not migrate the data from version ${fromVersion} to ${toVersion}.`,
      }).toJSON(),
    }),
    quarantine: ({ key, reason }) =>
      classified(async () => {
        assertWritable()
        const moved = await repository.quarantine(key, quarantineReason(reason))
        return { quarantinedTo: moved.to }
      }),
    restoreBackup: ({ key, backupId }) =>
      classified(async () => {
        assertWritable()
        await repository.restoreBackup(key, backupId)
      }),
  }
}

/** A repository backup as the load machine (and the recovery dialog) lists it. */
export function backupInfoOf(backup: BackupInfo): LoadBackupInfo {
  return { id: backup.name, savedAt: backup.takenAt, revision: backup.revision }
}

/** The slug recorded in the quarantined file's name: the corrupt reason when there is one (`checksum-mismatch`). */
function quarantineReason(reason: SaveflowErrorData): string {
  const detail = reason.details?.reason
  return typeof detail === 'string' && detail !== '' ? detail : reason.code
}

function msOf(iso: string): number | null {
  const ms = Date.parse(iso)
  return Number.isNaN(ms) ? null : ms
}

/** Runs a step so that anything it throws reaches the machine as a `SaveflowError` with its user text. */
async function classified<T>(step: () => Promise<T>): Promise<T> {
  try {
    return await step()
  } catch (error) {
    throw toSaveflowError(error)
  }
}
