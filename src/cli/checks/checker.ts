import type { PersistenceConfig } from '../../core/config'
import type { Repository, RepositoryEvent } from '../../core/repository-types'
import type { StorageBackend } from '../../core/storage'
import type { CompactAction, DocumentReport, Problem, RepairAction } from './report'

/**
 * The seam that lets `verify`, `repair` and `compact` grow with the storage format: each kind of file in a workspace
 * has one {@link KindChecker}, and the commands only walk the table in `checkers.ts`. Snapshot documents and caches
 * have one today; the append-only journals (`conversations/<id>.jsonl`, `project.journal.jsonl`) add theirs there
 * (torn tail: repairable by cutting it off into quarantine; a bad record in the middle: needs a choice).
 */

/** What every checker is given. */
export interface CheckContext {
  storage: StorageBackend
  /** Built over `storage` with the workspace's own persistence settings. */
  repository: Repository
  config: PersistenceConfig
  /** Every event the repository emitted so far, in order: a repair reads where a restore put the damaged copy. */
  events: RepositoryEvent[]
  /** The time the command started, ms since the epoch (cache expiry). */
  now: number
}

/** What a checker found of its kind in the workspace. */
export interface Discovery {
  /** Document keys: every primary file, and every document that only has backups left. */
  keys: string[]
  /** Files in the kind's folder that no key can name (workspace-relative); reported, never touched. */
  strays: string[]
}

/** One document checked: its report and the problems it has. */
export interface DocumentCheck {
  document: DocumentReport
  problems: Problem[]
}

/** Options of {@link KindChecker.repair}. */
export interface RepairOptions {
  /**
   * Move a damaged primary that has no valid backup into quarantine (the user's choice to start that document
   * empty). Without it such a file is left exactly as it is.
   */
  quarantineUnrecoverable: boolean
  /**
   * Accept the loadable prefix of a log or journal damaged in the middle: a copy of the damaged file goes to
   * quarantine and the document is rewritten from what loads. Without it such a document is left as it is.
   */
  keepJournalPrefix: boolean
}

/** Options of {@link KindChecker.compact}. */
export interface CompactOptions {
  /** Backups kept per document. */
  keep: number
}

/** What {@link KindChecker.compact} did. */
export interface CompactOutcome {
  actions: CompactAction[]
  skipped: { key: string; reason: string }[]
}

/** The checks, repairs and compaction of one kind of file. */
export interface KindChecker {
  /** The kind it owns: its key in the table, and `DocumentReport.kind` of what it reports. */
  readonly kind: string
  /** Finds the documents of this kind. Reads folder listings only. */
  discover(ctx: CheckContext): Promise<Discovery>
  /** Checks one document and its backups. Changes nothing on disk. */
  check(ctx: CheckContext, key: string): Promise<DocumentCheck>
  /**
   * Does what recovery on open would do for a document that {@link KindChecker.check} reported. Never deletes what
   * a user wrote: damaged files go to `.saveflow/quarantine/`. Reports failures as `failed` actions, never throws.
   */
  repair(ctx: CheckContext, check: DocumentCheck, options: RepairOptions): Promise<RepairAction[]>
  /** Applies the retention policy to all documents of the kind at once (some policies span a folder). */
  compact(ctx: CheckContext, checks: DocumentCheck[], options: CompactOptions): Promise<CompactOutcome>
}
