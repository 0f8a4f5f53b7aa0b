import type { SaveflowErrorCode } from '../../core/errors'

/**
 * The shapes `saveflow verify|repair|compact|backups --json` print. They are a public, versioned format
 * (`formatVersion`): fields are only ever added, never renamed or removed, and absent values are `null`, never
 * missing, so a script can rely on every key being there. `src/cli/README.md` documents them with examples.
 */

/** The version of every JSON report; raised only if a field ever has to change meaning. */
export const REPORT_FORMAT_VERSION = 1

/**
 * The state of a document's primary file:
 * - `ok`: read, checksum verified, valid for its schema (an older schema version counts: it migrates on load);
 * - `missing`: no file (a first run when there are no backups either);
 * - `corrupt`: the bytes are damaged (cut short, not JSON, checksum mismatch, wrong envelope);
 * - `invalid`: the checksum holds but the data fails its schema;
 * - `too-large`: larger than the kind's size limit, so it is not read;
 * - `future-version`: written by a newer version of saveflow or the app;
 * - `unreadable`: could not be read (permissions, I/O); its state is unknown;
 * - `expired`: caches only, older than their time to live.
 */
export type FileStatus =
  | 'ok'
  | 'missing'
  | 'corrupt'
  | 'invalid'
  | 'too-large'
  | 'future-version'
  | 'unreadable'
  | 'expired'

/** Why a file failed, as the storage layer said it. */
export interface FileError {
  /** The `SaveflowError` code. */
  code: SaveflowErrorCode
  /** For `corrupt`: the `CorruptReason` (`checksum-mismatch`, `malformed-json`, ...); else `null`. */
  reason: string | null
  /** The user-facing message. */
  message: string
}

/** One backup of a document. */
export interface BackupReport {
  /** The backup id (its file name), as `saveflow restore` takes it. */
  name: string
  /** Workspace-relative path. */
  path: string
  /** When it was taken (ISO 8601). */
  takenAt: string
  /** The document revision it holds. */
  revision: number
  /** Size in bytes; `null` when it could not be read. */
  size: number | null
  /** True when it verifies and can be restored. */
  valid: boolean
  status: Exclude<FileStatus, 'missing' | 'expired'>
  error: FileError | null
}

/** What the replay of a conversation log or the project journal found. */
export interface JournalInfo {
  /** The log or journal file. */
  path: string
  /** Whole records replayed (headers included). */
  records: number
  /** Bytes after the last whole save: an append a crash cut short, never acknowledged. */
  tornBytes: number
  /** Damage in the middle: the records after it were left out of the data. */
  damage: FileError | null
}

/** One document: its primary file and its backups. */
export interface DocumentReport {
  /** The document key: `project`, `settings`, `conversation/<id>`, `cache/<name>`. */
  key: string
  /** The checker that owns it (the document kind). */
  kind: string
  /** Workspace-relative path of the primary file. */
  path: string
  status: FileStatus
  /** From the file's envelope when it could be read; else `null`. */
  revision: number | null
  savedAt: string | null
  schemaVersion: number | null
  size: number | null
  error: FileError | null
  /** Journaled kinds (a conversation log, the project's journal) when they loaded; else `null`. */
  journal: JournalInfo | null
  /** Newest first; `[]` for kinds without backups. */
  backups: BackupReport[]
}

/**
 * What a problem means for the exit code:
 * - `info`: worth knowing, nothing to fix (an older schema version, an expired cache, backups over the limit);
 * - `repairable`: `saveflow repair` fixes it without any choice (exit code 1);
 * - `needs-choice`: nothing valid is left to recover from automatically (exit code 2).
 */
export type Severity = 'info' | 'repairable' | 'needs-choice'

/**
 * Problem codes. Snapshot documents: `primary-corrupt`, `primary-invalid`, `primary-missing` (backups exist),
 * `primary-too-large`, `primary-unreadable`, `future-version`, `older-version`; their backups: `backup-corrupt`,
 * `backup-unusable`, `backups-over-limit`; logs and journals: `journal-torn-tail`, `journal-bad-record`,
 * `legacy-file`; caches: `cache-invalid`, `cache-expired`; the workspace: `temp-file`, `unknown-file`.
 */
export type ProblemCode =
  | 'primary-corrupt'
  | 'primary-invalid'
  | 'primary-missing'
  | 'primary-too-large'
  | 'primary-unreadable'
  | 'future-version'
  | 'older-version'
  | 'backup-corrupt'
  | 'backup-unusable'
  | 'backups-over-limit'
  | 'journal-torn-tail'
  | 'journal-bad-record'
  | 'legacy-file'
  | 'cache-invalid'
  | 'cache-expired'
  | 'temp-file'
  | 'unknown-file'

/** One thing verify found. */
export interface Problem {
  code: ProblemCode
  severity: Severity
  /** The document it belongs to; `null` for workspace-level problems (temp files, unknown files). */
  key: string | null
  /** The workspace-relative file it is about. */
  path: string
  /** What is wrong, for a person. */
  message: string
  /** What `saveflow repair` (or the user) does about it; `null` when nothing needs doing. */
  fix: string | null
}

/** The overall verdict; maps one to one to the exit codes 0, 1 and 2. */
export type VerifyResult = 'healthy' | 'repairable' | 'needs-choice'

/** The lock file as found (not judged live or stale: verify only reads). */
export interface LockInfo {
  pid: number
  host: string
  /** ISO 8601. */
  startedAt: string
  /** ISO 8601 of the holder's last heartbeat. */
  heartbeatAt: string
}

/** `saveflow verify --json`. */
export interface VerifyReport {
  command: 'verify'
  formatVersion: typeof REPORT_FORMAT_VERSION
  /** Absolute path of the workspace. */
  workspace: string
  /** ISO 8601. */
  checkedAt: string
  result: VerifyResult
  exitCode: 0 | 1 | 2
  summary: {
    documents: number
    backups: number
    invalidBackups: number
    repairable: number
    needsChoice: number
    info: number
  }
  documents: DocumentReport[]
  problems: Problem[]
  /** Temp files a crash left (workspace-relative). */
  tempFiles: string[]
  /** Files already in `.saveflow/quarantine/` (workspace-relative). */
  quarantine: string[]
  /** The workspace lock file, when one exists: another process may be writing right now. */
  lock: LockInfo | null
}

/** One thing `repair` did (or failed to do). */
export type RepairAction =
  | { type: 'temp-file-removed'; key: null; path: string }
  | { type: 'backup-quarantined'; key: string; path: string; to: string }
  | {
      type: 'restored'
      key: string
      path: string
      /** The backup put in place. */
      backup: string
      revision: number
      /** Where a copy of the damaged file went, or `null` when there was no file. */
      quarantined: string | null
    }
  | { type: 'quarantined'; key: string; path: string; to: string }
  | { type: 'cache-dropped'; key: string; path: string; reason: string }
  | {
      type: 'journal-repaired'
      key: string
      /** The log or journal. */
      path: string
      /** Where a copy of it went before it was rewritten, or `null`. */
      quarantined: string | null
      /** Size of the document as rewritten. */
      bytes: number
    }
  | {
      type: 'failed'
      key: string | null
      path: string
      error: { code: string; message: string; hint: string }
    }

/** `saveflow repair --json`. */
export interface RepairReport {
  command: 'repair'
  formatVersion: typeof REPORT_FORMAT_VERSION
  workspace: string
  /** What verify found before. */
  before: { result: VerifyResult; problems: Problem[] }
  actions: RepairAction[]
  /** A full verify after the repair. */
  after: VerifyReport
  /** `after.exitCode`, or 6 when an action failed. */
  exitCode: number
}

/** One thing `compact` did. */
export type CompactAction =
  | {
      type: 'backup-pruned'
      key: string
      path: string
      revision: number
      takenAt: string
      size: number | null
    }
  | { type: 'cache-dropped'; key: string; path: string; reason: 'expired' | 'evicted'; size: number | null }
  | {
      type: 'journal-compacted'
      key: string
      path: string
      /** Size of the log (or snapshot and journal) before and after. */
      before: number | null
      after: number
      /** Bytes freed: `before - after` (0 when unknown). */
      size: number
    }

/** `saveflow compact --json`. */
export interface CompactReport {
  command: 'compact'
  formatVersion: typeof REPORT_FORMAT_VERSION
  workspace: string
  /** Backups kept per document. */
  keep: number
  actions: CompactAction[]
  /** Documents left alone, and why (a primary that does not verify keeps all its backups). */
  skipped: { key: string; reason: string }[]
  /** Bytes removed (links to a file still in use free nothing; counted anyway). */
  removedBytes: number
  exitCode: number
}

/** `saveflow backups --json`. */
export interface BackupsReport {
  command: 'backups'
  formatVersion: typeof REPORT_FORMAT_VERSION
  workspace: string
  documents: { key: string; path: string; backups: BackupReport[] }[]
}

/** `saveflow restore --json`. */
export interface RestoreReport {
  command: 'restore'
  formatVersion: typeof REPORT_FORMAT_VERSION
  workspace: string
  key: string
  path: string
  /** The backup now in place. */
  restored: { name: string; revision: number; takenAt: string }
  /** What happened to the file it replaced. */
  replaced: {
    /** The backup it became (restore it to undo), or `null` when it did not verify or did not exist. */
    keptAs: string | null
    revision: number | null
    /** Where a copy went when it did not verify, else `null`. */
    quarantined: string | null
  }
  /** The command that undoes this restore, or `null`. */
  undo: string | null
}

/** `saveflow backup --json`. */
export interface BackupNowReport {
  command: 'backup'
  formatVersion: typeof REPORT_FORMAT_VERSION
  workspace: string
  taken: { key: string; name: string; revision: number }[]
  /** Documents whose file did not verify: no backup of a damaged file is ever taken. */
  refused: { key: string; code: string; message: string }[]
}

/** `saveflow init --json`. */
export interface InitReport {
  command: 'init'
  formatVersion: typeof REPORT_FORMAT_VERSION
  workspace: string
  /** The preset (`empty`, `small`, `large`). */
  sample: string
  seed: number
  nodes: number
  conversations: number
  messages: number
  totalBytes: number
  /** Every file written, in order. */
  files: { key: string; path: string; bytes: number; revision: number }[]
}
