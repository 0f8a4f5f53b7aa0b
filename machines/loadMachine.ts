/**
 * The load actor: reads one document from disk before anything may save it, and recovers it when it is damaged.
 *
 * ```
 * reading -> verifying -> (migrating) -> ready
 *    |            corrupt at any step
 *    v
 * recovering: quarantining -> listing -> choosing -> loadingBackup -> checkingBackup -> (migratingBackup) -> restoring
 *                                          |    ^         | ^ busy: retryingBackup (a short delay, bounded)
 *                                          |    ^______ a backup is rejected: try the next one ______|
 *                                          v
 *                               needsUser (useBackup | startEmpty | retry)       failed (retry)
 * ```
 *
 * Every I/O step is an actor provided from outside (see {@link LoadSteps} and {@link loadActorsFrom}); the machine
 * only orders the steps. The order is what keeps a crash during recovery harmless (DESIGN.md invariant I5):
 * 1. The damaged primary is **moved** to quarantine before anything else happens. From then on the primary path
 *    holds either the damaged file (crash before the rename: the next open quarantines it again) or nothing (crash
 *    after it). Nothing the user wrote is ever deleted (durability rule 5), and no restore ever overwrites it.
 * 2. A backup is loaded, checksum-verified and migrated **in memory** before it is restored: an unverified backup
 *    never reaches the primary path.
 * 3. The restore is an atomic replace (temp file, fsync, rename). A crash before the rename leaves the primary
 *    absent, and an absent primary with backups is recovered again on the next open (this is why "absent" is not
 *    "first run" unless there are no backups); a crash after it leaves a complete, verified primary.
 * 4. Backups are only read here, never changed or removed, so every retry has the same material to work with.
 * 5. A backup whose read fails with a transient error (`retry: 'fast'`: EBUSY, EMFILE, EAGAIN) is read again after
 *    a short delay (the actor clock, {@link BACKUP_RETRY_DELAY_MS}), up to {@link BACKUP_READ_ATTEMPTS} reads, before
 *    it is passed over: a newer backup that is fine is not given up for an older one because the disk was busy for a
 *    moment. Any other failure (damage, a missing file, permissions, EIO) passes it over at once.
 *
 * "Absent" and "corrupt" are kept apart, and so is "could not read": a file that fails with `permission-denied`,
 * `io`, `busy` or `too-large` is not damaged, so it is never quarantined; the load goes to `failed` and waits for
 * `load.retry`. Only `corrupt` and `invalid-data` mean the bytes themselves are bad.
 *
 * This file imports only xstate and types (no fs, no clock): it runs in the browser and in tests unchanged.
 */
import { assertEvent, assign, type EventObject, fromPromise, setup } from 'xstate'
import type { SaveflowErrorCode, SaveflowErrorData } from '../src/core/errors'

/** A document as a load step decoded it: its envelope checked, its checksum verified. */
export interface LoadedDocument {
  /** The data, as stored (validated with the schema of its version when that is the current one). */
  data: unknown
  /** Revision written in the envelope. */
  revision: number
  /** Schema version written in the envelope. */
  schemaVersion: number
  /** Clock time (ms) of the save that wrote it, when the envelope records it. */
  savedAt: number | null
  /**
   * The file's schema version when the step already migrated the data in memory (and reports `schemaVersion` as the
   * current one). The machine then skips its own migration and reports this in {@link LoadResult.migratedFrom}.
   */
  migratedFrom?: number
}

/**
 * What loading the primary file or one backup found.
 * - `{ ok: true }`: a decoded, checksum-verified document (of any schema version: the machine decides what a newer
 *   or older version means).
 * - `{ ok: false }`: why not. The code decides what happens next: `not-found` (absent), `corrupt` or `invalid-data`
 *   (damaged: quarantined), `future-version` (written by a newer app and not even decodable: opened read-only),
 *   anything else (could not read: never quarantined).
 *
 * A step may also reject with a `SaveflowError`; that counts the same as `{ ok: false, error }`. A newer file whose
 * envelope verified (the repository's `future-version` failure with its snapshot) is best returned as `{ ok: true }`
 * with its own `schemaVersion`: the user then sees its data, read-only.
 */
export type LoadOutcome = { ok: true; document: LoadedDocument } | { ok: false; error: SaveflowErrorData }

/** What a migration produced: the data at the current schema version, validated with the current schema, or why not. */
export type MigrateOutcome = { ok: true; data: unknown } | { ok: false; error: SaveflowErrorData }

/** One backup of a document, as listed by {@link LoadSteps.listBackups}. */
export interface BackupInfo {
  id: string
  /** Clock time (ms) of the save the backup was taken from. */
  savedAt: number
  revision: number
}

/** The input every step receives: the document's key. */
export interface KeyInput {
  key: string
}

/** Input of {@link LoadSteps.loadBackup} and {@link LoadSteps.restoreBackup}. */
export interface BackupInput {
  key: string
  backupId: string
}

/** Input of {@link LoadSteps.migrate}. */
export interface MigrateInput {
  key: string
  data: unknown
  fromVersion: number
  toVersion: number
}

/** Input of {@link LoadSteps.quarantine}. */
export interface QuarantineInput {
  key: string
  /** Why the file is moved away (recorded beside it). */
  reason: SaveflowErrorData
}

/**
 * The I/O the load machine needs, one function per step; the repository implements them. Every function may reject
 * with a `SaveflowError` (anything else is reported as `io`). Each receives an AbortSignal that fires when the load
 * actor stops.
 */
export interface LoadSteps {
  /** Reads and decodes the primary file (size checked first, checksum verified). */
  loadPrimary(input: KeyInput, signal: AbortSignal): Promise<LoadOutcome>
  /** The document's backups, newest first. An empty list when there are none. */
  listBackups(input: KeyInput, signal: AbortSignal): Promise<BackupInfo[]>
  /** Reads and decodes one backup, like {@link LoadSteps.loadPrimary}. */
  loadBackup(input: BackupInput, signal: AbortSignal): Promise<LoadOutcome>
  /**
   * Migrates data of an older schema version to `toVersion` and validates the result. `corrupt` or `invalid-data`
   * means the data cannot be migrated (treated as damaged); other codes mean the step itself failed.
   */
  migrate(input: MigrateInput, signal: AbortSignal): Promise<MigrateOutcome>
  /**
   * Moves the primary file into `.saveflow/quarantine/` with a rename (never a copy and delete), so that a crash
   * leaves the file either in place or moved, never lost. Resolves with where it went.
   */
  quarantine(input: QuarantineInput, signal: AbortSignal): Promise<{ quarantinedTo: string }>
  /** Replaces the primary file with the backup atomically (temp file, fsync, rename, folder fsync). */
  restoreBackup(input: BackupInput, signal: AbortSignal): Promise<void>
}

/** Why a document opened read-only: it was written by a newer version of the app, so it is never migrated or saved. */
export interface FutureVersionReason {
  code: 'future-version'
  /** The schema version of the file, when it could be read. */
  fileVersion: number | null
  /** The newest schema version this app supports. */
  supportedVersion: number
}

/** A backup that recovery tried, and why it was not used (`rejectedFor: null` for the one that was restored). */
export interface TriedBackup {
  backup: BackupInfo
  rejectedFor: SaveflowErrorData | FutureVersionReason | null
}

/** What recovery found and did. Present in a {@link LoadResult} whenever the primary was not simply loaded. */
export interface RecoveryReport {
  key: string
  /** What was wrong with the primary file (`not-found` when it was missing and backups existed). */
  problem: SaveflowErrorData
  /** Where the damaged primary was moved. */
  quarantinedTo?: string
  /** The backup that was verified and restored over the primary. */
  restoredFrom?: BackupInfo
  /**
   * The revision opened, when it is newer than {@link RecoveryReport.restoredFrom}'s: saves made after the backup
   * (the project journal quarantined with a damaged snapshot) were replayed on it. Absent when the backup opened
   * as it was.
   */
  replayedTo?: number
  /** Backups tried, in the order tried. */
  triedBackups: TriedBackup[]
  /** True when nothing valid was left and the user had to choose. */
  needsUser: boolean
  /** True when the user chose to start with empty data. */
  startedEmpty: boolean
}

/** The output of a finished load: the data to edit and how it was obtained. */
export interface LoadResult {
  key: string
  data: unknown
  /** Revision of the data on disk (0 for new, empty data). */
  revision: number
  /** Schema version of `data` (the current one after a migration). */
  schemaVersion: number
  savedAt: number | null
  /** Where the data came from. */
  source: 'primary' | 'backup' | 'empty'
  /** The schema version the data was migrated from; the file on disk still has it until the next save. */
  migratedFrom: number | null
  /** Set when the document must not be saved: it comes from a newer app. */
  readOnly: FutureVersionReason | null
  /** Set when the primary could not be loaded as it was. */
  recovery: RecoveryReport | null
}

/** What the load machine is created with. */
export interface LoadInput {
  key: string
  /** The schema version this app reads and writes. */
  schemaVersion: number
  /** The data of a new document: used on the first run and when the user starts empty. */
  emptyData: unknown
}

/**
 * The user's answers while the load waits in `needsUser` (and `load.retry` in `failed`).
 * - `load.useBackup`: verify and restore this backup (one of `context.backups`);
 * - `load.startEmpty`: open with empty data (nothing is written until the first save; the quarantined file stays);
 * - `load.retry`: read the primary again from the start.
 */
export type LoadEvent =
  | { type: 'load.useBackup'; backupId: string }
  | { type: 'load.startEmpty' }
  | { type: 'load.retry' }

/** The load machine's context. The recovery dialog reads `problem`, `backups`, `triedBackups` and `error`. */
export interface LoadContext {
  key: string
  targetVersion: number
  emptyData: unknown
  /** The document under verification: the primary's, or the backup's being tried. */
  document: LoadedDocument | null
  /** The schema version `document` was migrated from. */
  migratedFrom: number | null
  /** The backup being tried. */
  candidate: BackupInfo | null
  /** What was wrong with the primary; kept across `load.retry` so the report still tells what happened. */
  problem: SaveflowErrorData | null
  quarantinedTo: string | null
  /** Backups, newest first. */
  backups: BackupInfo[]
  /** Index in `backups` of the next one to try automatically. */
  nextBackup: number
  /** Reads of `candidate` that failed with a transient error and were retried (fewer than BACKUP_READ_ATTEMPTS). */
  backupRetries: number
  triedBackups: TriedBackup[]
  /** Why the load is `failed`. */
  error: SaveflowErrorData | null
  needsUser: boolean
  result: LoadResult | null
}

interface Outcome {
  ok: boolean
  output: unknown
  error: SaveflowErrorData | null
}

const DAMAGE_CODES: readonly SaveflowErrorCode[] = ['corrupt', 'invalid-data']

/** How many times recovery reads one backup whose reads fail with a transient (`retry: 'fast'`) error. */
export const BACKUP_READ_ATTEMPTS = 3

/** The delay (actor clock, ms) before the n-th read again of a busy backup: n times this. */
export const BACKUP_RETRY_DELAY_MS = 100

/**
 * Turns a rejection into error data. The contract is a `SaveflowError` (its `toJSON` is the data) or that data itself.
 * The machine cannot import the error table (it imports only types), so anything else, a bug most likely, becomes a
 * plain `io` error with the thrown message: never `corrupt`, so a misbehaving step cannot get a file quarantined.
 */
function errorDataOf(value: unknown): SaveflowErrorData {
  const data =
    isRecord(value) && typeof value.toJSON === 'function' ? (value.toJSON as () => unknown)() : value
  if (isRecord(data) && typeof data.message === 'string' && /^[a-z][a-z-]*$/.test(String(data.code))) {
    return data as unknown as SaveflowErrorData
  }
  const sysCode = isRecord(value) && typeof value.code === 'string' ? value.code : undefined
  return {
    code: 'io',
    message: value instanceof Error ? value.message : String(value),
    hint: '',
    retry: 'normal',
    ...(sysCode === undefined ? {} : { sysCode }),
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null
}

/**
 * The outcome an invoked step reported, from its done event (`{ ok: false }` outputs count as failures) or its error
 * event. Routing on one normalised outcome lets `onDone` and `onError` share a single list of transitions.
 */
function outcomeOf(event: EventObject): Outcome {
  if ('error' in event) return { ok: false, output: undefined, error: errorDataOf(event.error) }
  const output = (event as { output?: unknown }).output
  if (isRecord(output) && output.ok === false) return { ok: false, output, error: errorDataOf(output.error) }
  return { ok: true, output, error: null }
}

function failureCode(event: EventObject): SaveflowErrorCode | undefined {
  return outcomeOf(event).error?.code
}

// Only used on transitions whose guards saw a failure.
function failureOf(event: EventObject): SaveflowErrorData {
  return outcomeOf(event).error!
}

function outputOf<T>(event: EventObject): T {
  return (event as { output?: unknown }).output as T
}

function reportOf(context: LoadContext, extra: Partial<RecoveryReport> = {}): RecoveryReport | null {
  if (context.problem === null) return null
  return {
    key: context.key,
    problem: context.problem,
    ...(context.quarantinedTo === null ? {} : { quarantinedTo: context.quarantinedTo }),
    triedBackups: context.triedBackups,
    needsUser: context.needsUser,
    startedEmpty: false,
    ...extra,
  }
}

function futureReason(context: LoadContext, fileVersion: number | null): FutureVersionReason {
  return { code: 'future-version', fileVersion, supportedVersion: context.targetVersion }
}

function documentResult(
  context: LoadContext,
  document: LoadedDocument,
  source: LoadResult['source'],
): Omit<LoadResult, 'readOnly' | 'recovery'> {
  return {
    key: context.key,
    data: document.data,
    revision: document.revision,
    schemaVersion: document.schemaVersion,
    savedAt: document.savedAt,
    source,
    migratedFrom: context.migratedFrom,
  }
}

function emptyResult(context: LoadContext): Omit<LoadResult, 'readOnly' | 'recovery'> {
  return {
    key: context.key,
    data: context.emptyData,
    revision: 0,
    schemaVersion: context.targetVersion,
    savedAt: null,
    source: 'empty',
    migratedFrom: null,
  }
}

function notProvided(step: keyof LoadSteps): () => Promise<never> {
  return () => Promise.reject(new Error(`loadMachine: the "${step}" step was not provided`))
}

/**
 * Wraps the repository's step functions as the machine's actors:
 * `loadMachine.provide({ actors: loadActorsFrom(steps) })`.
 */
export function loadActorsFrom(steps: LoadSteps) {
  return {
    loadPrimary: fromPromise<LoadOutcome, KeyInput>(({ input, signal }) => steps.loadPrimary(input, signal)),
    listBackups: fromPromise<BackupInfo[], KeyInput>(({ input, signal }) => steps.listBackups(input, signal)),
    loadBackup: fromPromise<LoadOutcome, BackupInput>(({ input, signal }) => steps.loadBackup(input, signal)),
    migrate: fromPromise<MigrateOutcome, MigrateInput>(({ input, signal }) => steps.migrate(input, signal)),
    quarantine: fromPromise<{ quarantinedTo: string }, QuarantineInput>(({ input, signal }) =>
      steps.quarantine(input, signal),
    ),
    restoreBackup: fromPromise<void, BackupInput>(({ input, signal }) => steps.restoreBackup(input, signal)),
  }
}

const placeholderActors = loadActorsFrom({
  loadPrimary: notProvided('loadPrimary'),
  listBackups: notProvided('listBackups'),
  loadBackup: notProvided('loadBackup'),
  migrate: notProvided('migrate'),
  quarantine: notProvided('quarantine'),
  restoreBackup: notProvided('restoreBackup'),
})

/**
 * Loads one document: `reading -> verifying -> migrating -> ready`, recovering from backups when it is damaged.
 * Provide the steps with `loadMachine.provide({ actors: loadActorsFrom(steps) })`. Its output (and
 * `context.result`) is a {@link LoadResult} once it reaches `ready`; it waits in `needsUser` or `failed` for
 * {@link LoadEvent}s otherwise.
 */
export const loadMachine = setup({
  types: {
    input: {} as LoadInput,
    context: {} as LoadContext,
    events: {} as LoadEvent,
    output: {} as LoadResult,
  },
  actors: placeholderActors,
  guards: {
    succeeded: ({ event }) => outcomeOf(event).ok,
    isAbsent: ({ event }) => failureCode(event) === 'not-found',
    isDamaged: ({ event }) => DAMAGE_CODES.includes(failureCode(event) as SaveflowErrorCode),
    isFutureVersion: ({ event }) => failureCode(event) === 'future-version',
    // A transient failure (EBUSY, EMFILE, EAGAIN) with reads left: the backup may well be fine.
    mayReadBackupAgain: ({ context, event }) =>
      outcomeOf(event).error?.retry === 'fast' && context.backupRetries + 1 < BACKUP_READ_ATTEMPTS,
    isNewerVersion: ({ context }) => context.document!.schemaVersion > context.targetVersion,
    isOlderVersion: ({ context }) => context.document!.schemaVersion < context.targetVersion,
    hasUntriedBackup: ({ context }) => context.nextBackup < context.backups.length,
    // Nothing was ever there: no file, no backups, no earlier problem in this session.
    isFirstRun: ({ context }) => context.problem?.code === 'not-found' && context.backups.length === 0,
    isKnownBackup: ({ context, event }) => {
      assertEvent(event, 'load.useBackup')
      return context.backups.some((backup) => backup.id === event.backupId)
    },
  },
  actions: {
    storeDocument: assign(({ event }) => {
      const { document } = outputOf<{ document: LoadedDocument }>(event)
      return { document, migratedFrom: document.migratedFrom ?? null }
    }),
    storeMigrated: assign(({ context, event }) => ({
      migratedFrom: context.document!.schemaVersion,
      document: {
        ...context.document!,
        data: outputOf<{ data: unknown }>(event).data,
        schemaVersion: context.targetVersion,
      },
    })),
    // An absent primary keeps an earlier problem: after a quarantine, "missing" is a consequence, not the cause.
    noteAbsent: assign({
      problem: ({ context, event }) => context.problem ?? failureOf(event),
      // The step may know that the file went to quarantine earlier (a recovery cut short before its restore).
      quarantinedTo: ({ context, event }) => {
        const moved = failureOf(event).details?.quarantined
        return context.quarantinedTo ?? (typeof moved === 'string' ? moved : null)
      },
    }),
    noteDamage: assign({ problem: ({ event }) => failureOf(event) }),
    storeError: assign({ error: ({ event }) => failureOf(event) }),
    storeQuarantine: assign({
      quarantinedTo: ({ event }) => outputOf<{ quarantinedTo: string }>(event).quarantinedTo,
    }),
    // Sorted again here so that a step listing oldest first cannot make recovery restore an old backup.
    storeBackups: assign({
      backups: ({ event }) =>
        [...outputOf<BackupInfo[]>(event)].sort((a, b) => b.savedAt - a.savedAt || b.revision - a.revision),
      nextBackup: 0,
    }),
    takeNextBackup: assign(({ context }) => ({
      candidate: context.backups[context.nextBackup]!,
      nextBackup: context.nextBackup + 1,
      backupRetries: 0,
    })),
    pickBackup: assign(({ context, event }) => {
      assertEvent(event, 'load.useBackup')
      return { candidate: context.backups.find((backup) => backup.id === event.backupId)!, backupRetries: 0 }
    }),
    noteBackupRetry: assign({ backupRetries: ({ context }) => context.backupRetries + 1 }),
    rejectCandidate: assign({
      triedBackups: ({ context, event }) => [
        ...context.triedBackups,
        { backup: context.candidate!, rejectedFor: failureOf(event) },
      ],
    }),
    // A newer backup is never restored: it would put a file this app cannot save over the primary.
    rejectNewerCandidate: assign({
      triedBackups: ({ context }) => [
        ...context.triedBackups,
        {
          backup: context.candidate!,
          rejectedFor: futureReason(context, context.document!.schemaVersion),
        },
      ],
    }),
    awaitUser: assign({ needsUser: true, candidate: null }),
    resetForRetry: assign({
      document: null,
      migratedFrom: null,
      candidate: null,
      backups: [],
      nextBackup: 0,
      backupRetries: 0,
      triedBackups: [],
      error: null,
    }),
    acceptPrimary: assign({
      result: ({ context }) => ({
        ...documentResult(context, context.document!, 'primary'),
        readOnly: null,
        recovery: reportOf(context),
      }),
    }),
    acceptReadOnly: assign({
      result: ({ context }) => ({
        ...documentResult(context, context.document!, 'primary'),
        readOnly: futureReason(context, context.document!.schemaVersion),
        recovery: reportOf(context),
      }),
    }),
    // The file is from a newer app and could not even be decoded: open empty and read-only, so it is never replaced.
    acceptUndecodableFuture: assign({
      result: ({ context, event }) => {
        const details = failureOf(event).details
        const fileVersion = typeof details?.schemaVersion === 'number' ? details.schemaVersion : null
        return {
          ...emptyResult(context),
          readOnly: futureReason(context, fileVersion),
          recovery: reportOf(context),
        }
      },
    }),
    acceptRestored: assign(({ context }) => {
      const restored = { backup: context.candidate!, rejectedFor: null }
      const triedBackups = [...context.triedBackups, restored]
      return {
        triedBackups,
        result: {
          ...documentResult(context, context.document!, 'backup'),
          readOnly: null,
          recovery: reportOf(
            { ...context, triedBackups },
            context.document!.revision > context.candidate!.revision
              ? { restoredFrom: context.candidate!, replayedTo: context.document!.revision }
              : { restoredFrom: context.candidate! },
          ),
        },
      }
    }),
    acceptFirstRun: assign({
      result: ({ context }) => ({ ...emptyResult(context), readOnly: null, recovery: null }),
    }),
    acceptStartEmpty: assign({
      result: ({ context }) => ({
        ...emptyResult(context),
        readOnly: null,
        recovery: reportOf(context, { startedEmpty: true }),
      }),
    }),
  },
  delays: {
    // The actor clock's time, never a timer of this file: 100 ms, then 200 ms.
    backupRetryDelay: ({ context }) => BACKUP_RETRY_DELAY_MS * context.backupRetries,
  },
}).createMachine({
  id: 'load',
  initial: 'reading',
  context: ({ input }) => ({
    key: input.key,
    targetVersion: input.schemaVersion,
    emptyData: input.emptyData,
    document: null,
    migratedFrom: null,
    candidate: null,
    problem: null,
    quarantinedTo: null,
    backups: [],
    nextBackup: 0,
    backupRetries: 0,
    triedBackups: [],
    error: null,
    needsUser: false,
    result: null,
  }),
  output: ({ context }) => context.result!,
  states: {
    reading: {
      invoke: {
        id: 'loadPrimary',
        src: 'loadPrimary',
        input: ({ context }) => ({ key: context.key }),
        onDone: readingRoutes(),
        onError: readingRoutes(),
      },
    },
    verifying: {
      always: [
        // Scenario: the file comes from a newer app. Shown, never migrated, never saved over.
        { guard: 'isNewerVersion', target: 'ready', actions: 'acceptReadOnly' },
        { guard: 'isOlderVersion', target: 'migrating' },
        { target: 'ready', actions: 'acceptPrimary' },
      ],
    },
    migrating: {
      invoke: {
        id: 'migratePrimary',
        src: 'migrate',
        input: ({ context }) => ({
          key: context.key,
          data: context.document!.data,
          fromVersion: context.document!.schemaVersion,
          toVersion: context.targetVersion,
        }),
        onDone: migratingRoutes(),
        onError: migratingRoutes(),
      },
    },
    recovering: {
      initial: 'quarantining',
      states: {
        quarantining: {
          invoke: {
            id: 'quarantine',
            src: 'quarantine',
            input: ({ context }) => ({ key: context.key, reason: context.problem! }),
            onDone: { target: 'listing', actions: 'storeQuarantine' },
            // Scenario: the damaged file cannot be moved. Restoring over it would destroy it: stop here.
            onError: { target: '#load.failed', actions: 'storeError' },
          },
        },
        listing: {
          invoke: {
            id: 'listBackups',
            src: 'listBackups',
            input: ({ context }) => ({ key: context.key }),
            onDone: { target: 'choosing', actions: 'storeBackups' },
            onError: { target: '#load.failed', actions: 'storeError' },
          },
        },
        choosing: {
          always: [
            // Also where a backup the user picked comes back when it is rejected: needsUser is only entered once
            // every listed backup was tried, so nothing is left to try automatically and the user is asked again.
            { guard: 'hasUntriedBackup', target: 'loadingBackup', actions: 'takeNextBackup' },
            { guard: 'isFirstRun', target: '#load.ready', actions: 'acceptFirstRun' },
            { target: '#load.needsUser' },
          ],
        },
        loadingBackup: {
          invoke: {
            id: 'loadBackup',
            src: 'loadBackup',
            input: ({ context }) => ({ key: context.key, backupId: context.candidate!.id }),
            onDone: backupReadRoutes(),
            onError: backupReadRoutes(),
          },
        },
        // Scenario: the backup's read failed with EBUSY/EMFILE/EAGAIN. Read it again shortly, not an older one.
        retryingBackup: {
          after: { backupRetryDelay: { target: 'loadingBackup' } },
        },
        checkingBackup: {
          always: [
            { guard: 'isNewerVersion', target: 'choosing', actions: 'rejectNewerCandidate' },
            { guard: 'isOlderVersion', target: 'migratingBackup' },
            { target: 'restoring' },
          ],
        },
        migratingBackup: {
          invoke: {
            id: 'migrateBackup',
            src: 'migrate',
            input: ({ context }) => ({
              key: context.key,
              data: context.document!.data,
              fromVersion: context.document!.schemaVersion,
              toVersion: context.targetVersion,
            }),
            onDone: backupRoutes('restoring', 'storeMigrated'),
            onError: backupRoutes('restoring', 'storeMigrated'),
          },
        },
        restoring: {
          invoke: {
            id: 'restoreBackup',
            src: 'restoreBackup',
            input: ({ context }) => ({ key: context.key, backupId: context.candidate!.id }),
            onDone: { target: '#load.ready', actions: 'acceptRestored' },
            // Scenario: the atomic replace failed. The primary is absent (quarantined), so a retry recovers again.
            onError: { target: '#load.failed', actions: 'storeError' },
          },
        },
      },
    },
    needsUser: {
      entry: 'awaitUser',
      on: {
        'load.useBackup': {
          guard: 'isKnownBackup',
          target: 'recovering.loadingBackup',
          actions: 'pickBackup',
        },
        'load.startEmpty': { target: 'ready', actions: 'acceptStartEmpty' },
        'load.retry': { target: 'reading', actions: 'resetForRetry' },
      },
    },
    failed: {
      on: {
        'load.retry': { target: 'reading', actions: 'resetForRetry' },
      },
    },
    ready: { type: 'final' },
  },
})

// Routes shared by onDone and onError: a rejection and an `{ ok: false }` output mean the same thing. Functions, so
// that each handler gets its own transition objects.
function readingRoutes() {
  return [
    { guard: 'succeeded', target: 'verifying', actions: 'storeDocument' },
    // Scenario: no file. With backups it was lost (a crash between quarantine and restore): recover; else first run.
    { guard: 'isAbsent', target: 'recovering.listing', actions: 'noteAbsent' },
    { guard: 'isDamaged', target: 'recovering', actions: 'noteDamage' },
    { guard: 'isFutureVersion', target: 'ready', actions: 'acceptUndecodableFuture' },
    // Scenario: EACCES, EIO, too large... The file may be fine: never quarantine what could not be read.
    { target: 'failed', actions: 'storeError' },
  ] as const
}

function migratingRoutes() {
  return [
    { guard: 'succeeded', target: 'ready', actions: ['storeMigrated', 'acceptPrimary'] },
    // Scenario: the data cannot be brought to this version. The file is kept in quarantine, backups are tried.
    { guard: 'isDamaged', target: 'recovering', actions: 'noteDamage' },
    { target: 'failed', actions: 'storeError' },
  ] as const
}

// Reading a backup: a transient failure reads it again (bounded); any other is passed over, as below.
function backupReadRoutes() {
  return [
    { guard: 'succeeded', target: 'checkingBackup', actions: 'storeDocument' },
    { guard: 'mayReadBackupAgain', target: 'retryingBackup', actions: 'noteBackupRetry' },
    { target: 'choosing', actions: 'rejectCandidate' },
  ] as const
}

// A backup that fails for any reason is only passed over: it is never moved or changed, so it stays for later.
function backupRoutes(next: 'restoring', store: 'storeMigrated') {
  return [
    { guard: 'succeeded', target: next, actions: store },
    { target: 'choosing', actions: 'rejectCandidate' },
  ] as const
}
