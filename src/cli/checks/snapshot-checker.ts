import { listBackups, pruneBackups } from '../../core/backups'
import type { DocumentDefinition } from '../../core/documents'
import { ERROR_TEXT, toSaveflowError } from '../../core/errors'
import {
  BACKUPS_DIR,
  backupDir,
  CONVERSATIONS_DIR,
  companionPaths,
  documentPath,
  ID_PATTERN,
  isTempFileName,
  joinPath,
} from '../../core/paths'
import { quarantinedCopiesOf } from '../../core/quarantine'
import type { DocumentKind } from '../../core/status'
import { FIX_TEXT, PROBLEM_TEXT } from '../text'
import type {
  CheckContext,
  CompactOptions,
  CompactOutcome,
  Discovery,
  DocumentCheck,
  KindChecker,
  RepairOptions,
} from './checker'
import { fileError, type Inspected, inspectBackups, inspectDocument } from './inspect-file'
import type { CompactAction, DocumentReport, Problem, RepairAction } from './report'

/**
 * The checker of the documents that have backups: `settings.json`, `project.json` with `project.journal.jsonl`, and
 * the conversation logs `conversations/<id>.jsonl`. Its repair is the load machine's recovery, run ahead of time: a
 * damaged (`corrupt`, `invalid-data`) or missing primary is replaced by the newest backup that verifies, a damaged
 * backup is quarantined, a torn log tail is cut off (a copy kept). A document with no valid copy left (its file
 * missing or damaged, every backup damaged) needs a choice: its damaged backups stay where they are unless
 * `--quarantine-unrecoverable` is given, so a plain repair never turns it into what looks like a first run. What the load machine leaves alone (too large,
 * unreadable, a newer version) is left alone here too, and so is a log damaged in the middle, unless asked.
 */

type SnapshotKind = Exclude<DocumentKind, 'cache'>

/** Reads a document's primary file(s) without changing anything; see {@link inspectDocument}. */
export type InspectPrimary = (
  ctx: CheckContext,
  key: string,
  definition: DocumentDefinition,
) => Promise<Inspected>

/** Options of {@link snapshotChecker}. */
export interface SnapshotCheckerOptions {
  /**
   * How the primary is read. Backups are snapshot files in every layout, so a kind with a new layout reuses this
   * checker's backups, repair and compaction and only brings its own read-only reader here.
   * @default {@link inspectDocument}: the snapshot file, log or snapshot and journal, as the kind's layout says
   */
  inspectPrimary?: InspectPrimary
}

const inspectPrimaryDefault: InspectPrimary = (ctx, key, definition) =>
  inspectDocument(ctx.storage, key, definition)

/** Creates the checker of one snapshot kind. */
export function snapshotChecker(kind: SnapshotKind, options: SnapshotCheckerOptions = {}): KindChecker {
  const inspectPrimary = options.inspectPrimary ?? inspectPrimaryDefault
  return {
    kind,
    discover: (ctx) => (kind === 'conversation' ? discoverConversations(ctx) : single(kind)),
    check: (ctx, key) => checkSnapshotDocument(ctx, kind, key, inspectPrimary),
    repair: repairSnapshotDocument,
    compact: compactSnapshotDocuments,
  }
}

async function single(key: 'project' | 'settings'): Promise<Discovery> {
  // Always reported, even when absent: "missing" is worth seeing in a workspace listing.
  return { keys: [key], strays: [] }
}

/**
 * Conversation files, plus conversations that only have backups left (a crash between quarantine and restore). A
 * file counts when it is the very file `documentPath` (or, for an earlier version's snapshot, `companionPaths`)
 * names for its id, so discovery follows the layout the repository writes; anything else is a stray, left alone.
 */
async function discoverConversations(ctx: CheckContext): Promise<Discovery> {
  const ids = new Set<string>()
  const strays: string[] = []
  for (const entry of await ctx.storage.list(CONVERSATIONS_DIR)) {
    const path = joinPath(CONVERSATIONS_DIR, entry.name)
    // Temp files are reported by the workspace-wide temp file check.
    if (!entry.isDirectory && isTempFileName(entry.name)) continue
    const dot = entry.name.indexOf('.')
    const id = dot === -1 ? entry.name : entry.name.slice(0, dot)
    const known =
      !entry.isDirectory &&
      ID_PATTERN.test(id) &&
      (documentPath(`conversation/${id}`) === path || companionPaths(`conversation/${id}`).legacy === path)
    if (known) ids.add(id)
    else strays.push(path)
  }
  const backupRoot = joinPath(BACKUPS_DIR, 'conversation')
  for (const entry of await ctx.storage.list(backupRoot)) {
    if (!entry.isDirectory || !ID_PATTERN.test(entry.name) || ids.has(entry.name)) continue
    if ((await listBackups(ctx.storage, `conversation/${entry.name}`)).length > 0) ids.add(entry.name)
  }
  return { keys: [...ids].sort().map((id) => `conversation/${id}`), strays }
}

async function checkSnapshotDocument(
  ctx: CheckContext,
  kind: string,
  key: string,
  inspectPrimary: InspectPrimary,
): Promise<DocumentCheck> {
  const definition = ctx.repository.definitionFor(key)
  const path = documentPath(key)
  const primary = await inspectPrimary(ctx, key, definition)
  const backups = await inspectBackups(ctx.storage, definition, key)
  const document: DocumentReport = {
    key,
    kind,
    path,
    status: primary.status,
    revision: primary.snapshot?.revision ?? null,
    savedAt: primary.snapshot?.savedAt ?? null,
    schemaVersion: primary.snapshot?.schemaVersion ?? null,
    size: primary.size,
    error: primary.error,
    journal:
      primary.journal === null
        ? null
        : {
            path: primary.journal.path,
            records: primary.journal.records,
            tornBytes: primary.journal.tornBytes,
            damage: primary.journal.damage === undefined ? null : fileError(primary.journal.damage),
          },
    backups,
  }

  const problems: Problem[] = []
  const add = (problem: Omit<Problem, 'key'>) => problems.push({ key, ...problem })
  const valid = backups.find((backup) => backup.valid)
  const onlyCopies = noValidCopy(primary.status, backups)
  const message = primary.error?.message ?? ''
  switch (primary.status) {
    case 'ok': {
      const version = primary.snapshot?.schemaVersion ?? definition.schemaVersion
      if (version < definition.schemaVersion) {
        add({
          code: 'older-version',
          severity: 'info',
          path,
          message: PROBLEM_TEXT.olderVersion,
          fix: FIX_TEXT.olderVersion(version, definition.schemaVersion),
        })
      }
      const journal = primary.journal
      if (journal?.damage !== undefined) {
        add({
          code: 'journal-bad-record',
          severity: 'needs-choice',
          path: journal.path,
          message: journal.damage.message,
          fix: FIX_TEXT.badRecord(primary.snapshot?.revision ?? 0),
        })
      } else if (journal !== null && journal.tornBytes > 0) {
        add({
          code: 'journal-torn-tail',
          severity: 'repairable',
          path: journal.path,
          message: PROBLEM_TEXT.tornTail(journal.tornBytes),
          fix: FIX_TEXT.tornTail,
        })
      }
      if (primary.legacy !== null) {
        add({
          code: 'legacy-file',
          severity: 'info',
          path: primary.legacy,
          message: PROBLEM_TEXT.legacyFile,
          fix: FIX_TEXT.legacyFile,
        })
      }
      break
    }
    case 'missing':
      if (backups.length > 0) {
        // A recovery the app began and did not finish leaves the damaged file in quarantine: say where.
        const [moved] = await quarantinedCopiesOf(ctx.storage, path)
        add({
          code: 'primary-missing',
          severity: valid === undefined ? 'needs-choice' : 'repairable',
          path,
          message:
            moved === undefined
              ? PROBLEM_TEXT.missingWithBackups
              : PROBLEM_TEXT.missingQuarantined(moved.path, moved.reason),
          fix:
            valid === undefined
              ? FIX_TEXT.missingNoValidBackup
              : FIX_TEXT.restoreMissing(valid.name, valid.revision),
        })
      }
      break
    case 'corrupt':
    case 'invalid': {
      const reason = primary.error?.reason
      add({
        code: primary.status === 'corrupt' ? 'primary-corrupt' : 'primary-invalid',
        severity: valid === undefined ? 'needs-choice' : 'repairable',
        path: primary.path,
        message: reason === null || reason === undefined ? message : `${message} (${reason})`,
        fix: valid === undefined ? FIX_TEXT.noValidBackup : FIX_TEXT.restore(valid.name, valid.revision),
      })
      break
    }
    case 'too-large':
      add({
        code: 'primary-too-large',
        severity: 'needs-choice',
        path: primary.path,
        message,
        fix: FIX_TEXT.tooLarge,
      })
      break
    case 'future-version':
      add({
        code: 'future-version',
        severity: 'needs-choice',
        path: primary.path,
        message,
        fix: FIX_TEXT.futureVersion,
      })
      break
    default: {
      const code = primary.error?.code ?? 'io'
      add({
        code: 'primary-unreadable',
        severity: 'needs-choice',
        path: primary.path,
        message,
        fix: FIX_TEXT.unreadable(ERROR_TEXT[code].hint),
      })
    }
  }

  for (const backup of backups) {
    if (backup.valid) continue
    const reason = backup.error?.reason
    const text = backup.error?.message ?? backup.status
    const corrupt = backup.status === 'corrupt'
    add({
      code: corrupt ? 'backup-corrupt' : 'backup-unusable',
      // The only copies left are not moved by a plain repair: that is part of the document's choice.
      severity: corrupt ? (onlyCopies ? 'needs-choice' : 'repairable') : 'info',
      path: backup.path,
      message: reason === null || reason === undefined ? text : `${text} (${reason})`,
      fix: corrupt
        ? onlyCopies
          ? FIX_TEXT.keepOnlyBackup
          : FIX_TEXT.quarantineBackup
        : FIX_TEXT.unusableBackup,
    })
  }
  const keep = ctx.config.backupCount
  if (backups.length > keep) {
    add({
      code: 'backups-over-limit',
      severity: 'info',
      path: backupDir(key),
      message: PROBLEM_TEXT.overLimit(backups.length),
      fix: FIX_TEXT.overLimit(backups.length - keep, keep),
    })
  }
  return { document, problems }
}

async function repairSnapshotDocument(
  ctx: CheckContext,
  check: DocumentCheck,
  options: RepairOptions,
): Promise<RepairAction[]> {
  const { document } = check
  const { key, path } = document
  const actions: RepairAction[] = []
  const attempt = async (target: string, step: () => Promise<RepairAction | null>) => {
    try {
      const action = await step()
      if (action !== null) actions.push(action)
    } catch (error) {
      const e = toSaveflowError(error)
      actions.push({
        type: 'failed',
        key,
        path: target,
        error: { code: e.code, message: e.message, hint: e.hint },
      })
    }
  }

  // Damaged backups first: they never count as a way back, and nothing below reads them. Unless they are all that is
  // left of the document: then they stay, unless asked (moving them would leave what looks like a first run).
  const keepBackups = noValidCopy(document.status, document.backups) && !options.quarantineUnrecoverable
  for (const backup of document.backups) {
    if (backup.status !== 'corrupt' || keepBackups) continue
    await attempt(backup.path, async () => {
      const moved = await ctx.repository.quarantineBackup(key, backup.name, backup.error?.reason ?? 'corrupt')
      return { type: 'backup-quarantined', key, path: backup.path, to: moved.to }
    })
  }

  const journal = document.journal
  if (document.status === 'ok' && journal !== null) {
    const torn = journal.damage === null && journal.tornBytes > 0
    const accepted = journal.damage !== null && options.keepJournalPrefix
    if (torn || accepted) {
      await attempt(journal.path, async () => {
        const seen = ctx.events.length
        // Compaction writes the document whole from what loads, after keeping a copy of the torn or damaged file
        // in quarantine: the same step the app's next write would take.
        const written = await ctx.repository.compact(key)
        const copy = ctx.events
          .slice(seen)
          .find(
            (event) =>
              event.type === 'quarantined' && event.key === key && event.result.from === journal.path,
          )
        return {
          type: 'journal-repaired',
          key,
          path: journal.path,
          quarantined: copy?.type === 'quarantined' ? copy.result.to : null,
          bytes: written.bytes,
        }
      })
    }
  }

  const damaged = document.status === 'corrupt' || document.status === 'invalid'
  const lost = document.status === 'missing' && document.backups.length > 0
  if (!damaged && !lost) return actions
  const valid = document.backups.find((backup) => backup.valid)
  if (valid !== undefined) {
    await attempt(path, async () => {
      const seen = ctx.events.length
      // A damaged project first goes to quarantine with its journal, as recovery on open does: a journal that starts
      // at this backup is then replayed on it, so the saves after the backup come back (journal-salvage.ts).
      if (damaged && key === 'project') {
        await ctx.repository.quarantine(key, document.error?.reason ?? document.status)
      }
      // restoreBackup keeps a copy of a damaged file in quarantine before it replaces it, so no crash in between
      // leaves the document without a file (see Repository.restoreBackup).
      const restored = await ctx.repository.restoreBackup(key, valid.name)
      const copy = ctx.events
        .slice(seen)
        .find((event) => event.type === 'quarantined' && event.key === key && event.result.from === path)
      return {
        type: 'restored',
        key,
        path,
        backup: valid.name,
        revision: restored.revision,
        quarantined: copy?.type === 'quarantined' ? copy.result.to : null,
      }
    })
  } else if (damaged && options.quarantineUnrecoverable) {
    await attempt(path, async () => {
      const moved = await ctx.repository.quarantine(key, document.error?.reason ?? document.status)
      return { type: 'quarantined', key, path, to: moved.to }
    })
  }
  return actions
}

/**
 * True when nothing of the document verifies: its file is missing or damaged and no backup is valid, while damaged
 * backups exist. Those backups are then the only copies of it outside quarantine.
 */
function noValidCopy(status: string, backups: readonly { valid: boolean; status: string }[]): boolean {
  const lost = status === 'missing' || status === 'corrupt' || status === 'invalid'
  return (
    lost && backups.some((backup) => backup.status === 'corrupt') && !backups.some((backup) => backup.valid)
  )
}

async function compactSnapshotDocuments(
  ctx: CheckContext,
  checks: DocumentCheck[],
  options: CompactOptions,
): Promise<CompactOutcome> {
  const actions: CompactAction[] = []
  const skipped: CompactOutcome['skipped'] = []
  for (const { document, problems } of checks) {
    const needsRepair = problems.some((problem) => problem.severity !== 'info')
    // Backups are the only way back for a document whose file does not verify: keep every one of them. A damaged
    // log is not compacted either: that would drop what follows the damage, a choice left to the user.
    if (document.status !== 'ok' || needsRepair) {
      if (document.backups.length > options.keep || document.journal !== null) {
        skipped.push({ key: document.key, reason: `it needs "saveflow repair" first (${document.status})` })
      }
      continue
    }
    if (document.backups.length > options.keep) {
      const sizes = new Map(document.backups.map((backup) => [backup.name, backup.size]))
      for (const removed of await pruneBackups(ctx.storage, document.key, options.keep)) {
        actions.push({
          type: 'backup-pruned',
          key: document.key,
          path: removed.path,
          revision: removed.revision,
          takenAt: new Date(removed.takenAt).toISOString(),
          size: sizes.get(removed.name) ?? null,
        })
      }
    }
    if (ctx.repository.definitionFor(document.key).layout === 'snapshot') continue
    // Drops the records later saves made dead (and rewrites an earlier version's snapshot as a log).
    const written = await ctx.repository.compact(document.key)
    if (written.bytes === 0) continue
    const before = document.size
    actions.push({
      type: 'journal-compacted',
      key: document.key,
      path: document.journal?.path ?? document.path,
      before,
      after: written.bytes,
      size: before === null ? 0 : Math.max(0, before - written.bytes),
    })
  }
  return { actions, skipped }
}
